"""Runs that several test modules read, trained once per session (fixtures in conftest.py).

A test that changes a shared run's directory copies it first (``shutil.copytree`` into its
``tmp_path``): the others read the same directory after it.
"""

from __future__ import annotations

from atwu.config import RunConfig, TrainSettings

ATWU_STEPS, ATWU_EVERY, ATWU_RECORDED = 50, 25, 20


def atwu_50_steps_config() -> RunConfig:
    """ATWU with its default parameters (the scorer held still for 20 % of the run: steps 1-10),
    50 steps on forget10, checkpoints at 0, 25 and 50, 20 examples recorded, no evaluation."""
    return RunConfig(
        method="atwu",
        evaluate=False,
        train=TrainSettings(
            steps=ATWU_STEPS, checkpoint_every=ATWU_EVERY, record_examples=ATWU_RECORDED
        ),
    )
