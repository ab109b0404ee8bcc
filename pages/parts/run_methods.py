"""The Run page's "2 · Model" and the methods with their hyperparameters: widgets only; their
values go to :mod:`atwu.app.run_commands`."""

from __future__ import annotations

from typing import Any

import streamlit as st

from atwu.app.run_commands import MODEL_KINDS, ModelChoice
from atwu.app.run_form import ParamSpec, param_specs
from atwu.methods.registry import all_methods
from atwu.params import as_text
from pages.parts.url_state import seed


def model_section() -> ModelChoice:
    kind = st.radio(
        "Starting model",
        list(MODEL_KINDS),
        key="model_kind",
        horizontal=True,
        format_func=MODEL_KINDS.__getitem__,
    )
    if kind == "target":
        return ModelChoice()
    hint = (
        "e.g. open-unlearning/tofu_Llama-3.2-1B-Instruct_full"
        if kind == "hub"
        else "/path/to/a/save_pretrained/model"
    )
    arg = st.text_input("Model", key="model_id", placeholder=hint).strip() or None
    if kind == "hub":
        st.caption(
            "A hub model is downloaded on first use (this needs the network) and must "
            "share the benchmark's tokenizer conventions; the embedded benchmark's tiny "
            "models are the offline default."
        )
    return ModelChoice(kind="hub" if kind == "hub" else "path", arg=arg)


def _param_input(method: str, spec: ParamSpec) -> Any:
    key = f"p_{method}_{spec.name}"
    label, help_text = spec.name, f"{spec.help} (default: {as_text(spec.default)})"
    if spec.kind == "bool":
        return st.checkbox(label, value=bool(spec.default), key=key, help=help_text)
    if spec.kind == "int":
        return st.number_input(label, value=int(spec.default), step=1, key=key, help=help_text)
    if spec.kind == "choice":
        choices = list(spec.choices)
        return st.selectbox(
            label, choices, index=choices.index(spec.default), key=key, help=help_text
        )
    # float, str and anything else: typed as text, parsed by the registry
    return st.text_input(label, value=as_text(spec.default), key=key, help=help_text)


def methods_section() -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The chosen methods and each one's hyperparameters as the form holds them."""
    methods = all_methods()
    names = sorted(methods)
    seed(
        "methods",
        None,
        valid=lambda v: isinstance(v, list) and set(v) <= set(names),
        default=["atwu"],
    )
    # Listed by name only: typing "wga" must select WGA, not every method whose description
    # mentions it. The descriptions are in the help and under each chosen method.
    chosen = st.multiselect(
        "Methods (one run per method, setting and seed)",
        names,
        key="methods",
        help="\n".join(f"- **{m}**: {methods[m].summary}" for m in names),
    )
    values: dict[str, dict[str, Any]] = {}
    for method in chosen:
        with st.expander(f"{method} hyperparameters", expanded=len(chosen) == 1):
            st.caption(
                f"{methods[method].summary.rstrip('.')}. A text field takes a comma-separated "
                "list (e.g. `0.05, 0.2`): one run per value, launched as one sweep."
            )
            cols = st.columns(3)
            values[method] = {}
            for i, spec in enumerate(param_specs(method)):
                with cols[i % 3]:
                    values[method][spec.name] = _param_input(method, spec)
    return chosen, values
