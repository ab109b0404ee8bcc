"""Shared fixtures: one small prepared benchmark per test session, an isolated ATWU_HOME, the
shipped benchmark as the default one where a test needs only *a* prepared benchmark, and the
runs several modules read (trained once, see shared_runs.py)."""

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
def shipped_home(tmp_path_factory) -> Path:
    """An ATWU home holding the shipped embedded benchmark (200 authors, trained models): copied
    in a second where ``small_benchmark`` trains three models for about a minute."""
    from atwu.prepare.shipped import install_shipped

    home = tmp_path_factory.mktemp("shipped_home")
    install_shipped(home / "benchmarks" / "embedded")
    return home


@pytest.fixture
def any_benchmark(shipped_home, monkeypatch) -> Path:
    """A prepared default benchmark for a test that does not depend on its size (command-line
    errors, overwrite rules, listing; runs of a few steps cost the same on any size): the shipped
    one, with ATWU_HOME pointed at ``shipped_home`` for this test only. It keeps the fast tier
    free of the minute ``small_benchmark`` takes to prepare."""
    from atwu.paths import default_benchmark_dir

    monkeypatch.setenv("ATWU_HOME", str(shipped_home))
    return default_benchmark_dir()


@pytest.fixture(scope="session")
def atwu_50_steps(small_benchmark, tmp_path_factory) -> Path:
    """The run of ``shared_runs.atwu_50_steps_config()`` on the session's benchmark, with its
    model, scorer and resumable state saved (read it; copy it to change it)."""
    from shared_runs import atwu_50_steps_config

    from atwu.train.loop import Trainer

    out = tmp_path_factory.mktemp("shared_runs") / "atwu-50-steps"
    Trainer(atwu_50_steps_config(), out).run()
    return out
