"""Fixtures for the app tests: two real quick runs on the session's small benchmark, and a runs
directory of damaged run directories built from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 120  # the first run of a page imports torch/scipy/plotly (seconds on a busy CPU)


def _run(benchmark: Path, method: str, out: Path, *extra: str) -> None:
    from atwu.cli import main

    code = main(
        [
            "run",
            "--method",
            method,
            "--benchmark",
            str(benchmark),
            "--steps",
            "20",
            "--checkpoint-every",
            "10",
            "--out",
            str(out),
            *extra,
        ]
    )
    assert code == 0, f"fixture run {method} failed with exit code {code}"


@pytest.fixture(scope="session")
def app_runs(small_benchmark: Path, atwu_home: Path) -> Path:
    """``$ATWU_HOME/runs`` (the app's default runs directory) with ``atwu-s0`` and ``wga-s0``:
    20 steps, checkpoints at 0, 10 and 20, evaluated."""
    root = atwu_home / "runs"
    for method in ("atwu", "wga"):
        if not (root / f"{method}-s0" / "status.json").is_file():
            _run(small_benchmark, method, root / f"{method}-s0")
    return root


@pytest.fixture(scope="session")
def broken_runs(app_runs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs directory holding one damaged run directory per kind of damage (the names are
    listed as BROKEN in test_app_pages.py)."""
    import json

    root = tmp_path_factory.mktemp("broken_runs")
    good = app_runs / "atwu-s0"

    def copy(name: str, *skip: str) -> Path:
        dst = root / name
        shutil.copytree(good, dst, ignore=shutil.ignore_patterns("model", "state", *skip))
        return dst

    d = root / "corrupt-config"
    d.mkdir()
    (d / "config.json").write_text("{not json", encoding="utf-8")
    (d / "status.json").write_text("{also not", encoding="utf-8")

    d = copy("no-status", "status.json", "weights.parquet", "eval.jsonl", "eval_examples.parquet")

    d = copy("failed")
    status = json.loads((d / "status.json").read_text())
    status.update(state="failed", message="Diverged: loss is nan at step 7")
    (d / "status.json").write_text(json.dumps(status))

    copy("no-weights", "weights.parquet")

    d = copy("bad-weights")
    (d / "weights.parquet").write_bytes(b"this is not a parquet file")

    d = copy("bad-eval")
    lines = (d / "eval.jsonl").read_text().splitlines()
    (d / "eval.jsonl").write_text("\n".join([lines[0], "{broken", *lines[1:]]) + "\n")
    (d / "eval_examples.parquet").write_bytes(b"garbage")

    copy("no-eval", "eval.jsonl", "eval_examples.parquet")

    d = copy(
        "running-empty", "weights.parquet", "eval.jsonl", "eval_examples.parquet", "train_log.jsonl"
    )
    status = json.loads((d / "status.json").read_text())
    from atwu.runs.status import utc_now

    status.update(
        state="running", message="loading model", step=0, heartbeat_at=utc_now(), pid=999_999_999
    )
    (d / "status.json").write_text(json.dumps(status))
    return root


@pytest.fixture
def app():
    """A fresh AppTest of app.py (not yet run)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)
