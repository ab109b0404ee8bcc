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


def test_early_checkpoints_are_spread_over_the_first_quarter():
    """METHOD.md §4.6: a frontier run that crosses FFE 0.5 early still has close checkpoints."""
    from atwu.train.resolve import checkpoint_steps

    assert checkpoint_steps(48, 4) == frozenset(range(4, 49, 4))
    dense = checkpoint_steps(48, 4, early=6)
    assert sorted(s for s in dense if s <= 12) == [2, 4, 6, 8, 10, 12]
    assert len(dense) >= 12 + 3 and max(dense) == 48
    # a step count that the spacing does not divide still ends on the last step
    assert max(checkpoint_steps(50, 7)) == 50 and 49 in checkpoint_steps(50, 7)


def test_frontier_runs_checkpoint_densely_early(tmp_path):
    from atwu.analysis.frontier_run import plan_frontier, settings
    from atwu.analysis.variants import VARIANTS

    sweep = plan_frontier(settings([VARIANTS["uniform"]], [1.0]), seeds=1, out=tmp_path)
    train = sweep.specs[0].config.train
    assert train.checkpoints >= 12 and train.early_checkpoints >= 6
