"""Fact-level forgetting and collateral damage, as pure functions (METHOD.md §4.5).

θ0 is the starting model, θR the retain model, θ the model at a checkpoint. Token log-probabilities
are floored at log 1e-4 everywhere here, so that driving a few tokens to −50 nats cannot stand in
for forgetting many. For a fact span s with tokens T_s, ℓ_s(θ) = Σ_{t∈T_s} log p_θ(y_t | question,
true answer prefix); ℓ̄ is its mean over a split's fact spans.

* FFE = (ℓ̄(θ0) − ℓ̄(θ)) / (ℓ̄(θ0) − ℓ̄(θR)): 0 at the start, 1 where the retain model is; above 1
  is over-suppression, reported as such (not clipped).
* Fact recall FR: the share of fact spans whose every token is the teacher-forced argmax;
  its forgetting (FR(θ0) − FR(θ)) / (FR(θ0) − FR(θR)).
* Template damage TD: the mean over non-fact, non-context answer tokens of log p_θ0 − log p_θ.
* Neighbour / held-out damage: ℓ̄(θ0) − ℓ̄(θ) over (neighbour) fact spans of held-out retain pairs;
  general damage: the mean drop over the general set's answer tokens.
* Generation leakage GL: the share of a pair's fact values found in a greedy answer.

Every function returns NaN (never raises) when its value cannot exist; the callers record why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np

LOGP_FLOOR = math.log(1e-4)
#: an FFE denominator below this (in nats per span) means the retain model knows the facts as
#: well as the starting model: forgetting has nothing to be measured against
MIN_FFE_GAP = 1e-6


def floored(logp: np.ndarray) -> np.ndarray:
    """Token log-probabilities floored at log 1e-4."""
    return np.maximum(np.asarray(logp, dtype=float), LOGP_FLOOR)


def span_sums(
    values: np.ndarray, span_index: Sequence[int] | np.ndarray, n_spans: int
) -> np.ndarray:
    """Σ of per-token ``values`` within each span (``span_index[t]`` = the token's span, −1 none)."""
    out = np.zeros(n_spans)
    index = np.asarray(span_index, dtype=int)
    inside = index >= 0
    np.add.at(out, index[inside], np.asarray(values, dtype=float)[inside])
    return out


def span_all(flags: np.ndarray, span_index: Sequence[int] | np.ndarray, n_spans: int) -> np.ndarray:
    """Per span, whether ``flags`` holds for every one of its tokens (a span without a token: False)."""
    index = np.asarray(span_index, dtype=int)
    flags = np.asarray(flags, dtype=bool)
    out = np.zeros(n_spans, dtype=bool)
    for s in range(n_spans):
        mine = flags[index == s]
        out[s] = bool(mine.size) and bool(mine.all())
    return out


def concat(lists: Iterable[Sequence[float] | np.ndarray | None]) -> np.ndarray:
    """All values of per-example lists (None and empty lists skipped) as one array."""
    parts = [np.asarray(x, dtype=float) for x in lists if x is not None and len(x)]
    return np.concatenate(parts) if parts else np.zeros(0)


def mean_or_nan(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def ffe(start: np.ndarray, now: np.ndarray, retain: np.ndarray) -> float:
    """Fact forget efficacy from per-span ℓ_s of θ0, θ and θR (aligned arrays)."""
    start, now, retain = (np.asarray(a, dtype=float) for a in (start, now, retain))
    if not start.size or start.shape != now.shape or start.shape != retain.shape:
        return float("nan")
    gap = start.mean() - retain.mean()
    if not gap > MIN_FFE_GAP:
        return float("nan")
    return float((start.mean() - now.mean()) / gap)


def recall_forgetting(start: float, now: float, retain: float) -> float:
    """(FR(θ0) − FR(θ)) / (FR(θ0) − FR(θR)); NaN when the retain model recalls as much."""
    gap = start - retain
    if not gap > 0:
        return float("nan")
    return float((start - now) / gap)


def drop(start_sum: np.ndarray, now_sum: np.ndarray, count: np.ndarray) -> float:
    """Σ (start − now) / Σ count: a mean drop in log p over tokens or spans; NaN without any."""
    total = float(np.sum(count))
    if total <= 0:
        return float("nan")
    return float((np.sum(start_sum) - np.sum(now_sum)) / total)


_NOT_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def padded_words(text: str) -> str:
    """``" w1 w2 … "``: lower case, punctuation as spaces, so that a match never splits a word."""
    return f" {_SPACES.sub(' ', _NOT_WORD.sub(' ', text.lower())).strip()} "


def leaked(generation: str | None, values: Sequence[str]) -> tuple[int, int]:
    """(fact values found in ``generation``, values with a word in them), by normalised match."""
    wanted = [w for w in (padded_words(v) for v in values) if w.strip()]
    if generation is None or not wanted:
        return 0, len(wanted)
    said = padded_words(generation)
    return sum(w in said for w in wanted), len(wanted)
