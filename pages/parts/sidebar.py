"""The sidebar every page shares: the runs directory, the run picker (your runs, and the demo runs
beside them or in their place) and what the picked run is. It decides the :class:`Context` the
pages draw. Pages compare a run only with the runs of its own group: yours, or the demo bundle's
(another, smaller benchmark), listed as ``demo/<name>`` beside yours."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from atwu.app.active_runs import run_status
from atwu.app.polling import poll_interval, polling_should_stop
from atwu.app.run_list import default_run, list_all_runs, picker_label, run_caption, run_label
from atwu.app.safe_dirs import dir_from_link
from atwu.demo import shipped_demo_dir
from atwu.paths import atwu_home, runs_dir
from atwu.runs.read import RunDirError, RunInfo, list_runs, read_run
from pages.parts.charts import figure_format_picker
from pages.parts.url_state import keep, qp_one, qp_set, seed

DEMO = "demo/"  # how a demo run is named in the picker when your own runs are listed too
DEMO_IN_PLACE = (
    "Small finished runs shipped with the app (a frontier sweep on a 40-author embedded "
    "benchmark), to look around before launching your own."
)
DEMO_BESIDE = (
    "The runs shipped with the app (another, smaller benchmark), listed as demo/… beside "
    "yours; a demo run is compared with the other demo runs only."
)


@dataclass
class Context:
    """What the sidebar decided: where runs are read from and which one is picked."""

    root: Path
    demo: bool
    user_root: Path
    runs: list[RunInfo] = field(default_factory=list)  # the picked run's group
    run: RunInfo | None = None
    demo_in_place: bool = False  # the demo runs are shown as there is no run of your own (yet)

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


def _demo_toggle(key: str, param: str, default: bool, label: str, help_text: str) -> bool:
    seed(
        key,
        param,
        valid=lambda v: isinstance(v, bool),
        default=default,
        parse=lambda v: v in ("1", "true", "True"),
    )
    st.toggle(label, key=key, help=help_text)
    keep(key, param, to_url=lambda v: "1" if v else None)
    return bool(st.session_state.get(key))


def _demo_only(ctx: Context, root: Path) -> None:
    """No runs of your own: offer the shipped demo runs in their place."""
    st.caption(
        f"No runs in `{root}` yet."
        if root.is_dir()
        else f"`{root}` does not exist yet (runs launched here will create it)."
    )
    demo_runs = list_runs(shipped_demo_dir())
    if demo_runs and _demo_toggle("use_demo", "demo", True, "Show the demo runs", DEMO_IN_PLACE):
        st.caption("**demo** runs: read-only examples; launch your own on the Run page.")
        ctx.root, ctx.demo, ctx.runs = shipped_demo_dir(), True, demo_runs
        ctx.demo_in_place = True


def _run_picker(ctx: Context, demo_beside: list[RunInfo]) -> None:
    names = [r.name for r in ctx.runs] + [DEMO + r.name for r in demo_beside]
    if not names:
        st.caption("No run to pick.")
        return
    demo_by = {DEMO + r.name: r for r in demo_beside}

    def label(name: str) -> str:
        if name in demo_by:
            return picker_label(demo_by[name].name, demo=True)
        return picker_label(name, demo=ctx.demo)

    seed("run", "run", valid=lambda v: v in names, default=default_run(ctx.runs, demo=ctx.demo))
    st.selectbox(
        "Run",
        names,
        key="run",
        format_func=label,
        help="The run the pages show; they compare it with its group: yours, or the demo runs.",
    )
    keep("run", "run")
    picked = st.session_state["run"]
    if picked in demo_by:  # the pages switch to the demo group
        ctx.root, ctx.demo, ctx.runs = shipped_demo_dir(), True, list(demo_beside)
        ctx.run = demo_by[picked]
    else:
        ctx.run = ctx.by_name(picked)
    if ctx.run is not None:
        _run_status(ctx.run, None if ctx.demo else ctx.user_root)


def _run_status(run: RunInfo, runs_dir: Path | None) -> None:
    """The picked run's full name and state, read as Home's card and the Run page read it and
    redrawn with them while the run is live (a caption drawn once would keep saying "queued"
    while the card counts the steps)."""
    if runs_dir is None:  # a demo run: finished, read-only
        st.caption(f"`{run.name}` · {run_caption(run)}")
        return
    every = poll_interval(run_status(run.path, runs_dir).live)

    @st.fragment(run_every=every)
    def sidebar_run_status() -> None:
        line = run_status(run.path, runs_dir)
        try:
            info = read_run(run.path)
        except RunDirError:
            info = run
        st.caption(f"`{run.name}` · {run_caption(info, line.state)}")
        if polling_should_stop(every, line.live):
            st.rerun()  # it ended: the whole page shows its results, without the timer

    sidebar_run_status()


def _runs_dir_input(default_dir: str) -> str:
    """A link's ?dir= seeds it only if allowed (Launch writes there); what is typed is allowed."""
    state, opened = st.session_state, st.session_state.setdefault("_opened_dirs", set())
    if "runs_dir" not in state:
        kept = state.get("_keep_runs_dir") or default_dir
        to, why = dir_from_link(qp_one("dir"), opened=opened, home=atwu_home(), default=kept)
        state["runs_dir"], state["_dir_refused"] = str(to), (why, str(to))
    st.text_input("Runs directory", key="runs_dir", help=f"Default: {default_dir}.")
    refused, shown = state.get("_dir_refused") or (None, None)
    if refused and state["runs_dir"] == shown:
        st.warning(refused)  # until another directory is typed
    opened.add(text := (state["runs_dir"] or default_dir).strip() or default_dir)
    return text


def sidebar() -> Context:
    """Draw the shared sidebar and return (and store) the context for the page."""
    default_dir = str(runs_dir())
    with st.sidebar:
        text = _runs_dir_input(default_dir)
        keep("runs_dir", "dir", to_url=lambda v: None if v.strip() == default_dir else v)
        user_root = Path(text).expanduser()
        ctx = Context(root=user_root, demo=False, user_root=user_root)
        ctx.runs = list_all_runs(user_root)
        demo_beside: list[RunInfo] = []
        if ctx.runs:
            qp_set("demo", None)  # the demo runs in place of yours: only while you have none
            if _demo_toggle(
                "demo_beside", "with_demo", False, "List the demo runs too", DEMO_BESIDE
            ):
                demo_beside = list_runs(shipped_demo_dir())
        else:
            _demo_only(ctx, user_root)
        _run_picker(ctx, demo_beside)
        figure_format_picker()
    st.session_state["_ctx"] = ctx
    return ctx
