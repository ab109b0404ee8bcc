"""The references of a run: the runs a comparison with it needs (:data:`COMPARISON_REFERENCES`),
at the same settings, found among the runs that exist or planned for the missing ones.

A reference matches a run when it is the reference's method with its default parameters and
every setting that changes what a run computes is equal (benchmark, split, model, training,
seed, evaluation, ...; :func:`settings_key`). Torch is not loaded here: the app asks which
references a run has on every redraw.

    refs = reference_runs(run.config, runs_under(root))   # {"uniform": RunInfo | None, ...}
    missing = missing_references(run.config, runs_under(root))
    specs = queue_references(base_config, root, for_run="atwu-default-s0", pid=os.getpid())

A planned reference is a directory holding its config.json and a *waiting* status (queued, with
the pid of the process that will run it), so that every browser session sees it at once and
nothing is launched twice; its run starts there as in an empty directory
(:func:`atwu.runs.replace.own_entries`) and replaces both files, and
:func:`atwu.runs.status.effective_state` reports it failed once that process is gone without
starting it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from atwu.analysis.variants import COMPARISON_REFERENCES, VARIANTS
from atwu.config import RunConfig
from atwu.errors import InputError
from atwu.executor.spec import RunSpec
from atwu.io import atomic_write_json, read_json_object
from atwu.process import process_start
from atwu.runs.layout import CONFIG, STATUS, TRAIN_LOG
from atwu.runs.read import RunInfo, list_runs, read_run
from atwu.runs.status import WAITING, utc_now

REFERENCE_TAG = "reference_for"
"""``tags.reference_for`` of a reference run: the run it was launched for."""

LIVE_OR_DONE = ("queued", "running", "done")
"""A reference in one of these states is there (or coming); a failed or cancelled one is not."""

# what names, groups or records a run without changing what it computes; ``save_model`` and
# ``threads`` change what is kept and how fast, not the numbers
_NOT_SETTINGS = (
    "method",
    "params",
    "name",
    "sweep_id",
    "tags",
    "resolved",
    "versions",
    "created_at",
    "schema_version",
    "save_model",
    "threads",
)
_LOCK = ".references.lock"
CLAIMED = "claimed"
"""Set in a planned reference's waiting status once a queue (lane) has taken it."""
SWEEP_FILE = "sweep.json"


def settings_key(config: dict[str, Any]) -> str:
    """What a run computes apart from its method: two runs whose keys are equal ran on the
    same data, model, training and evaluation settings and seed. The configured values are
    compared (a planned run has no resolved ones yet), with the defaults of this version filled
    in (a run recorded before a setting existed ran with its default)."""
    # a config this version cannot read is compared as it is (it matches nothing new)
    with contextlib.suppress(InputError, TypeError):
        config = RunConfig.from_json(config).to_json()
    data = {k: v for k, v in config.items() if k not in _NOT_SETTINGS}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def is_reference_of(config: dict[str, Any], variant: str, key: str) -> bool:
    """Whether a run's ``config`` is reference ``variant`` at the settings ``key``."""
    v = VARIANTS[variant]
    return (
        config.get("method") == v.method
        and settings_key(config) == key
        and _same_params(v.method, config.get("params") or {}, v.params)
    )


def _same_params(method: str, given: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether ``given`` are ``wanted`` once both are filled with the method's defaults (a
    finished run records every parameter, a planned one only those it sets)."""
    if _texts(given) == _texts(wanted):
        return True  # a planned run: no need to load the registry (and torch)
    from atwu.methods.registry import build_params, get_method

    try:
        cls = get_method(method)
        return dataclasses.asdict(build_params(cls, given)) == dataclasses.asdict(
            build_params(cls, wanted)
        )
    except (InputError, TypeError, ValueError):
        return False  # parameters this version does not know: not the reference


def _texts(params: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in params.items()}


def runs_under(root: Path) -> list[RunInfo]:
    """The runs directly under ``root`` and those inside its sweep directories."""
    runs = list_runs(root)
    if root.is_dir():
        for child in sorted(root.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and (child / SWEEP_FILE).is_file():
                runs += list_runs(child)
    return runs


def reference_runs(
    config: dict[str, Any], runs: list[RunInfo], names: tuple[str, ...] = COMPARISON_REFERENCES
) -> dict[str, RunInfo | None]:
    """For each reference, the run that stands for it: a finished one, else a live one, else the
    newest failed or cancelled one (shown as such), else None."""
    key = settings_key(config)
    rank = {"done": 0, "running": 1, "queued": 2}
    out: dict[str, RunInfo | None] = {}
    for name in names:
        found = [r for r in runs if is_reference_of(r.config, name, key)]
        found.sort(key=lambda r: (rank.get(r.state, 3), -_mtime(r.path)))
        out[name] = found[0] if found else None
    return out


def missing_references(
    config: dict[str, Any], runs: list[RunInfo], names: tuple[str, ...] = COMPARISON_REFERENCES
) -> list[str]:
    """The references with no run that is finished, running or queued (a failed one counts as
    missing: launching again is what fixes it)."""
    found = reference_runs(config, runs, names)
    return [n for n, r in found.items() if r is None or r.state not in LIVE_OR_DONE]


def reference_config(base: RunConfig, variant: str, *, for_run: str) -> RunConfig:
    """``variant`` at ``base``'s settings: its method with its own parameters, a new name."""
    v = VARIANTS[variant]
    data = base.to_json()
    data.update(
        method=v.method,
        params={k: str(val) for k, val in v.params.items()},
        name=None,
        sweep_id=None,
        tags={REFERENCE_TAG: for_run},
    )
    return RunConfig.from_json(data)


def reference_name(variant: str, for_run: str, method: str) -> str:
    """``uniform-default-s0`` for ``atwu-default-s0``: the run's name with its method swapped,
    so a run and its references sort and read as a set; ``uniform-for-<run>`` otherwise."""
    prefix = f"{method}-"
    rest = for_run[len(prefix) :] if for_run.startswith(prefix) else f"for-{for_run}"
    return f"{variant}-{rest}"


def _fresh_dir(root: Path, name: str) -> Path:
    for k in range(1, 1000):
        candidate = root / (name if k == 1 else f"{name}-{k}")
        with contextlib.suppress(FileExistsError):
            candidate.mkdir(parents=True)
            return candidate
    raise FileExistsError(f"{root}: no free run name like {name}; clear old runs")


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One planner at a time per runs directory: two clicks, or two sessions, never plan the
    same references twice."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / _LOCK, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def waiting_status(pid: int, for_run: str) -> dict[str, Any]:
    """The status of a planned reference until its run starts (and replaces it)."""
    return {
        "state": "queued",
        "message": f"waiting for its turn (a reference of {for_run})",
        WAITING: True,
        "pid": pid,
        "pid_start": process_start(pid),
        "started_at": None,
        "ended_at": None,
        "heartbeat_at": utc_now(),
        "step": 0,
        "total_steps": None,
    }


def queue_references(
    base: RunConfig,
    root: Path,
    *,
    for_run: str,
    pid: int | None = None,
    names: tuple[str, ...] = COMPARISON_REFERENCES,
) -> list[RunSpec]:
    """Plan the references of ``base`` that ``root`` lacks: each gets a new directory with its
    config.json and a waiting status naming process ``pid`` (this one by default), which is to
    run them. Returns their run specifications ([] when nothing is missing)."""
    pid = os.getpid() if pid is None else pid
    base_json = base.to_json()
    specs = []
    with _locked(root):
        for variant in missing_references(base_json, runs_under(root), names):
            cfg = reference_config(base, variant, for_run=for_run)
            out = _fresh_dir(root, reference_name(variant, for_run, base.method))
            atomic_write_json(out / CONFIG, cfg.to_json())
            atomic_write_json(out / STATUS, waiting_status(pid, for_run))
            specs.append(RunSpec(cfg, out))
    return specs


def _waiting(out: Path) -> dict[str, Any]:
    """The waiting status of a planned reference, {} once its run has started (or ended)."""
    try:
        status = read_json_object(out / STATUS)
    except (OSError, ValueError):
        return {}
    return status if status.get(WAITING) and not (out / TRAIN_LOG).exists() else {}


def claim_next(root: Path, outs: list[Path], pid: int | None = None) -> Path | None:
    """The first of the planned references ``outs`` that no queue has taken yet, now taken by
    process ``pid`` (this one): its status names it, so that its death is seen. None when all
    are taken. Queues (lanes) run side by side without running one twice."""
    pid = os.getpid() if pid is None else pid
    with _locked(root):
        for out in outs:
            status = _waiting(out)
            if status and not status.get(CLAIMED):
                status.update({CLAIMED: True, "pid": pid, "pid_start": process_start(pid)})
                atomic_write_json(out / STATUS, status)
                return out
    return None


def unclaimed(outs: list[Path]) -> list[Path]:
    """The planned references no queue has taken yet."""
    return [out for out in outs if (w := _waiting(out)) and not w.get(CLAIMED)]


def end_waiting(out: Path, state: str, message: str, pid: int | None = None) -> None:
    """Mark a planned reference that will not run now (its queue was cancelled or failed):
    one not taken yet, or taken by ``pid`` (this process) and not started."""
    status = _waiting(out)
    pid = os.getpid() if pid is None else pid
    if status and (not status.get(CLAIMED) or status.get("pid") == pid):
        status.update(state=state, message=message, ended_at=utc_now())
        status.pop(WAITING)
        atomic_write_json(out / STATUS, status)


def served_run_live(run_dir: Path, *, starting_s: float = 120.0) -> bool:
    """Whether the run the references serve still trains (it shares the CPU with them): queued
    or running, or launched moments ago and not yet showing its status."""
    if not run_dir.is_dir():
        return False
    if not (run_dir / STATUS).is_file():
        return time.time() - _mtime(run_dir) < starting_s
    try:
        return read_run(run_dir).state in ("queued", "running")
    except OSError:
        return False


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
