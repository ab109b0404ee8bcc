"""The resumable state of a run (``RUN/state/``): model weights, optimiser, scheduler, method
state (ATWU's scorer), step and RNG, replaced whole at every checkpoint."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from atwu.io import read_jsonl, write_jsonl


def save_state(out: Path, model, opt, sched, method, step: int, extra: dict | None = None) -> None:
    """Write the state under a temporary name, then swap it in. ``extra`` holds the loop's own
    accumulators (plain numbers), e.g. the pressure tally."""
    tmp = out / ".state.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    model.save_pretrained(tmp / "model")
    torch.save(
        {
            "optimiser": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "method": method.state_dict(),
            "step": step,
            "extra": extra or {},
            "torch_rng": torch.get_rng_state(),
        },
        tmp / "trainer.pt",
    )
    old = out / ".state.old"
    shutil.rmtree(old, ignore_errors=True)
    if (out / "state").exists():
        os.replace(out / "state", old)
    os.replace(tmp, out / "state")
    shutil.rmtree(old, ignore_errors=True)


def load_state(out: Path, model, opt, sched, method, device, *, lora: bool) -> tuple[int, dict]:
    """Restore everything :func:`save_state` wrote; returns the step to continue after and the
    loop's ``extra`` accumulators."""
    from safetensors.torch import load_file

    state_dir = out / "state"
    weights = load_file(str(next((state_dir / "model").glob("*.safetensors"))), device=str(device))
    if lora:  # the state holds adapter weights under peft's names
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, weights)
    else:
        model.load_state_dict(weights, strict=False)
    # weights_only: our own checkpoint of tensors and plain containers, never arbitrary pickles
    state = torch.load(state_dir / "trainer.pt", map_location=device, weights_only=True)
    opt.load_state_dict(state["optimiser"])
    sched.load_state_dict(state["scheduler"])
    method.load_state_dict(state["method"])
    torch.set_rng_state(state["torch_rng"].cpu())
    truncate_logs(out, int(state["step"]))
    return int(state["step"]), dict(state.get("extra") or {})


def truncate_logs(out: Path, step: int) -> None:
    """Drop what a killed run logged after its last checkpoint, so a resumed run's logs match."""
    from atwu.runs.layout import EVAL_LOG, TRAIN_LOG

    for name in (TRAIN_LOG, EVAL_LOG):
        path = out / name
        if path.is_file():
            write_jsonl(path, [r for r in read_jsonl(path) if r.get("step", 0) <= step])
