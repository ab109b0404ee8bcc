"""The measurements of the fair-measurements issue, end to end on the session's small benchmark:
unlearning never sees the held-out retain pairs, and a run's recorded FFE is what METHOD.md §4.5
defines, recomputed here from the saved models with code of its own."""

from __future__ import annotations

import json
import math

import pytest
import torch

from atwu import cli
from atwu.benchmark import Benchmark
from atwu.config import RunConfig, TrainSettings
from atwu.data.chat import encode_pair
from atwu.io import read_jsonl
from atwu.models import load_model, load_tokenizer
from atwu.train import loop
from atwu.train.loop import Trainer


@pytest.mark.slow
def test_retain_heldout_never_reaches_a_retain_batch(small_benchmark, tmp_path, monkeypatch):
    bench = Benchmark.load(small_benchmark)
    tok = load_tokenizer(bench.target_model)

    def encode(split):
        return {tuple(encode_pair(tok, p.question, p.answer).input_ids) for p in bench.pairs(split)}

    heldout, train = encode(bench.retain_heldout_for("forget10")), encode("retain90_train")
    assert heldout and not heldout & train
    drawn: list[tuple] = []
    original = loop.collate

    def recording(pairs, pad):
        drawn.extend(tuple(p.input_ids) for p in pairs)
        return original(pairs, pad)

    monkeypatch.setattr(loop, "collate", recording)
    cfg = RunConfig(method="uniform", evaluate=False, train=TrainSettings(steps=30))
    Trainer(cfg, tmp_path / "run").run()
    assert len(drawn) == 30 * 16  # every retain batch of the run went through collate
    assert not set(drawn) & heldout
    assert set(drawn) <= train


def _span_logps(model, tok, pairs) -> list[float]:
    """ℓ_s for every fact span: Σ over the span's answer tokens of max(log p, log 1e-4), the
    tokens being those whose characters (spaces aside) overlap the span."""
    out = []
    for pair in pairs:
        enc = encode_pair(tok, pair.question, pair.answer)
        ids = torch.tensor([enc.input_ids])
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
        token_logp = logp[torch.arange(len(enc.input_ids) - 1), ids[0, 1:]]
        completion = token_logp[enc.prompt_len - 1 :].tolist()
        for span in pair.spans or []:
            if span.label not in ("specific", "shared", "fact"):
                continue
            total = 0.0
            for lp, off in zip(completion, enc.answer_offsets):
                if off is None:
                    continue
                chars = range(max(off[0], span.start), min(off[1], span.end))
                if any(not pair.answer[c].isspace() for c in chars):
                    total += max(lp, math.log(1e-4))
            out.append(total)
    return out


@pytest.mark.slow
def test_a_default_runs_final_ffe_is_recomputed_from_its_saved_model(small_benchmark, tmp_path):
    out = tmp_path / "atwu"
    assert cli.main(["run", "--method", "atwu", "--out", str(out)]) == 0
    final = read_jsonl(out / "eval.jsonl")[-1]
    bench = Benchmark.load(small_benchmark)
    pairs = bench.pairs("forget10")
    tok = load_tokenizer(out / "model")
    means = {}
    for name, path in (
        ("now", out / "model"),
        ("start", bench.target_model),
        ("retain", bench.model_path("retain90")),
    ):
        values = _span_logps(load_model(path).eval(), tok, pairs)
        means[name] = sum(values) / len(values)
    ffe = (means["start"] - means["now"]) / (means["start"] - means["retain"])
    assert final["ffe"] == pytest.approx(ffe, abs=0.01)
    assert final["ffe"] > 0  # the run forgot something


def test_an_old_benchmark_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "manifest.json").write_text(json.dumps({"format_version": 1}))
    assert cli.main(["run", "--method", "atwu", "--benchmark", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--overwrite" in err and "format 1" in err
