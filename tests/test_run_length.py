"""How long a run is by default: passes over the forget split (so a small forget set is not
over-trained), six checkpoints, and ATWU's scorer warm-up as a share of the run."""

from __future__ import annotations

import pytest

from atwu import cli
from atwu.cli import run_args
from atwu.config import RunConfig, TrainSettings
from atwu.io import read_json, read_jsonl
from atwu.runs.read import read_weights
from atwu.train.loop import Trainer


@pytest.mark.slow
def test_default_run_is_twelve_passes_with_six_checkpoints_and_a_proportional_warmup(
    small_benchmark, tmp_path
):
    out = tmp_path / "run"
    Trainer(
        RunConfig(
            method="atwu", evaluate=False, save_model=False, train=TrainSettings(record_examples=8)
        ),
        out,
    ).run()
    resolved = read_json(out / "config.json")["resolved"]
    # forget10 of the 20-author fixture: 20 pairs, 2 batches of 16 per pass, 12 passes
    assert resolved["total_steps"] == 24
    assert resolved["checkpoint_every"] == 4
    assert sorted(read_weights(out)["step"].unique()) == [0, 4, 8, 12, 16, 20, 24]
    # 20% of 24 steps: the scorer is held still for 5 steps, then learns at every step
    assert resolved["method"]["scorer_warmup_steps"] == 5
    with_scorer = [m["step"] for m in read_jsonl(out / "train_log.jsonl") if "scorer_loss" in m]
    assert with_scorer == list(range(6, 25))


@pytest.mark.slow
def test_steps_replace_epochs_and_a_fixed_warmup_is_kept(small_benchmark, tmp_path):
    out = tmp_path / "run"
    Trainer(
        RunConfig(
            method="atwu",
            evaluate=False,
            save_model=False,
            params={"scorer_warmup_steps": 2},
            train=TrainSettings(steps=7, record_examples=8),
        ),
        out,
    ).run()
    resolved = read_json(out / "config.json")["resolved"]
    assert resolved["total_steps"] == 7 and resolved["checkpoint_every"] == 2
    assert resolved["method"]["scorer_warmup_steps"] == 2
    assert sorted(read_weights(out)["step"].unique()) == [0, 2, 4, 6, 7]


def test_cli_refuses_steps_and_epochs_together(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--method", "atwu", "--steps", "5", "--epochs", "2"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_cli_epochs_clear_a_configs_steps():
    parser = cli.build_parser()
    args = parser.parse_args(["run", "--method", "atwu", "--epochs", "3"])
    cfg = run_args.config_from_args(args, RunConfig(method="atwu", train=TrainSettings(steps=40)))
    assert cfg.train.epochs == 3 and cfg.train.steps is None
