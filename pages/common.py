"""What every page shares: the sidebar (runs directory, run picker), URL state and cached reads.

Not a page itself (``app.py`` lists the pages with ``st.navigation``, so files here are not
discovered automatically). The data work lives in :mod:`atwu.app` (view models); this module adds only
Streamlit: caching keyed on path + file stamp, query-parameter sync and message drawing.

URL state: ``run`` (the run picked in the sidebar), ``dir`` (the runs directory when it is not
the default), ``demo=1`` (the demo runs), and page parameters such as ``step``, ``example``,
``compare``. A copied link reproduces the view.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from atwu.app.issues import Issue, file_stamp
from atwu.app.run_list import run_label
from atwu.app.token_view import at_step, recorded_steps
from atwu.app.token_view import example_table as example_table_
from atwu.demo import shipped_demo_dir
from atwu.paths import runs_dir as default_runs_dir
from atwu.runs.read import (
    RunInfo,
    examples_by_id,
    list_runs,
    read_eval_examples,
    read_evals,
    read_train_log,
    read_weights,
    train_log_path,
)

# key (also the page's URL path) -> file. No URL path may equal a file's stem in pages/: before
# the first st.navigation call of a process (and in every AppTest run) Streamlit still treats a
# pages/ folder the old way and would run a file whose stem matches the requested URL directly,
# without app.py (no sidebar, no router). tests/app/test_app_pages.py checks this.
PAGES = {
    "home": "pages/home_page.py",
    "run": "pages/run_page.py",
    "tokens": "pages/token_scores.py",
    "tradeoffs": "pages/tradeoffs_page.py",
    "comparison": "pages/comparison_page.py",
}


# ---------------------------------------------------------------------------------------------
# Query parameters <-> widget state
# ---------------------------------------------------------------------------------------------


def qp_all(name: str) -> list[str]:
    return list(st.query_params.get_all(name))


def qp_one(name: str) -> str | None:
    values = qp_all(name)
    return values[-1] if values else None


def qp_set(name: str, value: Any) -> None:
    """Write a query parameter only when it changes (None / empty list removes it)."""
    if value is None or value == [] or value == "":
        if name in st.query_params:
            del st.query_params[name]
        return
    if isinstance(value, (list, tuple)):
        value = [str(v) for v in value]
        if qp_all(name) != value:
            st.query_params[name] = value
    elif qp_all(name) != [str(value)]:
        st.query_params[name] = str(value)


def seed(
    key: str,
    param: str | None,
    *,
    valid: Callable[[Any], bool],
    default: Any,
    parse: Callable[[Any], Any] = lambda v: v,
    multi: bool = False,
) -> None:
    """Give widget ``key`` its starting value before it is drawn.

    Order: the widget's own state (the user's last choice in this session), then the URL's
    ``param`` (a shared link), then the value kept when the widget was last on screen (pages
    drop widget state when you leave them), then ``default``.
    """
    if key in st.session_state and valid(st.session_state[key]):
        return
    candidates = []
    if param is not None:
        raw = qp_all(param) if multi else qp_one(param)
        if raw not in (None, []):
            with contextlib.suppress(TypeError, ValueError):  # a bad link falls back quietly
                candidates.append([parse(v) for v in raw] if multi else parse(raw))
    if f"_keep_{key}" in st.session_state:
        candidates.append(st.session_state[f"_keep_{key}"])
    for value in candidates:
        if valid(value):
            st.session_state[key] = value
            return
    st.session_state[key] = default


def keep(key: str, param: str | None = None, *, to_url: Callable[[Any], Any] = lambda v: v) -> Any:
    """After a widget is drawn: remember its value across pages and mirror it in the URL."""
    value = st.session_state.get(key)
    st.session_state[f"_keep_{key}"] = value
    if param is not None:
        qp_set(param, to_url(value) if value is not None else None)
    return value


# ---------------------------------------------------------------------------------------------
# The sidebar
# ---------------------------------------------------------------------------------------------


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

    def label(self, name: str) -> str:
        r = self.by_name(name)
        return run_label(r, demo=self.demo) if r else name


def _default_run(runs: list[RunInfo], demo: bool) -> str | None:
    if not runs:
        return None
    if demo:
        return next((r.name for r in runs if r.method == "atwu"), runs[0].name)
    # The newest run (by start time) is what a user just launched or looked at.
    return max(runs, key=lambda r: (r.status.get("started_at") or "", r.name)).name


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
        root = Path(text).expanduser()
        runs = list_runs(root) if root.is_dir() else []
        demo = False
        if not runs:
            demo_runs = list_runs(shipped_demo_dir())
            st.caption(
                f"No runs in `{root}` yet."
                if root.is_dir()
                else f"`{root}` does not exist yet (runs launched here will create it)."
            )
            if demo_runs:
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
                    demo, root, runs = True, shipped_demo_dir(), demo_runs
                    st.caption(
                        "**demo** runs: read-only examples; launch your own on the Run page."
                    )
        else:
            qp_set("demo", None)
        ctx = Context(root=root, demo=demo, user_root=Path(text).expanduser(), runs=runs)
        names = [r.name for r in runs]
        if names:
            seed("run", "run", valid=lambda v: v in names, default=_default_run(runs, demo))
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
                st.caption(_run_caption(ctx.run))
        else:
            st.caption("No run to pick.")
    st.session_state["_ctx"] = ctx
    return ctx


def _run_caption(r: RunInfo) -> str:
    step = f"step {r.status.get('step', '?')}/{r.status.get('total_steps', '?')}"
    bench = (r.config.get("resolved") or {}).get("split") or r.config.get("split") or ""
    return " · ".join(
        x for x in (r.method, f"seed {r.config.get('seed', '?')}", r.state, step, bench) if x
    )


def context() -> Context:
    ctx = st.session_state.get("_ctx")
    if ctx is None:  # a page run on its own (should not happen under app.py)
        ctx = sidebar()
    return ctx


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Cached reads (keyed on the path and the file's mtime + size)
# ---------------------------------------------------------------------------------------------


@st.cache_resource(max_entries=8, show_spinner=False)
def _weights_all(path: str, stamp: tuple | None) -> pd.DataFrame:
    # A resource, not data: the full table is shared read-only (no copy per read); pages only
    # ever take filtered copies of it.
    return read_weights(path)


@st.cache_data(max_entries=64, show_spinner=False)
def _weights_step(path: str, stamp: tuple | None, step: int) -> pd.DataFrame:
    full = _weights_all(path, stamp)
    return at_step(full, step).reset_index(drop=True)


@st.cache_data(max_entries=32, show_spinner=False)
def _steps(path: str, stamp: tuple | None) -> list[int]:
    return recorded_steps(_weights_all(path, stamp))


@st.cache_data(max_entries=32, show_spinner=False)
def _eval_examples(path: str, stamp: tuple | None) -> pd.DataFrame:
    return read_eval_examples(path)


@st.cache_data(max_entries=64, show_spinner=False)
def _evals(path: str, stamp: tuple | None) -> pd.DataFrame:
    return read_evals(path)


@st.cache_data(max_entries=32, show_spinner=False)
def _train_log(path: str, stamp: tuple | None) -> pd.DataFrame:
    return read_train_log(path)


@st.cache_data(max_entries=32, show_spinner=False)
def _examples(path: str, stamp: tuple | None) -> dict:
    return examples_by_id(path)


@st.cache_data(max_entries=64, show_spinner=False)
def _example_table(
    path: str,
    wstamp: tuple | None,
    estamp: tuple | None,
    xstamp: tuple | None,
    step: int,
    split: str,
) -> pd.DataFrame:
    return example_table_(
        _weights_step(path, wstamp, step),
        _eval_examples(path, estamp),
        _examples(path, xstamp),
        step=step,
        split=split,
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _json(path: str, stamp: tuple | None) -> Any:
    from atwu.io import read_json

    return read_json(path)


def _guard(fn: Callable, *args: Any) -> tuple[Any, str | None]:
    try:
        return fn(*args), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"


def stamp(run_dir: Path, name: str) -> tuple | None:
    return file_stamp(Path(run_dir) / name)


def weights_steps(run_dir: Path) -> tuple[list[int] | None, str | None]:
    return _guard(_steps, str(run_dir), stamp(run_dir, "weights.parquet"))


def weights_at(run_dir: Path, step: int) -> tuple[pd.DataFrame | None, str | None]:
    return _guard(_weights_step, str(run_dir), stamp(run_dir, "weights.parquet"), int(step))


def eval_examples(run_dir: Path) -> tuple[pd.DataFrame | None, str | None]:
    return _guard(_eval_examples, str(run_dir), stamp(run_dir, "eval_examples.parquet"))


def evals(run_dir: Path) -> tuple[pd.DataFrame | None, str | None]:
    return _guard(_evals, str(run_dir), stamp(run_dir, "eval.jsonl"))


def train_log(run_dir: Path) -> tuple[pd.DataFrame | None, str | None]:
    return _guard(_train_log, str(run_dir), file_stamp(train_log_path(run_dir)))


def examples(run_dir: Path) -> tuple[dict | None, str | None]:
    return _guard(_examples, str(run_dir), stamp(run_dir, "examples.jsonl"))


def example_table(run_dir: Path, step: int, split: str) -> tuple[pd.DataFrame | None, str | None]:
    return _guard(
        _example_table,
        str(run_dir),
        stamp(run_dir, "weights.parquet"),
        stamp(run_dir, "eval_examples.parquet"),
        stamp(run_dir, "examples.jsonl"),
        int(step),
        split,
    )


def json_file(path: Path) -> tuple[Any, str | None]:
    return _guard(_json, str(path), file_stamp(path))


@st.cache_resource(show_spinner=False)
def device_text() -> str:
    """What this machine trains on: the GPU's name, or CPU."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"cuda ({torch.cuda.get_device_name(0)})"
    except Exception:
        return "cpu (torch could not be imported)"
    return "cpu (no CUDA GPU found)"
