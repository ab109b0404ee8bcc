"""RWKU's probe scores: mean ROUGE-L recall of greedy answers per probe set (forget levels 1–3,
neighbour levels 1–2), for a converted RWKU benchmark (:mod:`atwu.data.rwku`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from atwu.benchmark import Benchmark
from atwu.data.rwku import (
    FORGET_LEVELS,
    MAX_NEW_TOKENS,
    NEIGHBOR_LEVELS,
    PROBE_SETS,
    load_probes,
    probe_prompt,
)
from atwu.evaluate.generation import greedy_answers
from atwu.evaluate.tofu_metrics import rouge_l_recall


def rwku_scores(
    model,
    tokenizer,
    probes: Sequence[dict] | Benchmark | str | Path,
    *,
    batch_size: int = 32,
    max_new_tokens: int = MAX_NEW_TOKENS,
    return_generations: bool = False,
) -> dict:
    """RWKU's scores: mean ROUGE-L recall of greedy answers per probe set.

    Args:
        probes: dicts with ``set`` (one of :data:`PROBE_SETS`), ``query``, ``answer`` and for
            level 3 ``type`` (as in ``probes.jsonl``), or a converted RWKU benchmark.
        max_new_tokens: RWKU generates 30 tokens.
        return_generations: also return ``"generations"``: per probe its set, id, answer,
            generation and recall.

    Returns:
        ``{"forget_level1": r, ..., "neighbor_level2": r, "forget_mean": mean of the forget
        levels present, "neighbor_mean": ..., "n": {set: count}}``; a set without probes is NaN.
        Forget levels: lower is better; neighbour levels: higher is better.

    ROUGE-L recall is :func:`atwu.evaluate.tofu_metrics.rouge_l_recall` (Google's ``rouge_score``
    with stemming, as TOFU); RWKU used the ``rouge`` package, so values differ slightly. An
    empty generation scores 0 (RWKU writes "NOANSWER", which scores ~0 too).
    """
    if isinstance(probes, (Benchmark, str, Path)):
        probes = load_probes(probes)
    groups: dict[str, list[dict]] = defaultdict(list)
    for probe in probes:
        probe_set = probe.get("set")
        if probe_set not in PROBE_SETS:
            raise ValueError(
                f"probe {probe.get('id', '?')}: 'set' must be one of "
                f"{', '.join(PROBE_SETS)}, got {probe_set!r}"
            )
        groups[probe_set].append(probe)
    nan = float("nan")
    out: dict[str, Any] = {}
    generations: list[dict] = []
    for probe_set in PROBE_SETS:
        rows = groups.get(probe_set, [])
        if not rows:
            out[probe_set] = nan
            continue
        answers = greedy_answers(
            model,
            tokenizer,
            [probe_prompt(r, probe_set) for r in rows],
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
        )
        scores = [rouge_l_recall(g, str(r["answer"])) for g, r in zip(answers, rows)]
        finite = [s for s in scores if s == s]
        out[probe_set] = sum(finite) / len(finite) if finite else nan
        if return_generations:
            generations += [
                {
                    "set": probe_set,
                    "id": r.get("id"),
                    "answer": r["answer"],
                    "generation": g,
                    "recall": s,
                }
                for r, g, s in zip(rows, answers, scores)
            ]
    for name, sets in (("forget_mean", FORGET_LEVELS), ("neighbor_mean", NEIGHBOR_LEVELS)):
        vals = [out[s] for s in sets if out[s] == out[s]]
        out[name] = sum(vals) / len(vals) if vals else nan
    out["n"] = {s: len(groups.get(s, [])) for s in PROBE_SETS}
    if return_generations:
        out["generations"] = generations
    return out
