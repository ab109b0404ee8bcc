"""``python -m atwu``: bad input (exit code 2, one line, no run claiming success), the finished-run
guard, ``score`` and ``list``. In-process through :func:`atwu.cli.main` except where the real
entry point is the point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atwu import cli
from atwu.io import read_json, read_jsonl
from atwu.runs.read import read_weights
from atwu.runs.status import utc_now

REPO = Path(__file__).resolve().parents[1]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def quick_run(capsys, out: Path, method: str = "graddiff", *extra: str) -> None:
    rc, _, err = run_cli(
        capsys,
        "run",
        "--method",
        method,
        "--steps",
        "3",
        "--checkpoint-every",
        "3",
        "--no-eval",
        "--out",
        str(out),
        *extra,
    )
    assert rc == 0, err
    assert read_json(out / "status.json")["state"] == "done"


def test_methods_lists_every_method(capsys):
    rc, out, _ = run_cli(capsys, "methods")
    assert rc == 0
    names = [line.split(":")[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert sorted(names) == sorted(
        [
            "atwu",
            "ga",
            "graddiff",
            "npo",
            "simnpo",
            "rmu",
            "wga",
            "satimp",
            "tnpo",
            "aux",
            "static_p",
            "static_support",
            "threshold",
            "oracle",
            "uniform",
            "specific_oracle",
            "shuffled_oracle",
            "template_only",
            "etw",
            "tokenunlearn",
        ]
    )
    assert "scorer_lr" in out and "scorer_warmup_steps" in out
    assert "selection = 'soft'" in out and "top_share = 0.3" in out  # tokenunlearn's options


# -- bad input -----------------------------------------------------------------------------------
BAD_INPUT = {
    "unknown method": (["--method", "nosuch"], ["unknown method 'nosuch'", "atwu"]),
    "unknown --set key": (
        ["--method", "atwu", "--set", "scorer_rate=0.1"],
        ["unknown parameter 'scorer_rate'", "scorer_lr"],
    ),
    "--set without '='": (["--method", "atwu", "--set", "scorer_lr"], ["key=value"]),
    "wrong type: number": (
        ["--method", "atwu", "--set", "gamma=lots"],
        ["gamma", "number", "'lots'"],
    ),
    "wrong type: integer": (
        ["--method", "atwu", "--set", "scorer_warmup_steps=2.5"],
        ["scorer_warmup_steps", "integer"],
    ),
    "wrong choice": (
        ["--method", "atwu", "--set", "forget_loss=hinge"],
        ["forget_loss", "prob", "'hinge'"],
    ),
    "bad tau": (["--method", "atwu", "--set", "tau=median"], ["tau", "batch_mean"]),
    "missing split": (["--method", "graddiff", "--split", "forget77"], ["forget77", "forget10"]),
    "not a forget split": (
        ["--method", "graddiff", "--split", "retain90"],
        ["retain90", "not a forget split"],
    ),
    "retain model not prepared": (
        ["--method", "graddiff", "--split", "forget05"],
        ["forget05", "retain95", "prepare --retain-splits retain95"],
    ),
    "missing model path": (
        ["--method", "graddiff", "--model", "/nonexistent/model-dir"],
        ["/nonexistent/model-dir", "does not exist"],
    ),
    "missing relative model path": (
        ["--method", "graddiff", "--model", "runs/nosuch/model"],
        ["runs/nosuch/model", "does not exist"],
    ),
    "missing benchmark": (
        ["--method", "graddiff", "--benchmark", "/nonexistent/bench"],
        ["/nonexistent/bench", "prepare"],
    ),
    "no method": (["--steps", "3"], ["--method is required"]),
    "non-positive steps": (["--method", "graddiff", "--steps", "0"], ["--steps"]),
    "non-positive epochs": (["--method", "graddiff", "--epochs", "0"], ["--epochs"]),
    "non-positive checkpoint step": (
        ["--method", "graddiff", "--checkpoint-every", "0"],
        ["--checkpoint-every"],
    ),
}


@pytest.mark.parametrize("argv,expected", list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line_and_no_run(
    any_benchmark, tmp_path, capsys, argv, expected
):
    out = tmp_path / "run"
    rc, _stdout, err = run_cli(capsys, "run", *argv, "--no-eval", "--out", str(out))
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in err
    status = out / "status.json"
    assert not status.exists() or read_json(status)["state"] != "done"


def _forget05_command(capsys, tmp_path) -> str:
    """The prepare command that the refusal of a run on forget05 (retain95 not prepared) gives."""
    rc, _, err = run_cli(
        capsys,
        "run",
        "--method",
        "graddiff",
        "--split",
        "forget05",
        "--no-eval",
        "--out",
        str(tmp_path / "r"),
    )
    assert rc == 2, err
    return err.split("`")[1]


def test_forget05_message_is_a_command_that_works_for_this_benchmark(
    any_benchmark, tmp_path, capsys
):
    # the shipped benchmark has the default 200 authors: the command needs no --authors
    assert _forget05_command(capsys, tmp_path) == (
        "python -m atwu prepare --retain-splits retain95,retain90 --overwrite"
    )


@pytest.mark.slow
def test_forget05_message_keeps_the_benchmarks_size(small_benchmark, tmp_path, capsys):
    command = _forget05_command(capsys, tmp_path)
    assert command.startswith("python -m atwu prepare --retain-splits retain95,retain90")
    assert "--authors 20" in command and command.endswith("--overwrite")


def test_bad_config_file_exits_2(any_benchmark, tmp_path, capsys):
    rc, _, err = run_cli(
        capsys, "run", "--config", str(tmp_path / "missing.json"), "--out", str(tmp_path / "r")
    )
    assert rc == 2 and len(err.strip().splitlines()) == 1
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"method": "atwu", "colour": "blue"}))
    rc, _, err = run_cli(capsys, "run", "--config", str(bad), "--out", str(tmp_path / "r"))
    assert rc == 2 and "colour" in err and len(err.strip().splitlines()) == 1


def test_finished_run_is_not_overwritten_without_overwrite(any_benchmark, tmp_path, capsys):
    out = tmp_path / "done"
    quick_run(capsys, out)
    before = (out / "train_log.jsonl").read_bytes(), (out / "status.json").read_bytes()
    rc, _, err = run_cli(
        capsys, "run", "--method", "wga", "--steps", "3", "--no-eval", "--out", str(out)
    )
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1
    assert "already holds a finished run" in lines[0] and "--overwrite" in lines[0]
    assert ((out / "train_log.jsonl").read_bytes(), (out / "status.json").read_bytes()) == before
    assert read_json(out / "config.json")["method"] == "graddiff"

    rc, _, err = run_cli(
        capsys,
        "run",
        "--method",
        "wga",
        "--steps",
        "3",
        "--checkpoint-every",
        "3",
        "--no-eval",
        "--out",
        str(out),
        "--overwrite",
    )
    assert rc == 0, err
    assert read_json(out / "config.json")["method"] == "wga"
    assert read_json(out / "status.json")["state"] == "done"


def test_directory_with_other_files_is_refused(any_benchmark, tmp_path, capsys):
    # a directory that is not a run is never replaced, so the refusal does not offer
    # --overwrite (issue 12, case 1), and --overwrite itself is refused as well
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    for extra in ([], ["--overwrite"]):
        rc, _, err = run_cli(
            capsys,
            "run",
            "--method",
            "graddiff",
            "--steps",
            "3",
            "--no-eval",
            "--out",
            str(out),
            *extra,
        )
        assert rc == 2 and "not a run" in err and "--overwrite" not in err
        assert [p.name for p in out.iterdir()] == ["notes.txt"]
        assert (out / "notes.txt").read_text() == "mine"


# -- evaluation through the CLI (needs atwu.evaluate.checkpoint) ----------------------------------
@pytest.mark.slow
def test_run_with_evaluation(small_benchmark, tmp_path, capsys):
    out = tmp_path / "evaluated"
    rc, _stdout, err = run_cli(
        capsys,
        "run",
        "--method",
        "atwu",
        "--steps",
        "4",
        "--checkpoint-every",
        "2",
        "--quick",
        "--out",
        str(out),
    )
    assert rc == 0, err
    assert read_json(out / "status.json")["state"] == "done"
    evals = read_jsonl(out / "eval.jsonl")
    assert [e["step"] for e in evals] == [0, 2, 4]
    assert sorted(read_weights(out)["step"].unique().tolist()) == [0, 2, 4]


# -- score ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def atwu_run(small_benchmark, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("score") / "atwu"
    rc = cli.main(
        [
            "run",
            "--method",
            "atwu",
            "--steps",
            "40",
            "--checkpoint-every",
            "20",
            "--set",
            "scorer_warmup_steps=5",
            "--no-eval",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    return out


def parse_scores(stdout: str) -> list[tuple[str, float]]:
    import ast

    rows = []
    for line in stdout.strip().splitlines():
        token, score = line.rsplit("\t", 1)
        rows.append((ast.literal_eval(token), float(score)))
    return rows


@pytest.mark.slow
def test_score_prints_token_score_pairs(atwu_run, capsys):
    text = "Viktor Casvosran was born in Tunis."
    rc, stdout, err = run_cli(capsys, "score", str(atwu_run), "--text", text)
    assert rc == 0, err
    rows = parse_scores(stdout)
    tokens = [t for t, _ in rows]
    assert "".join(tokens[:-1]) == text and tokens[-1] == "<|end|>"
    scores = [s for _, s in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert max(scores) - min(scores) > 1e-3, "a trained scorer tells tokens apart"


@pytest.mark.slow
def test_score_through_the_real_entry_point(atwu_run):
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "atwu",
            "score",
            str(atwu_run),
            "--text",
            "Tunis.",
            "--question",
            "Where was Viktor Casvosran born?",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = parse_scores(proc.stdout)
    assert "".join(t for t, _ in rows[:-1]) == "Tunis."


def test_score_without_a_saved_model_is_a_clear_error(any_benchmark, tmp_path, capsys):
    out = tmp_path / "nomodel"
    quick_run(capsys, out, "atwu", "--no-save-model")
    assert not (out / "model").exists()
    rc, stdout, err = run_cli(capsys, "score", str(out), "--text", "some text")
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and not stdout
    assert "did not save its final model" in lines[0] and "--save-model" in lines[0]


def test_score_of_a_non_run_is_a_clear_error(tmp_path, capsys):
    rc, _, err = run_cli(capsys, "score", str(tmp_path), "--text", "hello")
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "not a readable run directory" in err


# -- list ----------------------------------------------------------------------------------------
def _fake_run(root: Path, name: str, method: str, state: str, heartbeat: str | None = None) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "config.json").write_text(json.dumps({"method": method, "seed": 0}))
    (root / name / "status.json").write_text(
        json.dumps(
            {
                "state": state,
                "message": f"{state} here",
                "step": 5,
                "total_steps": 10,
                "heartbeat_at": heartbeat or utc_now(),
            }
        )
    )


def test_list_shows_runs_and_states(any_benchmark, tmp_path, capsys):
    runs = tmp_path / "runs"
    quick_run(capsys, runs / "real-graddiff")
    _fake_run(runs, "was-cancelled", "npo", "cancelled")
    _fake_run(runs, "still-running", "wga", "running")
    _fake_run(runs, "was-killed", "atwu", "running", heartbeat="2000-01-01T00:00:00+00:00")
    (runs / "no-config").mkdir()
    (runs / "no-config" / "status.json").write_text(json.dumps({"state": "failed", "message": "x"}))
    rc, stdout, _ = run_cli(capsys, "list", str(runs))
    assert rc == 0
    rows = {line.split("\t")[0]: line.split("\t") for line in stdout.strip().splitlines()}
    assert rows["real-graddiff"][1:4] == ["graddiff", "done", "3/3"]
    assert rows["was-cancelled"][1:3] == ["npo", "cancelled"]
    assert rows["still-running"][1:3] == ["wga", "running"]
    assert rows["was-killed"][1:3] == ["atwu", "failed"]
    assert "config.json is missing" in rows["no-config"][-1]


def test_list_defaults_to_atwu_home(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ATWU_HOME", str(tmp_path))
    rc, stdout, _ = run_cli(capsys, "list")
    assert rc == 0 and "no runs in" in stdout
    _fake_run(tmp_path / "runs", "one", "ga", "done")
    rc, stdout, _ = run_cli(capsys, "list")
    assert rc == 0 and stdout.startswith("one\tga\tdone")


def test_list_and_help_do_not_load_torch(tmp_path):
    # Commands import their module when they run: `list` and `--help` answer in well under a
    # second instead of waiting seconds for torch and transformers.
    probe = (
        "import contextlib, io, sys\n"
        "from atwu.cli import main\n"
        f"main(['list', {str(tmp_path)!r}])\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['run', '--help'])\n"
        "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines() == [f"no runs in {tmp_path}", "[]"]
