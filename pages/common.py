"""What every page shares: the page files, the context the sidebar decided, messages.

Not a page itself (``app.py`` lists the pages with ``st.navigation``, so files here are not
discovered automatically). The data work lives in :mod:`atwu.app` (view models); the Streamlit
glue in :mod:`pages.parts`: the sidebar (``sidebar``), URL state (``url_state``) and cached reads
(``reads``).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from atwu.app.benchmarks import benchmark_dir_of, benchmark_text, demo_note
from atwu.app.issues import Issue
from atwu.app.run_list import forget_split_of
from atwu.demo import shipped_demo_dir
from atwu.paths import default_benchmark_dir
from pages.parts.sidebar import Context, sidebar


# key (also the page's URL path) -> file. No URL path may equal a file's stem in pages/: before
# the first st.navigation call of a process (and in every AppTest run) Streamlit still treats a
# pages/ folder the old way and would run a file whose stem matches the requested URL directly,
# without app.py (no sidebar, no router). tests/app/test_app_pages.py checks this.
@dataclass(frozen=True)
class PageSpec:
    """One page: the router (app.py) and Home's page list are made from :data:`PAGE_TABLE`."""

    key: str  # also the URL path (see above)
    file: str
    title: str
    icon: str
    blurb: str  # Home's one line on what the page is for ("" for Home itself)


PAGE_TABLE: tuple[PageSpec, ...] = (
    PageSpec("home", "pages/home_page.py", "Home", ":material/home:", ""),
    PageSpec(
        "run",
        "pages/run_page.py",
        "Run",
        ":material/play_arrow:",
        "launch methods, watch them train",
    ),
    PageSpec(
        "tokens",
        "pages/token_scores.py",
        "Token scores",
        ":material/format_color_text:",
        "which tokens each method forgets, against the facts; differences of two runs",
    ),
    PageSpec(
        "tradeoffs",
        "pages/tradeoffs_page.py",
        "Trade-offs",
        ":material/scatter_plot:",
        "frontiers at matched forgetting; forget quality vs utility",
    ),
    PageSpec(
        "comparison",
        "pages/comparison_page.py",
        "Method comparison",
        ":material/leaderboard:",
        "methods at matched forgetting and at their defaults",
    ),
    PageSpec(
        "findings",
        "pages/findings_page.py",
        "Findings",
        ":material/push_pin:",
        "pinned views with notes, exported as a write-up",
    ),
)
PAGES = {spec.key: spec.file for spec in PAGE_TABLE}


def context() -> Context:
    """The sidebar's decision for this script run."""
    ctx = st.session_state.get("_ctx")
    if ctx is None:  # a page run on its own (should not happen under app.py)
        ctx = sidebar()
    return ctx


def show_issues(issues: list[Issue]) -> None:
    for issue in issues:
        {"error": st.error, "warning": st.warning}.get(issue.level, st.info)(issue.text)


def blocking(issues: list[Issue]) -> bool:
    return any(i.level == "error" for i in issues)


def no_run_message() -> None:
    st.info(
        "No run is selected. Pick one in the sidebar, or launch one on the Run page "
        "(with an empty runs directory the sidebar offers the demo runs)."
    )
    st.page_link(PAGES["run"], label="Go to the Run page", icon=":material/play_arrow:")


def benchmark_note(ctx: Context) -> None:
    """Which benchmark the runs shown were made on: the demo's (and why its numbers differ
    from your runs'), else the picked run's."""
    if ctx.demo:
        mine = default_benchmark_dir()
        st.caption(
            demo_note(shipped_demo_dir(), mine if (mine / "manifest.json").is_file() else None)
        )
    elif ctx.run is not None:
        text = benchmark_text(
            benchmark_dir_of(ctx.run.path, ctx.run.config), forget_split_of(ctx.run.config)
        )
        if text:
            st.caption(f"Runs on the {text}.")
