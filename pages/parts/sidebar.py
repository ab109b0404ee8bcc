"""The sidebar every page shares: the runs directory (the demo runs when it is empty) and the run
picker. It decides the :class:`Context` the pages draw."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from atwu.app.run_list import default_run, run_caption, run_label
from atwu.demo import shipped_demo_dir
from atwu.paths import runs_dir as default_runs_dir
from atwu.runs.read import RunInfo, list_runs
from pages.parts.url_state import keep, qp_set, seed


@dataclass
class Context:
    """What the sidebar decided: where runs are read from and which one is picked."""

    root: Path
    demo: bool
    user_root: Path
    runs: list[RunInfo] = field(default_factory=list)
    run: RunInfo | None = None

    def by_name(self, name: str) -> RunInfo | None:
        return next((r for r in self.runs if r.name == name), None)

    def get(self, name: str) -> RunInfo:
        """A run the page offered from :attr:`runs` (KeyError for any other name)."""
        run = self.by_name(name)
        if run is None:
            raise KeyError(f"no run named {name!r} in {self.root}")
        return run

    def label(self, name: str) -> str:
        r = self.by_name(name)
        return run_label(r, demo=self.demo) if r else name


def _demo_runs(root: Path) -> list[RunInfo]:
    """Offer the shipped demo runs when ``root`` has none; the demo runs when they are shown."""
    st.caption(
        f"No runs in `{root}` yet."
        if root.is_dir()
        else f"`{root}` does not exist yet (runs launched here will create it)."
    )
    demo_runs = list_runs(shipped_demo_dir())
    if not demo_runs:
        return []
    seed(
        "use_demo",
        "demo",
        valid=lambda v: isinstance(v, bool),
        default=True,
        parse=lambda v: v in ("1", "true", "True"),
    )
    st.toggle(
        "Show the demo runs",
        key="use_demo",
        help="Small finished runs shipped with the app (a 40-author embedded "
        "benchmark, default settings), to look around before launching "
        "your own.",
    )
    keep("use_demo", "demo", to_url=lambda v: "1" if v else None)
    if st.session_state.get("use_demo"):
        st.caption("**demo** runs: read-only examples; launch your own on the Run page.")
        return demo_runs
    return []


def _run_picker(ctx: Context) -> None:
    names = [r.name for r in ctx.runs]
    if not names:
        st.caption("No run to pick.")
        return
    seed("run", "run", valid=lambda v: v in names, default=default_run(ctx.runs, demo=ctx.demo))
    st.selectbox(
        "Run",
        names,
        key="run",
        format_func=ctx.label,
        help="The run the pages show (Token scores, Trade-offs, ...).",
    )
    keep("run", "run")
    ctx.run = ctx.by_name(st.session_state["run"])
    if ctx.run is not None:
        st.caption(run_caption(ctx.run))


def sidebar() -> Context:
    """Draw the shared sidebar and return (and store) the context for the page."""
    default_dir = str(default_runs_dir())
    with st.sidebar:
        seed("runs_dir", "dir", valid=lambda v: isinstance(v, str), default=default_dir)
        st.text_input(
            "Runs directory",
            key="runs_dir",
            help="Where run directories are read from and new runs are written "
            "(default: $ATWU_HOME/runs).",
        )
        text = (st.session_state.get("runs_dir") or default_dir).strip() or default_dir
        keep("runs_dir", "dir", to_url=lambda v: None if v.strip() == default_dir else v)
        user_root = Path(text).expanduser()
        ctx = Context(root=user_root, demo=False, user_root=user_root)
        ctx.runs = list_runs(user_root) if user_root.is_dir() else []
        if ctx.runs:
            qp_set("demo", None)
        elif demo_runs := _demo_runs(user_root):
            ctx.root, ctx.demo, ctx.runs = shipped_demo_dir(), True, demo_runs
        _run_picker(ctx)
    st.session_state["_ctx"] = ctx
    return ctx
