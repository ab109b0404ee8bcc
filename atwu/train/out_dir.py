"""Where a run may write: the rules for its output directory, checked before anything is written
and applied with the run's lease held.

A fresh run needs an empty (or missing) directory; ``--resume`` needs a run there; ``--overwrite``
replaces only a directory that is a run and is not live, moving it aside until the new run has
finished (:mod:`atwu.runs.replace`); files that are not a run are never touched.
"""

from __future__ import annotations

import sys
from pathlib import Path

from atwu.errors import InputError
from atwu.io import check_writable_dir, read_json_object
from atwu.runs.layout import STATUS
from atwu.runs.lease import Lease, LeaseHeld, held_message, live_holder
from atwu.runs.replace import is_run_dir, own_entries, set_aside
from atwu.train.errors import RunError
from atwu.train.state import find_state, recover_state


def read_status(out: Path) -> dict:
    """The run's status.json, or {} when it is missing or unreadable."""
    try:
        return read_json_object(out / STATUS)
    except (OSError, ValueError):
        return {}


def status_state(out: Path) -> str | None:
    state = read_status(out).get("state")
    return state if isinstance(state, str) else None


def check_output(out: Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse, before anything is written, an output that this run may not write: a file,
    a place that cannot be written, a live run, files that are not a run (never replaced,
    even with --overwrite), a run without --overwrite or --resume."""
    try:
        check_writable_dir(out)
    except InputError as exc:
        raise RunError(str(exc)) from None
    holder = live_holder(out) if out.is_dir() else None
    if holder is not None:  # a second writer, even --overwrite or --resume, is refused
        raise RunError(held_message(out, holder))
    if resume:
        if find_state(out) is None and not is_run_dir(out):
            raise RunError(f"--resume: {out} has no saved state to resume from")
        if find_state(out) is None and status_state(out) == "done":
            raise RunError(f"--resume: {out} is a finished run without its saved state")
        return
    entries = own_entries(out)
    if not entries:
        return
    if not is_run_dir(out):
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise RunError(
            f"{out} holds files that are not a run ({shown}); choose another --out "
            "(nothing there was changed)"
        )
    if not overwrite:
        state = status_state(out)
        if state == "done":
            raise RunError(
                f"{out} already holds a finished run; pass --overwrite to replace it "
                "or choose another --out"
            )
        again = " continue it with --resume," if find_state(out) is not None else ""
        raise RunError(
            f"{out} already holds a run ({state or 'unknown state'});{again} pass "
            "--overwrite to replace it, or choose another --out"
        )


def set_old_run_aside(out: Path, *, resume: bool, overwrite: bool) -> Path | None:
    """--overwrite of a run: move it aside (refused while it is live); where it went."""
    if resume or not overwrite or not own_entries(out):
        return None
    if not is_run_dir(out):  # appeared since the constructor's check
        raise RunError(f"{out} holds files that are not a run; choose another --out")
    try:
        return set_aside(out)
    except LeaseHeld as exc:
        raise RunError(str(exc)) from None


def claim_directory(out: Path, lease: Lease, *, resume: bool) -> bool:
    """With the lease held: a fresh run starts in an empty directory; a resumed one recovers its
    newest complete state, or, killed before its first checkpoint, starts over from step 0 (what
    it had written came from the same configuration). Returns whether the run resumes."""
    if resume:
        if recover_state(out):
            return True
        print(f"note: {out} has no checkpoint yet; starting it again from step 0", file=sys.stderr)
        lease.clear_directory()
        return False
    entries = own_entries(out)
    if entries:  # someone wrote here between the check and the lease
        raise RunError(f"{out} is no longer empty ({', '.join(entries[:3])}); not touched")
    return False


def say_where_the_old_run_is(aside: Path | None) -> None:
    if aside is not None and aside.is_dir():
        print(
            f"note: the run this one replaced is kept at {aside} until a run at this place "
            "finishes",
            file=sys.stderr,
        )
