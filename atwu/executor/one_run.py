"""One run specification carried out in the current process: what every backend runs per spec.

A directory that holds a finished run is skipped; one with saved state (an interrupted run, or a
run whose worker died) is resumed from its last checkpoint; anything else starts from step 0.
"""

from __future__ import annotations

import socket
import sys
import time
import traceback
from pathlib import Path

from atwu.errors import InputError
from atwu.executor.spec import OutcomeState, RunOutcome, RunSpec
from atwu.io import read_json
from atwu.runs.layout import CONFIG, STATE_DIR, STATUS
from atwu.runs.lease import LEASE, held_message, live_holder, wait_until_free
from atwu.runs.status import HEARTBEAT_EVERY_S, STALE_AFTER_S

EXIT_BAD_INPUT = 2


def _status(out: Path) -> dict:
    try:
        status = read_json(out / STATUS)
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def finished_before(spec: RunSpec) -> bool:
    """``spec``'s directory holds a finished run, which is kept (unless ``spec.fresh``)."""
    return not spec.fresh and _status(spec.out).get("state") == "done"


def skipped(spec: RunSpec) -> RunOutcome:
    return RunOutcome(spec.out, "skipped", 0, 0.0, "finished earlier; kept as it is")


def _is_foreign(out: Path) -> bool:
    """``out`` exists with files, none of which says it is a run: never overwrite it."""
    if not out.is_dir() or not any(out.iterdir()):
        return False
    return not any((out / name).exists() for name in (CONFIG, STATUS, LEASE, STATE_DIR))


def run_one(spec: RunSpec, *, progress: bool | None = False) -> RunOutcome:
    """Carry out ``spec`` here and say how it ended (bad input and crashes become a ``failed``
    outcome with the message; Ctrl-C propagates after the run has written "cancelled")."""
    from atwu.train.execute import execute_run  # imports torch

    out, started, host = spec.out, time.monotonic(), socket.gethostname()

    def outcome(state: OutcomeState, code: int, message: str, resumed: bool = False) -> RunOutcome:
        seconds = round(time.monotonic() - started, 3)
        return RunOutcome(out, state, code, seconds, message, resumed, host)

    if finished_before(spec):
        return skipped(spec)
    if _is_foreign(out):
        return outcome("failed", EXIT_BAD_INPUT, f"{out} holds files that are not a run")
    holder = live_holder(out)
    if holder is not None and holder.host != host:
        # its node may have died with the run: a lease from another host frees itself only
        # once its heartbeat is stale
        holder = wait_until_free(out, timeout_s=STALE_AFTER_S + 2 * HEARTBEAT_EVERY_S)
    if holder is not None:
        return outcome("failed", EXIT_BAD_INPUT, held_message(out, holder))
    resume = not spec.fresh and (out / STATE_DIR).is_dir()
    try:
        code = execute_run(spec.config, out, resume=resume, overwrite=True, progress=progress)
    except InputError as exc:
        return outcome("failed", EXIT_BAD_INPUT, str(exc), resume)
    except Exception as exc:  # a bug: keep its traceback in the log, report it in one line
        traceback.print_exc(file=sys.stderr)
        return outcome("failed", 1, f"{type(exc).__name__}: {exc}", resume)
    state: OutcomeState = "done" if code == 0 else "cancelled" if code == 130 else "failed"
    return outcome(state, code, str(_status(out).get("message", "")), resume)
