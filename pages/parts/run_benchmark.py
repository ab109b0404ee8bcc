"""The Run page's "1 · Benchmark": the list of benchmarks, a hub dataset's options, another
directory, uploaded files, and the forget split of a prepared one."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from atwu.app.benchmarks import (
    HUB_CHOICES,
    OTHER,
    UPLOAD,
    benchmark_option_label,
    benchmark_options,
    benchmark_summary,
    prepared_benchmarks,
)
from atwu.app.cli_text import ATWU
from atwu.app.run_commands import BenchmarkChoice, benchmark_caption, hub_extra
from atwu.paths import benchmarks_dir, default_benchmark_dir
from pages import common
from pages.parts import run_upload
from pages.parts.span_editor import span_editor
from pages.parts.url_state import seed


def _hub(hub: str, default_dir: Path) -> BenchmarkChoice:
    st.caption(
        "Converted from the hub (needs the network on first use) or from a local copy of "
        "the dataset's files; it has no model of its own: give one under Model below. "
        "See docs/REAL_BENCHMARKS.md."
    )
    h1, h2 = st.columns(2)
    data_dir = h1.text_input("Local copy of the dataset (optional)", key="hub_data_dir")
    split, targets = None, ""
    if hub == "tofu":
        split = h2.selectbox(
            "Forget split", ["forget01", "forget05", "forget10"], index=2, key="hub_split"
        )
    else:
        targets = h2.text_input("Targets (RWKU numbers, e.g. 1-10)", value="1", key="hub_targets")
    return BenchmarkChoice(
        default_dir=default_dir,
        hub=hub,
        hub_split=split,
        hub_extra=hub_extra(hub, data_dir, targets),
    )


def _not_prepared(path: Path, default_dir: Path) -> None:
    if path == default_dir:
        st.warning(
            "The embedded benchmark is not prepared yet: install it on the Home page (one "
            f"click, a copy ships with the app) or run `{ATWU} prepare`."
        )
        st.page_link(common.PAGES["home"], label="Go to Home", icon=":material/home:")
    else:
        st.error(
            f"`{path}` is not a prepared benchmark (no readable manifest.json). "
            f"Prepare one with `{ATWU} prepare --forget F --retain R --out DIR`."
        )


def _prepared(path: Path, default_dir: Path) -> BenchmarkChoice:
    summary = benchmark_summary(path)
    if summary is None:
        _not_prepared(path, default_dir)
        return BenchmarkChoice(default_dir=default_dir, path=path)
    splits = list(summary["forget_splits"]) or [summary["default_split"]]
    c1, c2 = st.columns([1, 3])
    with c1:
        default = summary["default_split"]
        seed(
            "split",
            None,
            valid=lambda v: v in splits,
            default=default if default in splits else splits[0],
        )
        split = st.selectbox("Forget split", splits, key="split")
    c2.caption(benchmark_caption(summary, split))
    with st.expander("Edit its ground-truth spans (saved as a new version)"):
        span_editor(path, split)
    return BenchmarkChoice(default_dir=default_dir, path=path, summary=summary, split=split)


def benchmark_section() -> BenchmarkChoice:
    """Draw the section; return what it chose."""
    default_dir = default_benchmark_dir()
    options = benchmark_options(prepared_benchmarks(benchmarks_dir()), default_dir)
    seed("bench_choice", None, valid=lambda v: v in options, default=options[0])
    choice = st.selectbox(
        "Benchmark",
        options,
        key="bench_choice",
        format_func=lambda option: benchmark_option_label(option, default_dir),
    )
    if choice in HUB_CHOICES:
        return _hub(HUB_CHOICES[choice], default_dir)
    if choice == OTHER:
        text = st.text_input(
            "Prepared benchmark directory",
            key="bench_path",
            placeholder="/path/to/benchmark (holds manifest.json)",
        )
        if not text.strip():
            return BenchmarkChoice(default_dir=default_dir)
        return _prepared(Path(text).expanduser(), default_dir)
    if choice == UPLOAD:
        run_upload.upload_section()
        return BenchmarkChoice(default_dir=default_dir)
    return _prepared(Path(choice), default_dir)
