"""The embedded benchmark shipped in assets/prepared/embedded is what ``prepare`` builds today.

The data, the tokenizer and the manifest are rebuilt from the seed and must be the same bytes (a
change to the generator or the benchmark format fails here: rebuild the copy with
``python -m atwu.prepare.shipped``). The models are retrained from the seed (as ``prepare`` trains
them, two at a time, one thread each) and evaluated beside the shipped ones on every split
``prepare`` evaluates them on; the stated tolerance: the same greedy exact-match rate, every
answer's mean token NLL within 0.05 nats and their mean absolute difference under 0.01 (on the
machine that built the copy the two are identical; other CPUs may round differently).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from atwu.prepare.build import (
    PrepareOptions,
    _run_jobs,
    embedded_data,
    embedded_jobs,
    embedded_manifest,
)
from atwu.prepare.shipped import install_shipped, shipped_benchmark_dir, shipped_problem

SHIPPED = shipped_benchmark_dir()
NLL_MAX_DIFF, NLL_MEAN_DIFF = 0.05, 0.01


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_shipped_benchmark_is_installable():
    assert shipped_problem() is None, shipped_problem()


def test_rebuilt_data_tokenizer_and_manifest_are_the_same_bytes(tmp_path):
    options = PrepareOptions()
    split_meta = embedded_data(tmp_path, options)
    for folder in ("data", "tokenizer"):
        rebuilt, shipped = _files(tmp_path / folder), _files(SHIPPED / folder)
        assert rebuilt.keys() == shipped.keys(), folder
        changed = [name for name in rebuilt if rebuilt[name] != shipped[name]]
        assert not changed, f"{folder}: {changed} differ; run python -m atwu.prepare.shipped"
    manifest = json.loads((SHIPPED / "manifest.json").read_text())
    assert manifest == json.loads(json.dumps(embedded_manifest("embedded", options, split_meta)))


def test_install_copies_it_and_refuses_to_overwrite(tmp_path):
    out = install_shipped(tmp_path / "embedded")
    assert (out / "models" / "full" / "model.safetensors").is_file()
    assert _files(out).keys() == _files(SHIPPED).keys()
    with pytest.raises(FileExistsError):
        install_shipped(out)


def test_an_older_format_is_not_installed(tmp_path):
    copy = tmp_path / "old"
    shutil.copytree(SHIPPED, copy, ignore=shutil.ignore_patterns("*.safetensors", "*.jsonl"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert "format 1" in (shipped_problem(copy) or "")
    with pytest.raises(ValueError, match="cannot be used"):
        install_shipped(tmp_path / "x", source=copy)


@pytest.mark.research
def test_retrained_models_evaluate_like_the_shipped_ones(tmp_path):
    """About 3 minutes on 2 cores: the three models retrained as ``prepare`` trains them."""
    from atwu.benchmark import Benchmark
    from atwu.evaluate.teacher_forced import score_pairs
    from atwu.models import load_model, load_tokenizer

    for folder in ("data", "tokenizer"):
        shutil.copytree(SHIPPED / folder, tmp_path / folder)
    jobs = embedded_jobs(PrepareOptions())
    results = _run_jobs(tmp_path, jobs, workers=2, progress=None)
    quality = json.loads((SHIPPED / "quality.json").read_text())
    bench = Benchmark.load(SHIPPED)
    for job in jobs:
        shipped_em = quality["models"][job.name]["exact_match"]
        rebuilt_em = {
            split: np.mean(
                [a.strip() == p.answer.strip() for a, p in zip(answers, bench.pairs(split))]
            )
            for split, answers in results[job.name]["answers"].items()
        }
        assert rebuilt_em == pytest.approx(shipped_em, abs=1e-9), job.name
        for split in job.eval_splits:
            pairs = bench.pairs(split)
            nll = []
            for root in (SHIPPED, tmp_path):
                path = root / "models" / job.name
                scores = score_pairs(load_model(path), load_tokenizer(path), pairs)
                nll.append(scores["forget_loss"].to_numpy(float))
            diff = np.abs(nll[0] - nll[1])
            assert diff.max() <= NLL_MAX_DIFF and diff.mean() <= NLL_MEAN_DIFF, (
                job.name,
                split,
                float(diff.max()),
                float(diff.mean()),
            )
