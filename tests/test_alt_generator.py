"""ATWU's defaults on a differently worded benchmark (companies, other templates): the defaults
must not be fitted to the embedded wording alone (reproduction issue, target AUROC ≥ 0.90)."""

from __future__ import annotations

import pandas as pd
import pytest

from atwu.data.companies import generate
from atwu.prepare.build import prepare_companies


def test_alt_generator_spans_cover_values():
    splits = generate(20, seed=3)
    assert len(splits["forget"]) == 20 and len(splits["retain"]) == 180
    for pair in splits["forget"] + splits["retain"]:
        labels = {s.label for s in pair.spans}
        assert "context" in labels and labels & {"specific", "shared"}
        for span in pair.spans:
            assert pair.answer[span.start : span.end].strip() == pair.answer[span.start : span.end]
        assert (
            len(pair.perturbed_answers) == 3
            and pair.paraphrased_answer not in pair.perturbed_answers
        )


@pytest.mark.slow
def test_atwu_defaults_find_the_facts_on_the_second_generator(tmp_path):
    from atwu.config import RunConfig
    from atwu.evaluate.alignment_metrics import alignment_metrics
    from atwu.train.loop import Trainer

    bench = tmp_path / "companies"
    quality = prepare_companies(bench, 60, seed=0)
    assert quality["models"]["full"]["exact_match"]["forget"] >= 0.9  # it memorised the facts
    run = tmp_path / "run"
    Trainer(
        RunConfig(method="atwu", benchmark=str(bench), evaluate=False, save_model=False), run
    ).run()
    weights = pd.read_parquet(run / "weights.parquet")
    final = weights[weights.step == weights.step.max()]
    auroc = alignment_metrics(final.weight.to_numpy(), final.label.to_numpy()).auroc
    assert auroc >= 0.90, f"ATWU defaults reach AUROC {auroc:.3f} on the company benchmark"
