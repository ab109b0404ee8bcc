"""The fact-level metrics of one checkpoint (METHOD.md §4.5), from three evaluations: the model at
the checkpoint (θ), the starting model (θ0, cached per benchmark) and the retain model's per-span
values (θR, in the retain reference).

Every value that cannot exist is None with a note saying why (the retain reference lacks
per-span values, the held-out pairs have no neighbour facts, the checkpoint was evaluated
without generation...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from atwu.data.format import QAPair
from atwu.evaluate import fact_metrics as F
from atwu.evaluate.model_eval import ModelEval
from atwu.metric_specs import keys

FACT_METRICS = keys("fact")
"""Keys :func:`fact_level` adds to a checkpoint's record."""

NO_GENERATION_NOTE = "not generated at this checkpoint (--quick: only at step 0 and the end)"


def _aligned(now: pd.DataFrame, start: pd.DataFrame) -> pd.DataFrame:
    """``start``'s rows in ``now``'s example order (same split)."""
    return start.set_index("example_id").reindex(now["example_id"]).reset_index()


def _lists(column: pd.Series) -> list[list[float]]:
    return [list(v) if v is not None else [] for v in column]


def _flat(frame: pd.DataFrame, column: str) -> list:
    """A per-span list column of every example, concatenated (missing column: empty)."""
    if column not in frame.columns:
        return []
    return [v for cell in frame[column] if cell is not None for v in cell]


def ffe_by_kind(
    start: np.ndarray,
    now: np.ndarray,
    retain: np.ndarray,
    kinds: Sequence[str],
    tokens: Sequence[int],
) -> tuple[dict[str, float | None], dict[str, str]]:
    """FFE over ``specific`` and over ``shared`` spans alone, and the fact-balanced FFE, whose
    ℓ_s is the mean (not the sum) over the span's tokens, so that each fact counts once (a name
    of four tokens would otherwise weigh four times a one-token city; METHOD.md §4.5)."""
    keys = ("ffe_specific", "ffe_shared", "ffe_balanced")
    out: dict[str, float | None] = dict.fromkeys(keys)
    notes: dict[str, str] = {}
    n = len(start)
    if not (len(now) == len(retain) == len(kinds) == len(tokens) == n) or not n:
        for key in keys:
            notes[key] = "the spans' kinds or token counts do not line up with their log-probs"
        return out, notes
    kind = np.asarray(kinds, dtype=object)
    for key, label in (("ffe_specific", "specific"), ("ffe_shared", "shared")):
        mask = kind == label
        value = F.ffe(start[mask], now[mask], retain[mask]) if mask.any() else math.nan
        out[key] = None if math.isnan(value) else value
        if out[key] is None:
            notes[key] = (
                f"the forget split has no {label} fact span"
                if not mask.any()
                else f"the retain model knows the {label} facts as well as the starting model"
            )
    count = np.asarray(tokens, dtype=float)
    has = count > 0
    value = F.ffe(start[has] / count[has], now[has] / count[has], retain[has] / count[has])
    out["ffe_balanced"] = None if math.isnan(value) else value
    if out["ffe_balanced"] is None:
        notes["ffe_balanced"] = "the retain model knows the forget facts as well as θ0"
    return out, notes


def span_drop(
    start: Sequence[Sequence[float] | None],
    now: Sequence[Sequence[float] | None],
    neighbour: Sequence[Sequence[bool] | None],
    *,
    only_neighbours: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Per example: Σ (ℓ_s(θ0) − ℓ_s(θ)) over its fact spans (only those flagged neighbour, with
    ``only_neighbours``), and how many spans that is. Lists of different lengths (the example
    was scored differently) count as no span."""
    sums, counts = [], []
    for a, b, flags in zip(start, now, neighbour):
        a, b, flags = (
            list(a if a is not None else []),
            list(b if b is not None else []),
            list(flags if flags is not None else []),
        )
        keep = [bool(f) for f in flags] if only_neighbours else [True] * len(a)
        if len(a) != len(b) or len(keep) != len(a):
            keep = []
        sums.append(sum(x - y for x, y, k in zip(a, b, keep) if k))
        counts.append(sum(keep))
    return np.asarray(sums, dtype=float), np.asarray(counts, dtype=float)


def fact_level(
    now: ModelEval,
    start: ModelEval,
    reference: Mapping[str, Any] | None,
    pairs: Mapping[str, QAPair],
    *,
    forget_split: str,
    heldout_split: str,
    general_splits: Sequence[str],
    generated: bool,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The record values of :data:`FACT_METRICS` and notes for the ones that are None.

    ``pairs`` maps forget example ids to their pairs (the fact values generation leakage looks
    for).
    """
    out: dict[str, Any] = dict.fromkeys(FACT_METRICS)
    notes: dict[str, str] = {}
    f_now = now.split(forget_split)
    f_start = _aligned(f_now, start.split(forget_split))
    spans_ref = (reference or {}).get("spans")

    # FFE on the answers and on their paraphrases
    now_spans, start_spans = _lists(f_now["span_logp"]), _lists(f_start["span_logp"])
    if not any(now_spans):
        for key in ("ffe", "ffe_paraphrase", "fact_recall", "fact_recall_forgetting"):
            notes[key] = f"the forget split {forget_split} has no fact spans (ground truth unknown)"
    elif not spans_ref:
        why = (
            "the retain reference has no per-span values (it was imported from another "
            "tool's logs, or there is no retain model)"
        )
        notes["ffe"] = notes["ffe_paraphrase"] = notes["fact_recall_forgetting"] = why
    else:
        ref = [spans_ref.get(i) or {} for i in f_now["example_id"]]
        out["ffe"] = F.ffe(
            F.concat(start_spans), F.concat(now_spans), F.concat([r.get("span_logp") for r in ref])
        )
        if math.isnan(out["ffe"]):
            out["ffe"] = None
            notes["ffe"] = "the retain model knows the forget facts as well as the starting model"
        by_kind, kind_notes = ffe_by_kind(
            F.concat(start_spans),
            F.concat(now_spans),
            F.concat([r.get("span_logp") for r in ref]),
            _flat(f_now, "span_kind"),
            _flat(f_now, "span_tokens"),
        )
        out.update(by_kind)
        notes.update(kind_notes)
        para = [
            F.concat(_lists(f_start["para_span_logp"])),
            F.concat(_lists(f_now["para_span_logp"])),
            F.concat([r.get("para_span_logp") for r in ref]),
        ]
        value = F.ffe(*para)
        out["ffe_paraphrase"] = None if math.isnan(value) else value
        if out["ffe_paraphrase"] is None:
            notes["ffe_paraphrase"] = "the forget pairs have no spans on their paraphrased answers"
        recall_ref = F.concat([r.get("span_recalled") for r in ref])
        fr0 = F.mean_or_nan(F.concat(_lists(f_start["span_recalled"])))
        fr_r = F.mean_or_nan(recall_ref)
        fr = F.mean_or_nan(F.concat(_lists(f_now["span_recalled"])))
        value = F.recall_forgetting(fr0, fr, fr_r)
        out["fact_recall_forgetting"] = None if math.isnan(value) else value
        if out["fact_recall_forgetting"] is None:
            notes["fact_recall_forgetting"] = "the retain model recalls the forget facts as often"
    if any(now_spans):
        out["fact_recall"] = F.mean_or_nan(F.concat(_lists(f_now["span_recalled"])))

    # generation leakage: the pair's fact values in the greedy answers to both wordings
    if not generated:
        notes["generation_leakage"] = NO_GENERATION_NOTE
    else:
        found = asked = 0
        for ex, gen, gen_para in zip(
            f_now["example_id"], f_now["generated"], f_now["generated_para"]
        ):
            pair = pairs.get(str(ex))
            if pair is None:
                continue
            values = [pair.answer[s.start : s.end] for s in pair.fact_spans()]
            for text in (gen, gen_para):
                if text is not None:
                    hit, n = F.leaked(text, values)
                    found, asked = found + hit, asked + n
        out["generation_leakage"] = found / asked if asked else None
        if not asked:
            notes["generation_leakage"] = "no fact value to look for in the forget answers"

    # template damage on the forget answers
    out["template_damage"] = _or_none(
        F.drop(
            f_start["template_logp_sum"].to_numpy(float),
            f_now["template_logp_sum"].to_numpy(float),
            f_now["template_tokens"].to_numpy(float),
        )
    )
    if out["template_damage"] is None:
        notes["template_damage"] = "the forget answers have no labelled template token"

    # damage to held-out retain facts, and to the neighbours among them
    h_now = now.split(heldout_split)
    h_start = _aligned(h_now, start.split(heldout_split))
    for key, neighbours in (("neighbour_damage", True), ("heldout_damage", False)):
        sums, counts = span_drop(
            h_start["span_logp"],
            h_now["span_logp"],
            h_now["span_neighbour"],
            only_neighbours=neighbours,
        )
        out[key] = _or_none(float(sums.sum() / counts.sum()) if counts.sum() else math.nan)
        if out[key] is None:
            notes[key] = (
                f"the held-out retain pairs ({heldout_split}) have no fact whose value a "
                "forget author shares"
                if neighbours
                else f"the held-out retain pairs ({heldout_split}) have no fact spans"
            )

    # the general set's answers
    g_now = pd.concat([now.split(s) for s in general_splits]) if general_splits else None
    if g_now is not None and len(g_now):
        g_start = pd.concat([_aligned(now.split(s), start.split(s)) for s in general_splits])
        out["general_damage"] = _or_none(
            F.drop(
                g_start["answer_logp_sum"].to_numpy(float),
                g_now["answer_logp_sum"].to_numpy(float),
                g_now["answer_tokens"].to_numpy(float),
            )
        )
    if out["general_damage"] is None:
        notes["general_damage"] = "the benchmark has no general set with labelled answer tokens"
    return out, notes


def example_columns(
    now: ModelEval, start: ModelEval, reference: Mapping[str, Any] | None
) -> pd.DataFrame:
    """Per (split, example) of ``now``: the starting model's per-span log-probs and template sum,
    and (forget split) the retain model's per-span log-probs, for ``eval_examples.parquet``."""
    parts = []
    spans_ref = (reference or {}).get("spans") or {}
    for split, rows in now.examples.groupby("split", sort=False):
        s = _aligned(rows, start.split(str(split)))
        part = pd.DataFrame(
            {
                "split": split,
                "example_id": rows["example_id"].to_numpy(),
                "span_logp_start": s["span_logp"].to_numpy(),
                "template_logp_start": s["template_logp_sum"].to_numpy(float),
            }
        )
        if split == now.forget_split:
            part["span_logp_retain"] = [
                (spans_ref.get(ex) or {}).get("span_logp") for ex in rows["example_id"]
            ]
        else:
            part["span_logp_retain"] = None
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _or_none(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)
