"""Offline by default: a model name that is neither a local folder nor a shipped model ends at
once in one line that says how to allow the hub, before any run directory exists; nothing is
downloaded unless the user passes --allow-hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atwu import cli
from atwu.model_source import ALLOW_HUB_ENV, PACKAGED_NAMES, check_model_source
from atwu.models import PACKAGED_MODELS

HUB_ID = "someone/some-model"


@pytest.fixture(autouse=True)
def hub_not_allowed(monkeypatch):
    monkeypatch.setenv(ALLOW_HUB_ENV, "")  # restored after each test, also after --allow-hub


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def timed_cli(*argv: str) -> tuple[int, float]:
    start = time.perf_counter()
    rc = cli.main(list(argv))
    return rc, time.perf_counter() - start


def test_the_shipped_model_names_are_the_ones_the_loader_knows():
    assert sorted(PACKAGED_NAMES) == sorted(PACKAGED_MODELS)


def test_a_hub_id_in_a_config_file_fails_at_once_without_a_run_directory(
    tmp_path, monkeypatch, capsys
):
    import atwu.train.execute  # noqa: F401  (torch loaded first: the time below is the check's)

    monkeypatch.setenv("ATWU_HOME", str(tmp_path / "home"))
    config = tmp_path / "hub.json"
    config.write_text(json.dumps({"method": "graddiff", "model": HUB_ID}))
    out = tmp_path / "run"
    rc, seconds = timed_cli("run", "--config", str(config), "--out", str(out))
    line = one_error_line(capsys.readouterr().err)
    assert rc == 2 and seconds < 1.0
    assert HUB_ID in line and "--allow-hub" in line
    assert not out.exists() and not (tmp_path / "home" / "runs").exists()


def test_a_hub_id_on_the_command_line_fails_at_once_too(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ATWU_HOME", str(tmp_path / "home"))
    rc, _ = timed_cli("run", "--method", "graddiff", "--model", HUB_ID, "--aux-model", "x")
    line = one_error_line(capsys.readouterr().err)
    assert rc == 2 and f"--model {HUB_ID}: not a local folder" in line
    assert not (tmp_path / "home" / "runs").exists()


def test_a_sweep_with_a_hub_id_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ATWU_HOME", str(tmp_path / "home"))
    argv = ["sweep", "--executor", "local", "--method", "graddiff", "--model", HUB_ID]
    rc, _ = timed_cli(*argv, "--grid", "alpha=0.5,1", "--out", str(tmp_path / "sweep"))
    assert rc == 2 and "--allow-hub" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "sweep").exists()


def test_a_hub_id_as_prepare_target_model_fails_before_the_output_exists(tmp_path, capsys):
    out = tmp_path / "bench"
    rc, seconds = timed_cli("prepare", "--target-model", HUB_ID, "--out", str(out))
    line = one_error_line(capsys.readouterr().err)
    assert rc == 2 and seconds < 1.0 and "--target-model" in line and "--allow-hub" in line
    assert not out.exists()


def test_a_missing_local_path_is_left_to_the_run_s_own_path_check(tmp_path):
    # "model path ... does not exist" (tests/test_cli.py), after the split and benchmark checks
    check_model_source(str(tmp_path / "gone"), "--model")
    check_model_source("runs/x/model", "--model")
    check_model_source("./mine", "--model")


def test_local_folders_shipped_names_and_allowed_hub_ids_pass(tmp_path, monkeypatch):
    check_model_source(str(tmp_path), "--model")
    check_model_source("SmolLM2-135M", "--model")
    monkeypatch.setenv(ALLOW_HUB_ENV, "1")
    check_model_source(HUB_ID, "--model")


def test_allow_hub_on_the_command_line_lets_a_hub_id_past_the_check(tmp_path, monkeypatch, capsys):
    # it then fails later (no such benchmark here), but not with the offline message
    monkeypatch.setenv("ATWU_HOME", str(tmp_path / "home"))
    rc = cli.main(["run", "--method", "graddiff", "--model", HUB_ID, "--allow-hub"])
    err = capsys.readouterr().err
    assert rc != 0 and "--allow-hub" not in err


def test_the_refusal_comes_before_torch_is_loaded(tmp_path):
    """What makes it fast on any machine: the CLI refuses before importing torch (whose import
    alone takes seconds)."""
    config = tmp_path / "hub.json"
    config.write_text(json.dumps({"method": "graddiff", "model": HUB_ID}))
    code = (
        "import sys; from atwu import cli; "
        f"rc = cli.main(['run', '--config', {str(config)!r}]); "
        "print(rc, 'torch' in sys.modules)"
    )
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), "ATWU_HOME": str(tmp_path / "home")}
    env.pop(ALLOW_HUB_ENV, None)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["2", "False"], done.stderr
    assert not (tmp_path / "home" / "runs").exists()
