"""Fixtures for the evaluation tests: one tiny benchmark per session, copied where a test
changes its cache, so tests stay independent and the models are built only once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bench_fixture import build_tiny_benchmark

from atwu.benchmark import Benchmark
from atwu.models import load_model, load_tokenizer


@pytest.fixture(scope="session")
def tiny_bench_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-mostly tiny benchmark shared by the whole session (tests must not rely on its
    ``eval_cache`` being empty or full)."""
    return build_tiny_benchmark(tmp_path_factory.mktemp("bench") / "tiny")


@pytest.fixture
def bench(tiny_bench_dir: Path, tmp_path: Path) -> Benchmark:
    """A private copy of the tiny benchmark (empty ``eval_cache``), for tests that cache."""
    root = tmp_path / "tiny"
    shutil.copytree(tiny_bench_dir, root, ignore=shutil.ignore_patterns("eval_cache"))
    return Benchmark.load(root)


@pytest.fixture(scope="session")
def full_model(tiny_bench_dir: Path):
    """The benchmark's starting model and tokenizer, loaded once."""
    path = tiny_bench_dir / "models" / "full"
    return load_model(path), load_tokenizer(path)
