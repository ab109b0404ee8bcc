"""One colour per method (its variant), one marker per seed: how every figure that draws several
runs tells them apart. Three ATWU seeds are three ATWU-coloured lines with different markers, not
three unrelated colours; the colours are the frontier figures' (:data:`VARIANT_COLOURS`)."""

from __future__ import annotations

from collections.abc import Sequence

from atwu.viz.frontier_figures import SYMBOLS, curve_colours

RunStyle = tuple[str, str]
"""(colour, marker symbol) of a run."""


def seed_symbol(seed: object) -> str:
    """The marker of a seed (cycled beyond :data:`SYMBOLS`)."""
    try:
        return SYMBOLS[int(str(seed)) % len(SYMBOLS)]
    except ValueError:
        return SYMBOLS[0]


def run_styles(runs: Sequence[tuple[str, str, object]]) -> dict[str, RunStyle]:
    """``(name, variant, seed)`` of each run → its (colour, marker): the colour of its variant
    (a named one keeps its colour in every figure), the marker of its seed."""
    colours = curve_colours(list(dict.fromkeys(variant for _, variant, _ in runs)))
    return {name: (colours[variant], seed_symbol(seed)) for name, variant, seed in runs}
