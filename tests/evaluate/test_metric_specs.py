"""The metric table (atwu.metric_specs) is the one place a metric is declared: every key list,
the file schema, the labels and the cache version follow it, and every hand-made selection of
metrics (a page's columns, a report's table) names declared metrics only."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pyarrow as pa
import pytest

from atwu import metric_specs as S
from atwu.analysis import frontier, frontier_data, frontier_gates, report_figures, report_md
from atwu.analysis.compare import COMPARE_METRICS
from atwu.app import labels, token_compare
from atwu.evaluate import alignment, checkpoint, fact_eval, model_eval
from atwu.evaluate.summary_metrics import SUMMARY_METRICS
from atwu.runs.read import EVAL_EXAMPLE_COLUMNS

ALL_KEYS = [s.key for s in S.METRICS]


def test_keys_are_unique_and_every_row_is_well_formed():
    assert len(ALL_KEYS) == len(set(ALL_KEYS))
    for row in S.METRICS:
        assert row.group in ("model", "fact", "alignment", "loop"), row.key
        assert row.better in ("higher", "lower", ""), row.key
        assert row.label.strip(), row.key
        missing = set(row.example_columns) - set(S.EXAMPLE_COLUMNS)
        assert not missing, f"{row.key} names example columns {missing} the file does not have"


def test_rows_of_a_group_are_contiguous_so_record_order_is_group_order():
    groups = [s.group for s in S.METRICS]
    seen: list[str] = []
    for group in groups:
        if not seen or seen[-1] != group:
            assert group not in seen, f"group {group} is split in two in METRICS"
            seen.append(group)


def test_the_evaluation_key_lists_are_the_tables():
    assert S.keys("model") + S.keys("fact") == checkpoint.MODEL_METRICS
    assert S.keys("fact") == fact_eval.FACT_METRICS
    assert S.keys("alignment") == alignment.ALIGNMENT_KEYS
    assert S.keys("alignment", stable=True) == checkpoint.ALIGNMENT_METRICS
    assert S.keys("loop") == checkpoint.LOOP_METRICS
    assert set(checkpoint.GENERATED_METRICS) == {s.key for s in S.METRICS if s.generated}
    stable = [s.key for s in S.METRICS if s.stable]
    assert ("step", *stable, "notes", "seconds") == checkpoint.STABLE_KEYS
    assert list(COMPARE_METRICS) == stable


def test_the_example_file_schema_is_the_tables():
    schema = checkpoint.EXAMPLE_SCHEMA
    assert schema.names == list(S.EXAMPLE_COLUMNS) == EVAL_EXAMPLE_COLUMNS
    assert schema.field("span_kind").type == pa.list_(pa.string())
    assert schema.field("template_tokens").type == pa.int64()
    assert schema.field("prob").type == pa.float64()


def test_every_metric_has_a_label_and_the_short_ones_are_shorter():
    assert list(labels.METRIC_LABELS) == ALL_KEYS
    for key in ALL_KEYS:
        assert labels.metric_label(key) == S.spec(key).label  # type: ignore[union-attr]
        assert len(labels.short_label(key)) <= len(labels.metric_label(key))
    assert labels.short_label("ffe_specific") == "FFE (specific)"
    assert labels.metric_label("rwku_forget_1") == "rwku forget 1"  # undeclared: from the key


@pytest.mark.parametrize(
    "name, chosen",
    [
        ("labels.HEADLINE_METRICS", labels.HEADLINE_METRICS),
        ("labels.FACT_COLUMNS", labels.FACT_COLUMNS),
        ("labels.ALIGNMENT_COLUMNS", labels.ALIGNMENT_COLUMNS),
        ("token_compare.ALIGNMENT_CURVES", token_compare.ALIGNMENT_CURVES),
        ("frontier.AXES", frontier.AXES),
        ("frontier.KIND_METRICS", frontier.KIND_METRICS),
        ("frontier_data.POINT_METRICS", frontier_data.POINT_METRICS),
        ("report_md.DEFAULT_COLUMNS", report_md.DEFAULT_COLUMNS),
        ("report_md.AXIS_TITLES", tuple(report_md.AXIS_TITLES)),
        ("report_figures.AXIS_NAMES", tuple(report_figures.AXIS_NAMES)),
        ("frontier_gates.PAIR_GATES axes", tuple(g[1] for g in frontier_gates.PAIR_GATES)),
    ],
)
def test_every_selection_of_metrics_names_declared_ones(name, chosen):
    unknown = set(chosen) - set(ALL_KEYS)
    assert not unknown, f"{name} names {sorted(unknown)}, which atwu/metric_specs.py lacks"


def test_every_summary_function_has_a_model_row():
    assert SUMMARY_METRICS, "the registry is empty: summarise would compute nothing from it"
    for key in SUMMARY_METRICS:
        row = S.spec(key)
        assert row is not None and row.group == "model", key


def test_the_registered_summary_metrics_are_means_of_the_forget_rows():
    # extraction strength: mean of the forget rows' values, NaN left out: (0.2 + 0.6) / 2
    forget = pd.DataFrame(
        {"extraction_strength": [0.2, math.nan, 0.6], "exact_memorization": [1.0, 0.5, 0.0]}
    )
    retain = forget.iloc[0:0]
    assert SUMMARY_METRICS["extraction_strength"](forget, retain) == pytest.approx(0.4)
    assert SUMMARY_METRICS["exact_memorization"](forget, retain) == pytest.approx(0.5)


def test_cache_version_follows_the_rows_that_reach_the_cache(monkeypatch):
    version = S.cache_version(model_eval.EXAMPLE_COLUMNS)
    assert version == model_eval.CACHE_VERSION
    assert version.startswith(f"{S.CACHE_BUMP}-")
    assert S.cache_version(["a"]) != S.cache_version(["b"])  # the cached frame's columns count

    rows = list(S.METRICS)
    relabelled = [dataclasses.replace(r, label=r.label + "!") for r in rows]
    monkeypatch.setattr(S, "METRICS", tuple(relabelled))
    assert S.cache_version(model_eval.EXAMPLE_COLUMNS) == version, "a label reached the hash"

    extra_alignment = S.MetricSpec("auroc_new", "new AUROC", "alignment", "higher")
    monkeypatch.setattr(S, "METRICS", (*rows, extra_alignment))
    assert S.cache_version(model_eval.EXAMPLE_COLUMNS) == version

    extra_model = S.MetricSpec("forget_new", "new", "model", "lower", example_columns=("prob",))
    monkeypatch.setattr(S, "METRICS", (*rows, extra_model))
    assert S.cache_version(model_eval.EXAMPLE_COLUMNS) != version

    monkeypatch.setattr(S, "METRICS", tuple(rows))
    monkeypatch.setattr(S, "CACHE_BUMP", S.CACHE_BUMP + 1)
    assert S.cache_version(model_eval.EXAMPLE_COLUMNS) != version


def test_a_cache_of_another_version_is_refused(tmp_path):
    examples = pd.DataFrame({"split": ["forget10"], "example_id": ["a"], "prob": [0.5]})
    stem = tmp_path / "step0"
    model_eval.ModelEval(examples, {"forget_prob": 0.5}, forget_split="forget10").save(stem)
    assert model_eval.ModelEval.load(stem).summary == {"forget_prob": 0.5}
    meta = stem.with_suffix(".json")
    meta.write_text(meta.read_text().replace(f'"{model_eval.CACHE_VERSION}"', "3"))
    with pytest.raises(ValueError, match="cache version 3"):
        model_eval.ModelEval.load(stem)
