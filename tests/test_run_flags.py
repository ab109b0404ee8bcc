"""Settings make their own flags: every setting of a run is a ``run`` option made from its
metadata (atwu.config), a configuration written back as a command line (atwu.run_flags.run_argv,
what the app launches) parses to the same configuration, and the app's commands come from it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from atwu.app import first_run, run_commands
from atwu.cli import build_parser
from atwu.cli.run_args import config_from_args
from atwu.config import BenchmarkOptions, LoraOptions, RunConfig, TrainSettings
from atwu.run_flags import flag_of, run_argv, run_settings

NOT_FLAGS = {
    "method": "--method, written by hand (it is required and names the registry's methods)",
    "params": "--set KEY=VALUE, one per method parameter",
    "threads": "chosen by the engine from the model's size; a config.json may set it",
    "name": "the run directory's name, given by --out",
    "sweep_id": "set by sweep (--sweep-id) and frontier for the runs they make",
    "tags": "set by frontier (the variant and strength of each run)",
}
"""RunConfig fields that are no flag of ``run``, and why."""


def parse(argv: list[str]) -> RunConfig:
    """What ``python -m atwu`` makes of a ``run`` command line."""
    return config_from_args(build_parser().parse_args([*argv, "--out", "/tmp/unused"]))


def test_every_setting_has_a_flag():
    paths = {s.path for s in run_settings()}
    for cls, owner in (
        (TrainSettings, "train"),
        (BenchmarkOptions, "benchmark_options"),
        (LoraOptions, "lora"),
    ):
        for f in dataclasses.fields(cls):
            assert (owner, f.name) in paths, f"{owner}.{f.name} has no flag"
    for f in dataclasses.fields(RunConfig):
        if f.name in ("train", "benchmark_options", "lora") or f.name in NOT_FLAGS:
            continue
        assert (f.name,) in paths, f"RunConfig.{f.name} has no flag and no reason in NOT_FLAGS"
    flags = [s.flag for s in run_settings() if s.flag] + [
        s.off_flag for s in run_settings() if s.off_flag
    ]
    assert len(flags) == len(set(flags)), "two settings share a flag"


def test_flags_are_named_from_the_fields_unless_they_say_otherwise():
    assert flag_of(("train", "lr")) == "--lr"
    assert flag_of(("train", "forget_batch_size")) == "--forget-batch-size"
    assert flag_of(("evaluate",)) == "--no-eval"
    assert flag_of(("lora", "target_modules")) == "--lora-targets"
    assert flag_of(("benchmark_options", "data_dir")) == "--data-dir"


def test_help_keeps_every_old_option_and_adds_the_training_settings():
    text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()  # type: ignore[union-attr]
    for flag in (
        "--epochs",
        "--steps",
        "--checkpoint-every",
        "--checkpoints",
        "--lr",
        "--seed",
        "--device",
        "--set",
        "--quick",
        "--no-eval",
        "--save-model",
        "--no-save-model",
        "--trust-remote-code",
        "--overwrite",
        "--allow-hub",
        "--data-dir",
        "--rwku-retain {neighbor,none}",
        "--dtype {float32,bfloat16,float16}",
        "--lora-targets",
        "--gradient-checkpointing",
        "--forget-batch-size",
    ):
        assert flag in text, flag
    assert "passes over the forget split (default: 12)" in text
    assert "real benchmarks (--benchmark tofu | rwku" in text


def test_a_default_config_is_the_shortest_command():
    assert run_argv(RunConfig(method="wga")) == ["run", "--method", "wga"]
    assert parse(["run", "--method", "wga"]) == RunConfig(method="wga")


def test_config_to_argv_to_config_round_trips(tmp_path):
    data = tmp_path / "tofu-files"
    data.mkdir()
    cfg = RunConfig(
        method="atwu",
        params={"scorer_lr": "0.05", "gamma": "2"},
        benchmark="tofu",
        split="forget05",
        model="/models/full",
        aux_model="/models/base",
        seed=3,
        device="cpu",
        evaluate=False,
        quick=True,
        save_model=False,
        trust_remote_code=True,
        benchmark_options={"data_dir": str(data), "retain_logs": str(data)},
        dtype="bfloat16",
        lora={"r": 4, "alpha": 16, "dropout": 0.1, "target_modules": "q_proj,v_proj"},
        gradient_checkpointing=True,
    )
    cfg.train = TrainSettings(
        epochs=None,
        steps=40,
        forget_batch_size=8,
        lr=1e-5,
        warmup_steps=3,
        schedule="linear",
        checkpoint_every=10,
        early_checkpoints=2,
        record_examples=5,
    )
    argv = run_argv(cfg)
    assert argv[:3] == ["run", "--method", "atwu"]
    assert argv[argv.index("--steps") + 1] == "40" and "--epochs" not in argv
    assert "--no-eval" in argv and "--no-save-model" in argv and "--lora" in argv
    assert parse(argv) == cfg

    cfg.train = TrainSettings(epochs=3.0)
    cfg.save_model = True
    argv = run_argv(cfg)
    assert argv[argv.index("--epochs") + 1] == "3.0" and "--steps" not in argv
    assert parse(argv) == cfg


def test_keep_defaults_writes_a_setting_at_its_default():
    cfg = RunConfig(method="wga")
    assert run_argv(cfg, keep_defaults=("seed",)) == ["run", "--method", "wga", "--seed", "0"]


def test_the_app_launches_what_run_argv_writes(monkeypatch):
    written: list[RunConfig] = []
    real = run_commands.run_argv

    def spy(cfg: RunConfig, **kwargs) -> list[str]:
        written.append(cfg)
        return real(cfg, **kwargs)

    monkeypatch.setattr(run_commands, "run_argv", spy)
    default_dir = Path("/home/me/.atwu/benchmarks/embedded")
    plan = run_commands.plan_runs(
        run_commands.BenchmarkChoice(default_dir, path=Path("/data/mine")),
        run_commands.ModelChoice(),
        ["wga"],
        {},
        run_commands.TrainingForm(
            epochs=12.0, default_epochs=12.0, steps=7, lr_text="1e-3", seed=2
        ),
        stamp="t",
    )
    assert [cfg.method for cfg in written] == ["wga"]
    (_, argv), *_ = plan.commands
    assert parse(argv) == written[0]
    assert written[0].train.steps == 7 and written[0].seed == 2
    assert first_run.first_run_args() == run_argv(RunConfig(method="atwu", quick=True))


@pytest.mark.parametrize("flag", ["--data-dir", "--lora-r"])
def test_options_of_a_part_not_chosen_are_refused(flag):
    with pytest.raises(ValueError, match=flag.split("-")[-1]):
        parse(["run", "--method", "wga", flag, "4"])
