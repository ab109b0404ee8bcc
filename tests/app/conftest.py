"""Fixtures for the app tests: the demo bundle's evaluated runs (copied, nothing trained), one
trained run where a test needs a saved model, and damaged run directories built from a demo run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 120  # the first run of a page imports torch/scipy/plotly (seconds on a busy CPU)
DEMO_RUNS = ("atwu-s0", "wga-s0")
"""Runs of the shipped demo bundle the page tests read (evaluated, no saved model)."""


def copy_demo(names: tuple[str, ...], root: Path) -> Path:
    """``root`` holding copies of the demo bundle's runs ``names`` and its ``_benchmark`` (the
    benchmark files the pages read beside bundled runs: manifest, retain-model truth ratios)."""
    from atwu.demo import shipped_demo_dir

    for name in (*names, "_benchmark"):
        if not (root / name).exists():
            shutil.copytree(shipped_demo_dir() / name, root / name)
    return root


@pytest.fixture(scope="session")
def app_runs(atwu_home: Path) -> Path:
    """``$ATWU_HOME/runs`` (the app's default runs directory) with the demo's ``atwu-s0`` and
    ``wga-s0``: finished, evaluated at every checkpoint (forget10 of a 40-author benchmark)."""
    return copy_demo(DEMO_RUNS, atwu_home / "runs")


@pytest.fixture(scope="session")
def trained_runs(small_benchmark: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs directory with ``atwu-s0``: a short real run on the session's benchmark, with its
    final model saved (scoring typed text needs it; the demo bundle ships no models)."""
    from atwu.cli import main

    root = tmp_path_factory.mktemp("trained_runs")
    code = main(
        [
            "run",
            "--method",
            "atwu",
            "--benchmark",
            str(small_benchmark),
            "--steps",
            "2",
            "--no-eval",
            "--save-model",
            "--out",
            str(root / "atwu-s0"),
        ]
    )
    assert code == 0, f"fixture run failed with exit code {code}"
    return root


@pytest.fixture(scope="session")
def broken_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs directory holding one damaged run directory per kind of damage (the names are
    listed as BROKEN in test_app_pages.py), each made from the demo's atwu-s0."""
    from atwu.runs.status import utc_now

    root = tmp_path_factory.mktemp("broken_runs")
    good = copy_demo(("atwu-s0",), tmp_path_factory.mktemp("demo")) / "atwu-s0"
    train_logs = ("train_log.jsonl", "metrics.jsonl")  # the demo keeps the older name

    def copy(name: str, *skip: str) -> Path:
        dst = root / name
        shutil.copytree(good, dst, ignore=shutil.ignore_patterns("model", "state", *skip))
        return dst

    def set_status(d: Path, **changes: object) -> None:
        status = json.loads((d / "status.json").read_text())
        status.update(changes)
        (d / "status.json").write_text(json.dumps(status))

    d = root / "corrupt-config"
    d.mkdir()
    (d / "config.json").write_text("{not json", encoding="utf-8")
    (d / "status.json").write_text("{also not", encoding="utf-8")

    copy("no-status", "status.json", "weights.parquet", "eval.jsonl", "eval_examples.parquet")

    set_status(copy("failed"), state="failed", message="Diverged: loss is nan at step 7")

    copy("no-weights", "weights.parquet")

    d = copy("bad-weights")
    (d / "weights.parquet").write_bytes(b"this is not a parquet file")

    d = copy("bad-eval")
    lines = (d / "eval.jsonl").read_text().splitlines()
    (d / "eval.jsonl").write_text("\n".join([lines[0], "{broken", *lines[1:]]) + "\n")
    (d / "eval_examples.parquet").write_bytes(b"garbage")

    copy("no-eval", "eval.jsonl", "eval_examples.parquet")

    d = copy("running-empty", "weights.parquet", "eval.jsonl", "eval_examples.parquet", *train_logs)
    set_status(
        d, state="running", message="loading model", step=0, heartbeat_at=utc_now(), pid=999_999_999
    )
    return root


@pytest.fixture
def app():
    """A fresh AppTest of app.py (not yet run)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


@pytest.fixture
def fragment_timers(monkeypatch) -> dict[str, float | None]:
    """The ``run_every`` each page fragment was last drawn with, by function name."""
    import streamlit as st

    timers: dict[str, float | None] = {}
    fragment = st.fragment

    def spy(func=None, *, run_every=None):
        def decorate(f):
            timers[f.__name__] = run_every
            return fragment(f, run_every=run_every)

        return decorate if func is None else decorate(func)

    monkeypatch.setattr(st, "fragment", spy)
    return timers
