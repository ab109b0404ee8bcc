"""Run → a prepared benchmark → "Edit its ground-truth spans": pick a pair of a forget split,
mark or remove its spans, save every edit as a new version of the benchmark (the original kept;
the version named from it, ``<name>-spans-v<n>``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from atwu.app.span_versions import save_span_version, with_spans
from atwu.benchmark import Benchmark
from atwu.data.format import QAPair, Span
from atwu.errors import InputError
from atwu.paths import benchmarks_dir
from atwu.viz.marked_text import marked_text_html
from pages.parts.typed_marks import mark_controls

EDITS = "_span_edits"  # {"bench": str, "pairs": {pair id: QAPair with the edited spans}}


def _edits(bench_dir: Path) -> dict[str, QAPair]:
    state = st.session_state.get(EDITS)
    if not state or state["bench"] != str(bench_dir):
        state = st.session_state[EDITS] = {"bench": str(bench_dir), "pairs": {}}
    return state["pairs"]


def span_editor(bench_dir: Path, split: str) -> None:
    """The editor, in a fragment: marking redraws it alone, not the Run page."""

    @st.fragment
    def editor() -> None:
        _editor(bench_dir, split)

    editor()


def _editor(bench_dir: Path, split: str) -> None:
    try:
        pairs = Benchmark.load(bench_dir).pairs(split)
    except (InputError, OSError) as exc:
        st.error(f"Cannot read the pairs of {split}: {exc}")
        return
    edits = _edits(bench_dir)
    by_id = {p.id: p for p in pairs}
    pair_id = st.selectbox(
        "Pair",
        list(by_id),
        key="span_pair",
        format_func=lambda i: f"{i}: {by_id[i].question[:70]}",
    )
    pair = edits.get(pair_id, by_id[pair_id])
    if pair_id in edits:
        st.caption("This pair's spans are edited (not saved yet).")
    st.text(f"Q: {pair.question}")
    st.caption("Answer, with its spans:")

    def save(marks: list[Span]) -> None:
        try:
            edits[pair_id] = with_spans(by_id[pair_id], marks)
        except InputError as exc:
            st.error(str(exc))

    mark_controls(pair.answer, pair.question, list(pair.spans or []), save, prefix="bench_mark")
    if not pair.spans:
        st.html(marked_text_html(pair.answer, []))
    c1, c2 = st.columns([2, 1])
    c1.caption(
        f"{len(edits)} pair(s) edited. Saving writes a copy of the benchmark with the edited "
        "spans (models linked, not retrained: spans change no model); this one stays as it is."
    )
    if c2.button("Save as a new version", key="span_save", disabled=not edits, type="primary"):
        try:
            new = save_span_version(bench_dir, edits, benchmarks_dir())
        except (InputError, OSError) as exc:
            st.error(f"Not saved: {exc}")
        else:
            st.session_state.pop(EDITS, None)
            st.success(f"Saved as `{new.name}` ({new}): pick it in the Benchmark list above.")
