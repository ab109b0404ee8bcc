"""The Findings data behind the pages: a pin made from what the Token scores page shows, and the
figure and write-up of the pins (see :mod:`atwu.findings` for the store)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from atwu.findings import Pin, PinnedRow, new_pin_id, utc_text
from atwu.findings_export import findings_zip
from atwu.viz.colour_scale import scale_range
from atwu.viz.token_figure import Scale, token_figure
from atwu.viz.tokens import normalised_by_max


def pinned_row(label: str, tokens: pd.DataFrame, *, normalise: bool = False) -> PinnedRow:
    """One shown row as kept in a pin: its tokens in position order, their weights (as drawn:
    divided by the row's maximum under "shape only") and span kinds."""
    if tokens is None or tokens.empty:
        return PinnedRow(label=label, tokens=[], weights=[], spans=[])
    frame = normalised_by_max(tokens) if normalise else tokens
    frame = frame.sort_values("position", kind="stable") if "position" in frame else frame
    weights = pd.to_numeric(frame["weight"], errors="coerce")
    kinds = frame["span_kind"] if "span_kind" in frame else pd.Series(None, index=frame.index)
    labels = frame["label"] if "label" in frame else pd.Series(None, index=frame.index)
    spans: list[str | None] = []
    for kind, lab in zip(kinds, labels, strict=True):
        if isinstance(kind, str) and kind:
            spans.append(kind)
        elif lab is not None and not pd.isna(lab) and int(lab) == 1:
            spans.append("fact")  # a labelled fact without a kind (custom data) still gets a mark
        else:
            spans.append(None)
    return PinnedRow(
        label=label,
        tokens=["" if pd.isna(t) else str(t) for t in frame["token"]],
        weights=[None if pd.isna(w) else float(w) for w in weights],
        spans=spans,
    )


def make_pin(
    *,
    note: str,
    run: str,
    step: int,
    example: str,
    compared: Sequence[str],
    link: str,
    rows: Sequence[tuple[str, pd.DataFrame]],
    question: str = "",
    answer: str = "",
    view: dict | None = None,
) -> Pin:
    """A new pin (fresh id and time) of the view the page draws from ``rows``."""
    view = dict(view or {})
    normalise = bool(view.get("normalise"))
    return Pin(
        id=new_pin_id(),
        note=note,
        run=run,
        step=int(step),
        example=str(example),
        compared=list(compared),
        link=link,
        question=question,
        answer=answer,
        rows=[pinned_row(label, frame, normalise=normalise) for label, frame in rows],
        created_at=utc_text(),
        view=view,
    )


def pinned_frame(row: PinnedRow) -> pd.DataFrame:
    """A pinned row as the token rows :func:`atwu.viz.token_figure.token_figure` draws."""
    return pd.DataFrame(
        {
            "position": range(len(row.tokens)),
            "token": row.tokens,
            "weight": [math.nan if w is None else w for w in row.weights],
            "span_kind": row.spans,
        }
    )


def pin_figure(pin: Pin, theme: str = "light") -> bytes:
    """The pin's token view as a PNG (the paper figure of the Token scores page), on the scale
    it was drawn on (the rows' own range when the pin did not keep one)."""
    vmin, vmax = pin.view.get("vmin"), pin.view.get("vmax")
    values = [w for r in pin.rows for w in r.weights if w is not None and math.isfinite(w)]
    lo, hi = scale_range(min(values), max(values)) if values else (0.0, 1.0)
    scale = Scale(
        vmin=float(vmin) if isinstance(vmin, (int, float)) else lo,
        vmax=float(vmax) if isinstance(vmax, (int, float)) else hi,
    )
    return token_figure(
        [(r.label, pinned_frame(r)) for r in pin.rows],
        scale=scale,
        theme=theme,
        title=f"{pin.run} · example {pin.example} · step {pin.step}",
    )


def write_up(pins: Sequence[Pin], *, base_url: str = "", theme: str = "light") -> bytes:
    """The zip the Findings page offers: ``findings.md`` and one figure per pin."""
    return findings_zip(pins, figure=lambda p: pin_figure(p, theme), base_url=base_url)


def pin_rows(pin: Pin) -> list[tuple[str, pd.DataFrame]]:
    """The pin's rows as token tables :func:`atwu.viz.tokens.compare_html` draws (its snapshot:
    no run directory is read)."""
    out = []
    for row in pin.rows:
        frame = pd.DataFrame(
            {
                "position": range(len(row.tokens)),
                "token": row.tokens,
                "weight": [float("nan") if w is None else w for w in row.weights],
                "span_kind": row.spans,
                "label": [1 if s in ("specific", "shared", "fact") else 0 for s in row.spans],
            }
        )
        out.append((row.label, frame))
    return out


def pin_title(pin: Pin) -> str:
    others = f" vs {', '.join(pin.compared)}" if pin.compared else ""
    return f"{pin.run}{others} · example {pin.example} · step {pin.step}"
