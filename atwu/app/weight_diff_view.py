"""The Token scores page's difference view and weight-by-label section, without Streamlit: which
run B is offered first, the links that reopen the page at an example, and the sentences the page
prints about the steps it compares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from atwu.app.token_compare import default_compare
from atwu.runs.read import RunInfo

REFERENCE_FIRST = ("static_p", "uniform", "oracle")
"""The runs a difference is taken against first: "what does this method weight that the static
reference (or uniform weights, or the spans themselves) does not?"."""

DIFF_TAB = "Difference (A − B)"
LABEL_TAB = "Weight by span label"


def default_b(run: RunInfo, others: Sequence[RunInfo]) -> str | None:
    """Run B for run A = ``run``: a reference of :data:`REFERENCE_FIRST` (seed 0 first) when one
    is there and A is not of that method, else the first run compare mode would stack."""
    by_method = sorted(others, key=lambda r: (r.config.get("seed", 0) or 0, r.name))
    for method in REFERENCE_FIRST:
        for other in by_method:
            if other.method == method and other.method != run.method:
                return other.name
    picked = default_compare(run, list(others))
    if picked:
        return picked[0]
    return others[0].name if others else None


def link_to(params: Mapping[str, Sequence[str] | str], **changes: str | None) -> str:
    """A relative link (``?…``) that reopens the page with ``params`` (the current query
    parameters) and ``changes`` applied (None removes a parameter)."""
    merged: dict[str, list[str]] = {
        k: [v] if isinstance(v, str) else list(v) for k, v in params.items()
    }
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = [value]
    return "?" + urlencode(merged, doseq=True)


def steps_caption(
    name_a: str,
    step_a: int,
    name_b: str,
    step_b: int,
    *,
    matched: bool,
    level: float,
    shape: bool = False,
) -> str:
    """What the difference view compares, in a few sentences (``shape``: the page's "Shape
    only", each example's weights divided by their maximum in each run)."""
    how = (
        f"each at its first checkpoint with FFE ≥ {level:g}"
        if matched
        else "at the checkpoint picked above (B at its nearest recorded one)"
    )
    scale = (
        "Shape only: each example's weights divided by its largest, in each run."
        if shape
        else "Weights are compared as recorded: two methods on different scales differ by "
        "their scale as well as by where they put weight (Shape only compares the shapes)."
    )
    return (
        f"A = {name_a} at step {step_a}, B = {name_b} at step {step_b}, {how}. Orange: A weights "
        f"the token more; purple: B does. {scale}"
    )


def not_matched_note(names: Sequence[str], level: float) -> str:
    """Why some runs are missing from (or fall back in) a view at matched forgetting."""
    return (
        f"{', '.join(names)}: no checkpoint with FFE ≥ {level:g} (the run has no fact "
        "evaluation, or it never forgets that much)."
    )
