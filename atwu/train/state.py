"""The resumable state of a run (``RUN/state/``): model weights, optimiser, scheduler, method
state (ATWU's scorer), step and RNG, replaced whole at every checkpoint.

A state is written under ``.state.partial`` and marked complete (``complete.json``, written
last); the previous one is then moved to ``.state.old`` and the new one renamed to ``state``. A
kill can land between those two renames, leaving no ``state/`` but a complete state beside it:
:func:`find_state` and :func:`recover_state` find the newest complete one wherever it is.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import torch

from atwu.io import atomic_write_json, read_json_object, read_jsonl, write_jsonl
from atwu.runs.layout import STATE_DIR
from atwu.train.errors import RunError

PARTIAL = ".state.partial"
OLD = ".state.old"
COMPLETE = "complete.json"
TRAINER = "trainer.pt"


class StateNotSaved(OSError):
    """The state of a checkpoint could not be written (a full disk, most often). Its text is one
    line naming the run's state folder, the cause, and what a resume starts from."""

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def save_state(out: Path, model, opt, sched, method, step: int, extra: dict | None = None) -> None:
    """Write the state under a temporary name, mark it complete, then swap it in. ``extra``
    holds the loop's own accumulators (plain numbers), e.g. the pressure tally.

    When writing fails (a full disk: ``torch.save`` and ``save_pretrained`` raise OSError or
    RuntimeError), the half-written ``.state.partial`` is removed (it frees the space the failure
    record needs; the previous ``state/`` is untouched) and :class:`StateNotSaved` is raised."""
    tmp = out / PARTIAL
    shutil.rmtree(tmp, ignore_errors=True)
    try:
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
            tmp / TRAINER,
        )
        _sync_files(tmp)
        atomic_write_json(tmp / COMPLETE, {"step": step})
    except (OSError, RuntimeError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _not_saved(out, step, exc) from exc
    old = out / OLD
    shutil.rmtree(old, ignore_errors=True)
    if (out / STATE_DIR).exists():
        os.replace(out / STATE_DIR, old)
    # a kill here leaves no state/, a complete .state.partial and .state.old: recover_state
    os.replace(tmp, out / STATE_DIR)
    shutil.rmtree(old, ignore_errors=True)


def _not_saved(out: Path, step: int, exc: BaseException) -> StateNotSaved:
    no_space = getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in str(exc)
    if no_space:
        cause = "the disk is full"
    elif isinstance(exc, OSError) and exc.strerror:
        cause = exc.strerror
    else:
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    previous = find_state(out)
    resume = (
        f"--resume continues from the state of step {_state_step(previous)}"
        if previous is not None
        else "no state was saved yet, so --resume starts the run over"
    )
    error = StateNotSaved(
        errno.ENOSPC if no_space else getattr(exc, "errno", None) or errno.EIO,
        f"could not save the state of step {step} ({cause}); {resume} once that is fixed",
    )
    error.filename = str(out / STATE_DIR)
    return error


def _state_step(folder: Path) -> str:
    try:
        return str(read_json_object(folder / COMPLETE)["step"])
    except (OSError, ValueError, KeyError):
        return "its last checkpoint"


def _sync_files(folder: Path) -> None:
    """fsync what save_pretrained and torch.save wrote, so "complete" means on disk."""
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _is_complete(folder: Path, *, marked: bool) -> bool:
    """A state folder that can be loaded: marked complete, or (``marked`` False: a folder that
    was once ``state/``, possibly from before states were marked) holding its trainer file."""
    if not (folder / TRAINER).is_file() or not any((folder / "model").glob("*.safetensors")):
        return False
    return (folder / COMPLETE).is_file() or not marked


def find_state(out: Path) -> Path | None:
    """The newest complete state of run ``out``, wherever a kill left it; None when there is
    none. ``state/`` first; then ``.state.partial`` when marked complete (a kill between the
    two renames of :func:`save_state`: it is newer than ``.state.old``); then ``.state.old``."""
    out = Path(out)
    for folder, marked in ((out / STATE_DIR, False), (out / PARTIAL, True), (out / OLD, False)):
        if folder.is_dir() and _is_complete(folder, marked=marked):
            return folder
    return None


def recover_state(out: Path) -> bool:
    """Put the newest complete state at ``out/state`` (call with the run's lease held); False
    when the run has no complete state at all."""
    found = find_state(out)
    if found is None:
        return False
    target = Path(out) / STATE_DIR
    if found != target:
        if target.exists():
            shutil.rmtree(target)
        os.replace(found, target)
    return True


def load_state(
    out: Path, model, opt, sched, method, device, *, lora: bool, truncate: bool = True
) -> tuple[int, dict]:
    """Restore everything :func:`save_state` wrote; returns the step to continue after and the
    loop's ``extra`` accumulators. A damaged state is a :class:`RunError` naming it. ``truncate``:
    also cut the logs back to that step (the process that writes the run directory does)."""
    from safetensors.torch import load_file

    state_dir = Path(out) / STATE_DIR
    try:
        weights = load_file(
            str(next((state_dir / "model").glob("*.safetensors"))), device=str(device)
        )
        # weights_only: our own checkpoint of tensors and plain containers, never arbitrary pickles
        state = torch.load(state_dir / TRAINER, map_location=device, weights_only=True)
    except (OSError, StopIteration, RuntimeError, EOFError, ValueError) as exc:
        raise RunError(
            f"{state_dir}: the saved state cannot be read ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'damaged'}); start the run over with "
            "--overwrite"
        ) from None
    if lora:  # the state holds adapter weights under peft's names
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, weights)
    else:
        model.load_state_dict(weights, strict=False)
    opt.load_state_dict(state["optimiser"])
    sched.load_state_dict(state["scheduler"])
    method.load_state_dict(state["method"])
    torch.set_rng_state(state["torch_rng"].cpu())
    if truncate:
        truncate_logs(out, int(state["step"]))
    return int(state["step"]), dict(state.get("extra") or {})


def truncate_logs(out: Path, step: int) -> None:
    """Drop what a killed run logged after its last checkpoint, so a resumed run's logs match."""
    from atwu.runs.layout import EVAL_LOG, TRAIN_LOG

    for name in (TRAIN_LOG, EVAL_LOG):
        path = out / name
        if path.is_file():
            write_jsonl(path, [r for r in read_jsonl(path) if r.get("step", 0) <= step])
