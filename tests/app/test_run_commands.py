"""The Run page's form read back without Streamlit: the commands it means, what blocks a launch,
the preview, the run length, the launch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from atwu.app import jobs
from atwu.app.cli_text import ATWU
from atwu.app.run_commands import (
    BenchmarkChoice,
    ModelChoice,
    TrainingForm,
    benchmark_caption,
    hub_extra,
    launch_all,
    launch_label,
    launch_plan,
    launches_caption,
    plan_runs,
    preview,
    run_length_text,
)

DEFAULT_DIR = Path("/home/me/.atwu/benchmarks/embedded")
SUMMARY = {
    "name": "embedded",
    "kind": "embedded",
    "default_split": "forget10",
    "forget_splits": {"forget10": "retain90", "forget05": "retain95"},
    "splits": pd.DataFrame(
        {"split": ["forget10", "forget05"], "examples": [40, 20], "role": ["", ""]}
    ),
}
EMBEDDED = BenchmarkChoice(DEFAULT_DIR, path=DEFAULT_DIR, summary=SUMMARY, split="forget10")
FORM = TrainingForm(epochs=12.0, default_epochs=12.0, lr_text="1e-05")
TARGET = ModelChoice()


def _plan(bench=EMBEDDED, model=TARGET, methods=("atwu",), values=None, **form):
    training = dataclasses.replace(FORM, **form)
    return plan_runs(bench, model, list(methods), values or {}, training, stamp="20260101-000000")


def _flag(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


def test_defaults_give_the_shortest_command():
    plan = _plan()
    assert plan.ready and not plan.errors and not plan.missing
    ((name, args),) = plan.commands
    assert name == "atwu-s0-20260101-000000"
    # the default benchmark, split and epochs are left to the CLI
    assert args == ["run", "--method", "atwu", "--lr", "1e-05", "--seed", "0"]


def test_one_command_per_method_and_seed_named_by_prefix_method_and_seed():
    plan = _plan(methods=("atwu", "wga"), seed=3, n_seeds=2, prefix="my run/")
    names = [name for name, _ in plan.commands]
    assert names == [
        "my-run-atwu-s3-20260101-000000",  # the prefix made safe for a path
        "my-run-atwu-s4-20260101-000000",
        "my-run-wga-s3-20260101-000000",
        "my-run-wga-s4-20260101-000000",
    ]
    assert [_flag(a, "--seed") for _, a in plan.commands] == ["3", "4", "3", "4"]


def test_steps_replace_epochs_and_changed_settings_are_passed():
    args = _plan(steps=7, epochs=3.0, checkpoint_every=5, device="cpu").commands[0][1]
    assert _flag(args, "--steps") == "7" and "--epochs" not in args
    assert _flag(args, "--checkpoint-every") == "5" and _flag(args, "--device") == "cpu"
    args = _plan(epochs=3.0, quick=True, evaluate=False).commands[0][1]
    assert _flag(args, "--epochs") == "3.0" and "--steps" not in args
    assert "--quick" in args and "--no-eval" in args


def test_a_changed_hyperparameter_becomes_a_set_and_a_bad_one_an_error():
    args = _plan(methods=("wga",), values={"wga": {"beta": "2"}}).commands[0][1]
    assert "beta=2" in args[args.index("--set") + 1]
    plan = _plan(values={"atwu": {"scorer_lr": "fast"}})
    assert not plan.ready and any("scorer_lr" in e for e in plan.errors)


def test_another_split_or_directory_is_named():
    forget05 = BenchmarkChoice(DEFAULT_DIR, path=DEFAULT_DIR, summary=SUMMARY, split="forget05")
    args = _plan(bench=forget05).commands[0][1]
    assert _flag(args, "--split") == "forget05" and "--benchmark" not in args
    other = BenchmarkChoice(DEFAULT_DIR, path=Path("/data/mine"), summary=SUMMARY, split="forget10")
    args = _plan(bench=other).commands[0][1]
    assert _flag(args, "--benchmark") == "/data/mine" and "--split" not in args


def test_hub_benchmarks_need_a_model_of_their_own(tmp_path):
    tofu = BenchmarkChoice(
        DEFAULT_DIR, hub="tofu", hub_split="forget05", hub_extra=hub_extra("tofu", " /d ", "3")
    )
    plan = _plan(bench=tofu)
    assert any("TOFU has no model of its own" in e for e in plan.errors) and not plan.ready
    plan = _plan(bench=tofu, model=ModelChoice("hub", "org/model"))
    assert plan.ready
    args = plan.commands[0][1]
    assert _flag(args, "--benchmark") == "tofu" and _flag(args, "--split") == "forget05"
    assert _flag(args, "--model") == "org/model" and "--allow-hub" in args  # chosen in the form
    assert args[-2:] == ["--data-dir", "/d"] and "--targets" not in args  # targets: RWKU only
    assert hub_extra("rwku", "", " 1-10 ") == ("--targets", "1-10")


@pytest.mark.parametrize(
    ("kwargs", "missing", "error"),
    [
        ({"methods": ()}, "choose at least one method", None),
        ({"bench": BenchmarkChoice(DEFAULT_DIR)}, "choose a prepared benchmark", None),
        (
            {"bench": BenchmarkChoice(DEFAULT_DIR, path=Path("/nowhere"))},
            "choose a prepared benchmark",
            None,
        ),
        ({"model": ModelChoice("hub")}, "type the model's hub id or path", None),
        ({"model": ModelChoice("path", "/no/such/model")}, None, "model path /no/such/model"),
        ({"lr_text": "fast"}, None, "lr must be a positive number, got 'fast'"),
        ({"lr_text": "0"}, None, "lr must be a positive number"),
    ],
)
def test_what_blocks_a_launch_is_said(kwargs, missing, error):
    plan = _plan(**kwargs)
    assert not plan.ready
    if missing:
        assert any(missing in m for m in plan.missing), plan.missing
    if error:
        assert any(error in e for e in plan.errors), plan.errors


def test_a_local_model_path_that_exists_is_accepted(tmp_path):
    plan = _plan(model=ModelChoice("path", str(tmp_path)))
    assert plan.ready and _flag(plan.commands[0][1], "--model") == str(tmp_path)


def test_preview_shows_four_commands_and_counts_the_rest():
    plan = _plan(methods=("atwu", "wga"), n_seeds=3)
    text = preview(plan.commands, Path("/runs"))
    lines = text.splitlines()
    assert len(lines) == 5 and lines[-1] == "# … and 2 more"
    assert lines[0].startswith(f"{ATWU} run --method atwu")  # as it works from the checkout
    assert lines[0].endswith("--out /runs/atwu-s0-20260101-000000")
    assert "and" not in preview(plan.commands[:4], Path("/runs"))
    assert launch_label(1) == "Launch 1 run" and launch_label(6) == "Launch 6 runs"


def test_run_length_and_benchmark_caption():
    # 40 pairs, batches of 16: 3 per pass
    assert run_length_text(SUMMARY, "forget10", 12.0, 0) == (
        "Run length: 36 steps (12 passes over the 40 pairs of forget10, batch 16)."
    )
    assert run_length_text(SUMMARY, "forget05", 2.5, 0).startswith("Run length: 5 steps (2.5 ")
    assert run_length_text(SUMMARY, "forget10", 12.0, 7) == (
        "Run length: 7 steps (steps given; epochs ignored)."
    )
    assert benchmark_caption(SUMMARY, "forget05") == (
        "embedded (embedded): 20 forget pairs; retain model `retain95`."
    )


def test_launch_all_starts_each_command_and_reports_failures(tmp_path, monkeypatch):
    started = []

    def fake_launch(args, out, log):
        if "wga" in args:
            raise jobs.LaunchError("no room")
        started.append((args, Path(out), Path(log)))
        return 1

    monkeypatch.setattr(jobs, "launch_run", fake_launch)
    (tmp_path / "runs" / "atwu-s0-x").mkdir(parents=True)  # taken: the launch picks -2
    result = launch_all(
        [("atwu-s0-x", ["run", "--method", "atwu"]), ("wga-s0-x", ["run", "--method", "wga"])],
        tmp_path / "runs",
    )
    assert result.launched == ["atwu-s0-x-2"]
    ((_, out, log),) = started
    assert out == tmp_path / "runs" / "atwu-s0-x-2"
    assert log == tmp_path / "runs" / ".logs" / "atwu-s0-x-2.log"
    assert result.messages == [
        ("error", "Could not start wga-s0-x: no room"),
        ("success", "Launched atwu-s0-x-2. They appear under Active runs below."),
    ]
    monkeypatch.setattr(jobs, "launch_run", fake_launch)
    nothing = launch_all([("wga-s1", ["run", "--method", "wga"])], tmp_path / "runs")
    assert nothing.launched == [] and [m[0] for m in nothing.messages] == ["error"]


def test_several_runs_of_a_method_are_one_sweep_through_the_executor():
    values = {"wga": {"beta": "1, 5"}}
    plan = _plan(methods=("atwu", "wga"), values=values, n_seeds=2, steps=20)
    assert plan.ready
    # one command per run: 2 atwu seeds, 2 wga settings × 2 seeds
    assert [name for name, _ in plan.commands][2:] == [
        "wga-beta1-s0-20260101-000000",
        "wga-beta1-s1-20260101-000000",
        "wga-beta5-s0-20260101-000000",
        "wga-beta5-s1-20260101-000000",
    ]
    (atwu, _, n_atwu), (wga, wga_args, n_wga) = plan.launches
    assert (atwu, n_atwu, wga, n_wga) == (
        "atwu-sweep-20260101-000000",
        2,
        "wga-sweep-20260101-000000",
        4,
    )
    assert wga_args[:3] == ["sweep", "--method", "wga"]
    assert _flag(wga_args, "--seeds") == "2" and _flag(wga_args, "--seed") == "0"
    assert _flag(wga_args, "--grid") == "beta=1,5" and _flag(wga_args, "--steps") == "20"
    assert "sweep" in launches_caption(plan)
    single = _plan()
    assert single.launches == [(*single.commands[0], 1)] and launches_caption(single) == ""


def test_a_bad_value_in_a_list_is_an_error():
    plan = _plan(methods=("wga",), values={"wga": {"beta": "1, fast"}})
    assert not plan.ready and any("beta" in e for e in plan.errors)


def test_launching_a_plan_names_its_sweeps(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(jobs, "launch_run", lambda args, out, log: started.append((args, out)) or 1)
    plan = _plan(methods=("atwu", "wga"), values={"wga": {"beta": "1,5"}})
    result = launch_plan(plan, tmp_path)
    assert [a[0] for a, _ in started] == ["run", "sweep"]
    assert started[1][1] == tmp_path / "wga-sweep-20260101-000000"
    assert result.messages[-1] == (
        "success",
        "Launched atwu-s0-20260101-000000, sweep wga-sweep-20260101-000000 (2 runs). They "
        "appear under Active runs below.",
    )
