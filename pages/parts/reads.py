"""Cached reads of run directories for the pages: every read is keyed on the file's path and
its stamp (mtime + size), so a page redraw reads a file again only when it changed, and a damaged
file gives ``(None, error text)`` instead of an exception.

The frames the Token scores page reads on every change of a control are cached as shared
resources (no copy per read: the pages never modify them, they only take filtered copies); the
others as data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from atwu.app.issues import file_stamp
from atwu.app.token_compare import example_table_columns, relabelled
from atwu.app.token_view import at_step, recorded_steps
from atwu.app.token_view import example_table as example_table_
from atwu.io import read_json
from atwu.runs.read import (
    examples_by_id,
    read_eval_examples,
    read_evals,
    read_train_log,
    read_weights,
    train_log_path,
)


@st.cache_resource(max_entries=8, show_spinner=False)
def _weights_all(path: str, stamp: tuple | None) -> pd.DataFrame:
    # A resource, not data: the full table is shared read-only (no copy per read); pages only
    # ever take filtered copies of it.
    return read_weights(path)


@st.cache_resource(max_entries=64, show_spinner=False)
def _weights_step(path: str, stamp: tuple | None, step: int) -> pd.DataFrame:
    full = _weights_all(path, stamp)
    return at_step(full, step).reset_index(drop=True)


@st.cache_data(max_entries=32, show_spinner=False)
def _steps(path: str, stamp: tuple | None) -> list[int]:
    return recorded_steps(_weights_all(path, stamp))


@st.cache_resource(max_entries=32, show_spinner=False)
def _eval_examples(path: str, stamp: tuple | None) -> pd.DataFrame:
    return read_eval_examples(path)


@st.cache_data(max_entries=64, show_spinner=False)
def _evals(path: str, stamp: tuple | None) -> pd.DataFrame:
    return read_evals(path)


@st.cache_data(max_entries=32, show_spinner=False)
def _train_log(path: str, stamp: tuple | None) -> pd.DataFrame:
    return read_train_log(path)


@st.cache_resource(max_entries=32, show_spinner=False)
def _examples(path: str, stamp: tuple | None) -> dict:
    return examples_by_id(path)


@st.cache_resource(max_entries=64, show_spinner=False)
def _example_table(
    path: str,
    wstamp: tuple | None,
    estamp: tuple | None,
    xstamp: tuple | None,
    step: int,
    split: str,
    truth: str,
) -> pd.DataFrame:
    table = example_table_(
        relabelled(_weights_step(path, wstamp, step), truth),
        _eval_examples(path, estamp),
        _examples(path, xstamp),
        step=step,
        split=split,
    )
    return table.rename(columns=example_table_columns(truth))


@st.cache_data(max_entries=16, show_spinner=False)
def _json(path: str, stamp: tuple | None) -> Any:
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


def example_table(
    run_dir: Path, step: int, split: str, truth: str = "facts"
) -> tuple[pd.DataFrame | None, str | None]:
    """The example table at ``step``, its AUROC and weight columns under ground truth
    ``truth`` (see :data:`atwu.app.token_compare.GROUND_TRUTHS`)."""
    return _guard(
        _example_table,
        str(run_dir),
        stamp(run_dir, "weights.parquet"),
        stamp(run_dir, "eval_examples.parquet"),
        stamp(run_dir, "examples.jsonl"),
        int(step),
        split,
        truth,
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


@st.cache_data(max_entries=32, show_spinner=False)
def _label_weights(path: str, stamp: tuple | None, name: str, shape: bool) -> pd.DataFrame:
    from atwu.analysis.label_weights import label_weights
    from atwu.analysis.weight_diff import shape_only

    weights = _weights_all(path, stamp)
    return label_weights(shape_only(weights) if shape else weights, run=name)


def label_weights_of(
    run_dir: Path, name: str, *, shape: bool = False
) -> tuple[pd.DataFrame | None, str | None]:
    """Mean and quartiles of the run's weights per checkpoint and span group, its rows named
    ``name`` (:func:`atwu.analysis.label_weights.label_weights`); ``shape``: each example's
    weights divided by their maximum first (the page's "Shape only")."""
    return _guard(_label_weights, str(run_dir), stamp(run_dir, "weights.parquet"), name, shape)


@st.cache_resource(max_entries=16, show_spinner=False)
def _difference(
    a: str,
    a_stamp: tuple | None,
    a_step: int,
    b: str,
    b_stamp: tuple | None,
    b_step: int,
    shape: bool,
) -> tuple[pd.DataFrame, int, pd.DataFrame, pd.DataFrame]:
    from atwu.analysis.weight_diff import (
        example_disagreement,
        paired_tokens,
        shape_only,
        token_disagreement,
    )

    wa, wb = _weights_step(a, a_stamp, a_step), _weights_step(b, b_stamp, b_step)
    if shape:
        wa, wb = shape_only(wa), shape_only(wb)
    paired, left_out = paired_tokens(wa, wb)
    return paired, left_out, example_disagreement(paired), token_disagreement(paired)


def difference(
    a_dir: Path, a_step: int, b_dir: Path, b_step: int, *, shape: bool = False
) -> tuple[tuple[pd.DataFrame, int, pd.DataFrame, pd.DataFrame] | None, str | None]:
    """Run A's weights at ``a_step`` against run B's at ``b_step``: the paired tokens, how many
    of A's were left out, the examples ranked by disagreement and the tokens by span label
    (:mod:`atwu.analysis.weight_diff`); ``shape``: each example divided by its maximum first."""
    return _guard(
        _difference,
        str(a_dir),
        stamp(a_dir, "weights.parquet"),
        int(a_step),
        str(b_dir),
        stamp(b_dir, "weights.parquet"),
        int(b_step),
        shape,
    )
