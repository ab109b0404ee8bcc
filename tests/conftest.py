"""Shared fixtures: one small prepared benchmark per test session, an isolated ATWU_HOME, and
the runs several modules read (trained once, see shared_runs.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def atwu_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("atwu_home")
    os.environ["ATWU_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def small_benchmark(atwu_home) -> Path:
    """A 20-author embedded benchmark with full, retain90 and base models (about a minute)."""
    from atwu.paths import default_benchmark_dir
    from atwu.prepare.build import PrepareOptions, prepare_embedded

    out = default_benchmark_dir()
    prepare_embedded(out, PrepareOptions(authors=20, retain_splits=("retain90",), seed=0))
    return out


@pytest.fixture(scope="session")
def atwu_50_steps(small_benchmark, tmp_path_factory) -> Path:
    """The run of ``shared_runs.atwu_50_steps_config()`` on the session's benchmark, with its
    model, scorer and resumable state saved (read it; copy it to change it)."""
    from shared_runs import atwu_50_steps_config

    from atwu.train.loop import Trainer

    out = tmp_path_factory.mktemp("shared_runs") / "atwu-50-steps"
    Trainer(atwu_50_steps_config(), out).run()
    return out
