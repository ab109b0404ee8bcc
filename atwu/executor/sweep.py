"""A sweep: a grid of method parameters × seeds over one base configuration, as run specifications
in one sweep directory whose ``sweep.json`` records the sweep's specification and every run's state.

    SWEEP_DIR/sweep.json        schema_version, sweep_id, identity, spec (base config, grid,
                                seeds), counts, and per run: name, identity, grid, seed, state
                                (pending | done | failed | cancelled), exit_code, seconds,
                                message, resumed, host, node; rewritten atomically as runs end
    SWEEP_DIR/<run name>/       one run directory per setting and seed (atwu.runs.layout)

The sweep's identity is a hash of its runs' identities (what they compute), so the same command
finds the same directory again: finished runs are skipped, interrupted ones resume.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from atwu.config import EMBEDDED, RunConfig
from atwu.errors import InputError
from atwu.executor.base import Executor
from atwu.executor.one_run import finished_before
from atwu.executor.spec import RunOutcome, RunSpec, config_identity
from atwu.io import atomic_write_json, read_json
from atwu.params import as_text
from atwu.paths import runs_dir, safe_name
from atwu.runs.lease import LEASE, Lease, LeaseHeld, live_holder
from atwu.runs.status import utc_now

SWEEP_FILE = "sweep.json"
SWEEP_SCHEMA = 1


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """``["beta=0.1,0.5", "alpha=1"]`` → ``{"beta": ["0.1", "0.5"], "alpha": ["1"]}``."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        texts = list(dict.fromkeys(v.strip() for v in values.split(",") if v.strip()))
        if not sep or not key or not texts:
            raise InputError(f"--grid expects KEY=V1,V2,..., got {item!r}")
        if key in grid:
            raise InputError(f"--grid {key} is given twice; list all its values in one --grid")
        grid[key] = texts
    return grid


@dataclass
class SweepRun:
    """One run of a sweep: its specification and where it stands."""

    spec: RunSpec
    identity: str
    grid: dict[str, str]
    state: str = "pending"
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.out.name

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "identity": self.identity,
            "grid": self.grid,
            "seed": self.spec.config.seed,
            "state": self.state,
            **self.outcome,
        }


@dataclass
class SweepPlan:
    sweep_id: str
    identity: str
    root: Path
    base: RunConfig
    grid: dict[str, list[str]]
    seeds: list[int]
    runs: list[SweepRun]

    @property
    def specs(self) -> list[RunSpec]:
        return [r.spec for r in self.runs]


def plan_sweep(
    base: RunConfig,
    grid: dict[str, list[str]],
    *,
    seeds: int = 1,
    first_seed: int = 0,
    name: str | None = None,
    out: str | Path | None = None,
    fresh: bool = False,
) -> SweepPlan:
    """Every (grid setting, seed) as a run spec under the sweep directory: ``out``, else
    ``$ATWU_HOME/runs/sweep-<method>-<identity>`` (``sweep-<name>`` with a name). Raises the
    method's error for an unknown method, parameter or value. ``fresh``: every run starts over."""
    if seeds < 1:
        raise InputError(f"--seeds must be a positive integer, got {seeds}")
    base = _with_absolute_paths(base)
    settings = [
        _canonical(base.method, dict(combo))
        for combo in itertools.product(*[[(k, v) for v in grid[k]] for k in grid])
    ]
    configs: list[tuple[dict[str, str], RunConfig, str]] = []
    seen: set[str] = set()
    for setting in settings:
        for seed in range(first_seed, first_seed + seeds):
            cfg = copy.deepcopy(base)
            cfg.seed, cfg.params = seed, {**base.params, **setting}
            cfg.tags = {**base.tags, "grid": setting}
            identity = config_identity(cfg)
            if identity not in seen:
                seen.add(identity)
                configs.append((setting, cfg, identity))
    identity = hashlib.sha256("\n".join(sorted(seen)).encode()).hexdigest()[:10]
    sweep_id = safe_name(name) if name else identity
    if out:
        root = Path(out).expanduser().absolute()
    else:
        root = runs_dir().absolute() / safe_name(f"sweep-{name or f'{base.method}-{identity}'}")
    runs, names = [], set()
    for setting, cfg, run_identity in configs:
        cfg.sweep_id = sweep_id
        label = "-".join(f"{k}{v}" for k, v in setting.items()) or "default"
        run_name = safe_name(f"{cfg.method}-{label}")[:90] + f"-s{cfg.seed}"
        if run_name in names:  # two values that read alike once made safe for a path
            run_name = f"{run_name}-{run_identity[:8]}"
        names.add(run_name)
        runs.append(SweepRun(RunSpec(cfg, root / run_name, fresh=fresh), run_identity, setting))
    seed_list = list(range(first_seed, first_seed + seeds))
    return SweepPlan(sweep_id, identity, root, base, grid, seed_list, runs)


def _canonical(method: str, setting: dict[str, str]) -> dict[str, str]:
    """Grid values as the method reads them (``1.0`` → ``1``): one spelling, one run directory.
    Raises the method's error for an unknown method, parameter or value."""
    from atwu.methods.registry import build_params, get_method

    params = build_params(get_method(method), setting)
    return {key: as_text(getattr(params, key)) for key in setting}


def _with_absolute_paths(base: RunConfig) -> RunConfig:
    """A copy of ``base`` whose local paths (benchmark, models) are absolute: its runs may start
    in another working directory, on another node."""
    from atwu.data.embedded import VOCABULARIES
    from atwu.train.resolve import REAL_BENCHMARKS

    base = copy.deepcopy(base)
    for attr in ("benchmark", "model", "aux_model"):
        value = getattr(base, attr)
        if (
            value
            and value not in (EMBEDDED, *VOCABULARIES, *REAL_BENCHMARKS)
            and Path(value).expanduser().exists()
        ):
            setattr(base, attr, str(Path(value).expanduser().absolute()))
    return base


def check_sweep_dir(plan: SweepPlan) -> None:
    """The sweep directory is new, empty, or holds this very sweep (which then continues)."""
    root = plan.root
    if root.exists() and not root.is_dir():
        raise InputError(f"{root} is a file, not a sweep directory; choose another --out")
    path = root / SWEEP_FILE
    if path.is_file():
        try:
            earlier = read_json(path)
            earlier_identity = earlier.get("identity")
        except (OSError, ValueError, AttributeError) as exc:
            raise InputError(f"{path} is unreadable ({exc}); choose another --out") from None
        if earlier_identity != plan.identity:
            raise InputError(
                f"{root} holds another sweep ({earlier.get('sweep_id')}, other settings); "
                "choose another --out or --sweep-id"
            )
    elif root.is_dir() and any(child.name != LEASE for child in root.iterdir()):
        raise InputError(f"{root} is not a sweep directory (no {SWEEP_FILE}); choose another --out")


class SweepRecord:
    """Writes ``sweep.json`` (atomically): at the start, and again as each run ends."""

    def __init__(self, plan: SweepPlan, *, executor: str):
        self.plan, self.path = plan, plan.root / SWEEP_FILE
        self.by_out = {r.spec.out: r for r in plan.runs}
        created = None
        if self.path.is_file():
            created = read_json(self.path).get("created_at")
        self.header = {
            "schema_version": SWEEP_SCHEMA,
            "sweep_id": plan.sweep_id,
            "identity": plan.identity,
            "created_at": created or utc_now(),
            "executor": executor,
            "spec": {
                "method": plan.base.method,
                "base": plan.base.to_json(),
                "grid": plan.grid,
                "seeds": plan.seeds,
            },
        }

    def counts(self) -> dict[str, int]:
        states = [r.state for r in self.plan.runs]
        counts = {s: states.count(s) for s in ("pending", "done", "failed", "cancelled")}
        return {"total": len(states), **counts}

    def write(self) -> None:
        atomic_write_json(
            self.path,
            {
                **self.header,
                "updated_at": utc_now(),
                "counts": self.counts(),
                "runs": [r.to_json() for r in self.plan.runs],
            },
        )

    def update(self, outcome: RunOutcome) -> SweepRun:
        run = self.by_out[outcome.out]
        # a run found finished is done, as far as the sweep is concerned
        run.state = "done" if outcome.state == "skipped" else outcome.state
        details = outcome.to_json()
        for key in ("out", "state"):
            details.pop(key)
        run.outcome = details
        self.write()
        return run


def run_sweep(plan: SweepPlan, executor: Executor) -> tuple[SweepRecord, list[RunOutcome]]:
    """Carry out the plan's runs (checked before, see :mod:`atwu.executor.check`) with
    ``sweep.json`` following their states, under one progress bar on a terminal (a line per run
    in a log)."""
    lease = _claim_sweep(plan)
    try:
        return _run_claimed(plan, executor)
    finally:
        lease.release()


def _claim_sweep(plan: SweepPlan) -> Lease:
    """One driver per sweep directory: the same sweep started twice at once (two terminals, a
    double click) is refused in one line, instead of two drivers writing sweep.json and
    starting each run twice. A killed driver's lease is taken over by the next one."""
    try:
        return Lease.acquire(plan.root)
    except LeaseHeld:
        holder = live_holder(plan.root)
        who = holder.describe() if holder is not None else "another process"
        raise InputError(
            f"{plan.root}: this sweep is already running ({who}); wait for it to finish or "
            "stop it (the same command afterwards resumes whatever it left unfinished)"
        ) from None


def _run_claimed(plan: SweepPlan, executor: Executor) -> tuple[SweepRecord, list[RunOutcome]]:
    with executor:
        if not all(finished_before(spec) for spec in plan.specs):
            executor.start()  # the executor's errors (Ray's) come before anything is written
        record = SweepRecord(plan, executor=executor.kind)
        record.write()
        print(
            f"sweep {plan.sweep_id}: {len(plan.runs)} runs in {plan.root} ({executor.kind})",
            file=sys.stderr,
        )
        bar = tqdm(
            total=len(plan.runs),
            unit="run",
            desc=f"sweep {plan.sweep_id}",
            postfix={"failed": 0},
            disable=None,  # None: no bar where stderr is no terminal
        )

        def on_outcome(outcome: RunOutcome) -> None:
            run = record.update(outcome)
            bar.update(1)
            bar.set_postfix(failed=record.counts()["failed"])
            if bar.disable or not outcome.finished:  # a terminal has its bar, a log every run
                line = f"{outcome.state}: {run.name} ({outcome.seconds:.0f} s) {outcome.message}"
                bar.write(line.strip(), file=sys.stderr)

        try:
            outcomes = executor.run(plan.specs, on_outcome=on_outcome)
        finally:
            bar.close()
    return record, outcomes
