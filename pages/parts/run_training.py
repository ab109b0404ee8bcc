"""The Run page's training settings (steps or epochs, lr, checkpoints, seeds, device,
evaluation, run names): widgets only; their values go to :mod:`atwu.app.run_commands`."""

from __future__ import annotations

import dataclasses

import streamlit as st

from atwu.app.run_commands import TrainingForm
from atwu.app.run_form import train_specs
from atwu.params import as_text


def training_section() -> TrainingForm:
    st.markdown("**Training**")
    train = {s.name: s for s in train_specs()}
    c = st.columns(4)
    steps_given = st.session_state.get("t_steps", 0) > 0  # steps replace epochs: grey epochs out
    epochs = c[0].number_input(
        "epochs",
        min_value=0.1,
        value=float(train["epochs"].default),
        step=1.0,
        key="t_epochs",
        help=train["epochs"].help,
        disabled=steps_given,
    )
    steps = c[1].number_input(
        "steps",
        min_value=0,
        value=int(train["steps"].default),
        step=10,
        key="t_steps",
        help=train["steps"].help,
    )
    lr_text = c[2].text_input(
        "lr", value=as_text(train["lr"].default), key="t_lr", help=train["lr"].help
    )
    ckpt = c[3].number_input(
        "checkpoint_every",
        min_value=0,
        value=int(train["checkpoint_every"].default),
        step=5,
        key="t_ckpt",
        help=train["checkpoint_every"].help,
    )
    return TrainingForm(
        epochs=float(epochs),
        default_epochs=float(train["epochs"].default),
        steps=int(steps),
        lr_text=lr_text,
        checkpoint_every=int(ckpt),
    )


def run_options_section(form: TrainingForm) -> TrainingForm:
    """Seeds, device, evaluation and the run names: the rest of the training form."""
    c = st.columns(5)
    seed = c[0].number_input(
        "seed", min_value=0, value=0, step=1, key="t_seed", help="random seed of the first run"
    )
    n_seeds = c[1].number_input(
        "seeds per method",
        min_value=1,
        max_value=10,
        value=1,
        step=1,
        key="t_nseeds",
        help="runs seed, seed+1, ... (mean ± std on the Method comparison page)",
    )
    device = c[2].selectbox(
        "device",
        ["auto", "cpu", "cuda"],
        key="t_device",
        help="auto: CUDA with bf16 when there is a GPU, CPU otherwise",
    )
    quick = c[3].checkbox(
        "quick evaluation",
        value=False,
        key="t_quick",
        help="evaluate the model only at step 0 and at the end (token weights and "
        "their alignment are still recorded at every checkpoint)",
    )
    evaluate = c[4].checkbox(
        "evaluate", value=True, key="t_eval", help="off: --no-eval (no forget quality / utility)"
    )
    prefix = st.text_input(
        "Run name prefix (optional)",
        key="t_name",
        help="runs are named <prefix><method>-s<seed>-<time>",
    )
    return dataclasses.replace(
        form,
        seed=int(seed),
        n_seeds=int(n_seeds),
        device=str(device),
        quick=bool(quick),
        evaluate=bool(evaluate),
        prefix=prefix,
    )
