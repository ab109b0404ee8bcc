"""atwu.evaluate.model_eval on the tiny benchmark: scoring, summaries, caches, forget quality."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from atwu.benchmark import Benchmark, BenchmarkError
from atwu.evaluate import model_eval as ME
from atwu.evaluate import reference as REF
from atwu.evaluate import teacher_forced as TF
from atwu.evaluate import tofu_metrics as M
from atwu.models import load_model, load_tokenizer


def test_batched_scoring_equals_one_at_a_time(tiny_bench_dir, full_model):
    model, tok = full_model
    pairs = Benchmark.load(tiny_bench_dir).pairs("forget10") + Benchmark.load(tiny_bench_dir).pairs(
        "general"
    )
    batched = TF.score_pairs(model, tok, pairs, batch_size=64)
    single = TF.score_pairs(model, tok, pairs, batch_size=1)
    assert list(batched["example_id"]) == [p.id for p in pairs]
    for col in ("prob", "forget_loss", "para_prob", "truth_ratio", "option_prob"):
        np.testing.assert_allclose(batched[col], single[col], rtol=1e-5, atol=1e-7, err_msg=col)
    np.testing.assert_allclose(
        np.stack(batched["pert_probs"]), np.stack(single["pert_probs"]), rtol=1e-5
    )
    # argmax-based metrics must agree exactly (ties aside, which random floats do not produce)
    assert list(batched["exact_memorization"]) == list(single["exact_memorization"])
    assert list(batched["extraction_strength"]) == list(single["extraction_strength"])


def test_scores_are_consistent_with_the_metric_definitions(tiny_bench_dir, full_model):
    model, tok = full_model
    pairs = Benchmark.load(tiny_bench_dir).pairs("forget10")
    scores = TF.score_pairs(model, tok, pairs)
    np.testing.assert_allclose(scores["prob"], np.exp(-scores["forget_loss"]))
    for _, row in scores.iterrows():
        expected = M.truth_ratio(row["pert_probs"], row["para_prob"])
        assert row["truth_ratio"] == pytest.approx(expected)
        assert len(row["pert_probs"]) == 3
        assert 0.0 <= row["exact_memorization"] <= 1.0
        assert 0.0 <= row["extraction_strength"] <= 1.0
        # the completion is the answer plus the end-of-turn token
        assert row["n_tokens"] >= 2


def test_score_pairs_empty_gives_typed_empty_frame(full_model):
    model, tok = full_model
    empty = TF.score_pairs(model, tok, [])
    assert empty.empty and list(empty.columns) == TF.SCORE_COLUMNS


def test_evaluate_model_rows_and_summary(tiny_bench_dir, full_model):
    model, tok = full_model
    bench = Benchmark.load(tiny_bench_dir)
    ev = ME.evaluate_model(model, tok, bench, "forget10")
    assert list(ev.examples.columns) == ME.EXAMPLE_COLUMNS
    counts = ev.examples["split"].value_counts().to_dict()
    assert counts == {"forget10": 4, "retain90_heldout": 6, "general": 3}
    assert ev.examples["generated"].map(lambda g: isinstance(g, str)).all()
    assert ev.examples["rouge"].between(0, 1).all()

    s = ev.summary
    forget = ev.split("forget10")
    assert s["forget_prob"] == pytest.approx(forget["prob"].mean())
    assert s["forget_truth_ratio"] == pytest.approx(
        np.minimum(forget["truth_ratio"], 1 / forget["truth_ratio"]).mean()
    )
    retain = ev.split("retain90_heldout")
    assert s["retain_truth_ratio"] == pytest.approx(np.maximum(0, 1 - retain["truth_ratio"]).mean())
    # general is a general-knowledge set: Prob normalised over the answer options (TOFU)
    assert s["general_prob"] == pytest.approx(ev.split("general")["option_prob"].mean())
    parts = [
        s[f"{split}_{m}"]
        for split in ("retain90_heldout", "general")
        for m in ("prob", "rouge", "truth_ratio")
    ]
    assert s["model_utility"] == pytest.approx(M.harmonic_mean(parts))
    assert s["extraction_strength"] == pytest.approx(forget["extraction_strength"].mean())
    # nothing is undefined; a zero utility (likely for a random model) is explained
    assert set(ev.notes) <= {"model_utility_components"}
    if s["model_utility"] == 0:
        assert "= 0" in ev.notes["model_utility_components"]


def test_evaluate_model_without_generation_notes_utility(tiny_bench_dir, full_model):
    model, tok = full_model
    ev = ME.evaluate_model(model, tok, Benchmark.load(tiny_bench_dir), "forget10", generate=False)
    assert ev.examples["generated"].isna().all()
    assert math.isnan(ev.summary["model_utility"]) and "generate=False" in ev.notes["model_utility"]
    assert math.isnan(ev.summary["forget_rouge"]) and "forget_rouge" in ev.notes
    assert not math.isnan(ev.summary["forget_prob"])


def test_empty_split_is_reported_not_fatal(bench, full_model, monkeypatch):
    model, tok = full_model
    original = Benchmark.pairs
    monkeypatch.setattr(
        Benchmark, "pairs", lambda self, split: [] if split == "general" else original(self, split)
    )
    ev = ME.evaluate_model(model, tok, bench, "forget10")
    assert (ev.examples["split"] != "general").all()
    assert math.isnan(ev.summary["general_prob"])
    assert "no examples" in ev.notes["general_prob"]
    # the other utility split still gives a model utility, and the note says what was left out
    assert not math.isnan(ev.summary["model_utility"])
    assert "general_prob" in ev.notes["model_utility_components"]


def test_retain_model_against_itself_has_forget_quality_one(bench):
    reference = REF.retain_reference(bench, "forget10", device="cpu")
    path = bench.model_path("retain90")
    ev = ME.evaluate_model(
        load_model(path), load_tokenizer(path), bench, "forget10", generate=False
    )
    p, ks, note = REF.forget_quality_vs_reference(ev, reference)
    assert p == pytest.approx(1.0) and note is None
    # The same ratios up to float noise: the reference was scored in other batches (other
    # padding), which can reorder near-equal values, so KS may see a 1/n step, never more.
    ours = ev.forget_ratios()
    assert ours == pytest.approx(reference["ratios"], rel=1e-5)
    assert ks <= 1 / len(ours) + 1e-12


def test_forget_quality_matches_scipy_ks(bench, full_model):
    model, tok = full_model
    reference = REF.retain_reference(bench, "forget10", device="cpu")
    ev = ME.evaluate_model(model, tok, bench, "forget10", generate=False)
    p, ks, _ = REF.forget_quality_vs_reference(ev, reference)
    ours = ev.split("forget10")["truth_ratio"].to_numpy()
    theirs = np.array(list(reference["ratios"].values()), dtype=float)
    expected = stats.ks_2samp(ours, theirs)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(expected.pvalue) and ks == pytest.approx(expected.statistic)
    assert set(reference["ratios"]) == {pair.id for pair in bench.pairs("forget10")}


def test_retain_reference_is_cached_and_recomputed_when_corrupt(bench, monkeypatch):
    first = REF.retain_reference(bench, "forget10", device="cpu")
    path = bench.root / "eval_cache" / "retain_reference_forget10.json"
    assert path.is_file()

    def fail(*args, **kwargs):
        raise AssertionError("the cached reference should have been used")

    with monkeypatch.context() as m:
        m.setattr(REF, "score_pairs", fail)
        assert REF.retain_reference(bench, "forget10", device="cpu") == first

    path.write_text("{not json")
    again = REF.retain_reference(bench, "forget10", device="cpu")
    assert again["ratios"] == pytest.approx(first["ratios"])


def test_retain_reference_on_read_only_benchmark_still_computes(bench, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError("read-only file system")

    # chmod does not stop root, so the read-only directory is simulated at the write call.
    monkeypatch.setattr(REF, "atomic_write_json", read_only)
    with pytest.warns(UserWarning, match="could not cache"):
        reference = REF.retain_reference(bench, "forget10", device="cpu")
    assert len(reference["ratios"]) == 4
    assert not (bench.root / "eval_cache" / "retain_reference_forget10.json").exists()


def test_missing_retain_model_names_the_prepare_option(tmp_path):
    from bench_fixture import build_tiny_benchmark

    bench = Benchmark.load(build_tiny_benchmark(tmp_path / "b", with_retain_model=False))
    with pytest.raises(BenchmarkError, match="--retain-splits retain90"):
        REF.retain_reference(bench, "forget10")


def test_step0_eval_is_cached(bench, monkeypatch):
    model_path = bench.target_model
    first = REF.step0_eval(bench, "forget10", model_path, device="cpu")
    files = sorted(p.name for p in (bench.root / "eval_cache").glob("step0_forget10_*"))
    assert [f.rsplit(".", 1)[1] for f in files] == ["json", "parquet"]

    def fail(*args, **kwargs):
        raise AssertionError("the cached step-0 evaluation should have been used")

    monkeypatch.setattr(REF, "evaluate_model", fail)
    second = REF.step0_eval(bench, "forget10", model_path, device="cpu")
    assert second.summary == pytest.approx(first.summary)
    assert list(second.examples["generated"]) == list(first.examples["generated"])


def test_uq_uses_forget_prob_and_model_utility_against_step0():
    def fake(forget_prob: float, utility: float) -> ME.ModelEval:
        import pandas as pd

        return ME.ModelEval(
            examples=pd.DataFrame(columns=ME.EXAMPLE_COLUMNS),
            summary={"forget_prob": forget_prob, "model_utility": utility},
            forget_split="forget10",
        )

    step0 = fake(0.8, 0.5)
    assert REF.uq_vs_step0(step0, step0) == {
        "forget_efficacy": 0.0,
        "retain_preservation": 1.0,
        "uq": 0.0,
    }
    later = REF.uq_vs_step0(fake(0.2, 0.4), step0)
    assert later["forget_efficacy"] == pytest.approx(0.75)
    assert later["retain_preservation"] == pytest.approx(0.8)
    assert later["uq"] == pytest.approx(100 * 2 * 0.75 * 0.8 / (0.75 + 0.8))


def test_generation_budget():
    assert ME.generation_budget([5, 12, 7]) == 12 + ME.GENERATION_MARGIN
    assert ME.generation_budget([], margin=4) == 4
    assert ME.generation_budget([1000]) == ME.GENERATION_CAP


def test_scores_match_a_direct_full_logits_computation(tiny_bench_dir, full_model):
    import torch

    from atwu.data.chat import encode_pair

    model, tok = full_model
    pair = Benchmark.load(tiny_bench_dir).pairs("forget10")[1]
    enc = encode_pair(tok, pair.question, pair.answer)
    with torch.no_grad():
        logits = model(torch.tensor([enc.input_ids])).logits[0]
    logp = torch.log_softmax(logits.double(), dim=-1)
    nll = [-logp[t - 1, enc.input_ids[t]].item() for t in range(enc.prompt_len, len(enc.input_ids))]
    got = TF.score_pairs(model, tok, [pair]).iloc[0]
    assert got["forget_loss"] == pytest.approx(np.mean(nll), rel=1e-5)
    assert got["n_tokens"] == len(nll)
    argmax = logits.argmax(-1)
    correct = [
        argmax[t - 1].item() == enc.input_ids[t] for t in range(enc.prompt_len, len(enc.input_ids))
    ]
    assert got["exact_memorization"] == pytest.approx(np.mean(correct))
