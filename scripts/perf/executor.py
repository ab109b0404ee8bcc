"""What Ray costs and gains a sweep: start-up, per-task overhead, parallel speed-up, memory.

    .venv/bin/python scripts/perf/executor.py                  # 12 runs × 3 modes, 60 steps each
    .venv/bin/python scripts/perf/executor.py --runs 4 --rounds 2 --steps 20

The same run specifications (graddiff, a grid of alpha × seeds, quick evaluation, on the embedded
benchmark under $ATWU_HOME, which must be prepared) are carried out in three modes, each into
fresh directories:

- plain: one after another in one process (the local executor; the trainer runs a tiny model on
  one torch thread). That process is a child of this one, so that this one stays what a sweep's
  driver is, whose memory is measured;
- Ray, one at a time (``max_concurrent=1``): the per-task overhead is (Ray − plain) / runs;
- Ray, as many at once as Ray has CPUs: the sweep's speed-up is plain / Ray (wall clock).

The runs are split into ``--rounds`` blocks and the modes take turns block by block (the order
reversed every other round), so that a change in the machine's load during the measurement falls
on all three alike; the load average is printed per block. Before the timed blocks the plain
process and each Ray worker carry out one run (imports, the benchmark's evaluation cache): that
warm-up and ``ray.init`` are Ray's start-up, reported apart and added back in the speed-up "with
start-up". The CPU seconds each mode's processes spend per run are counted too: where other work
competes for the cores, wall clock understates what parallel runs gain, and equal CPU seconds per
run in all modes say that the runs themselves cost no more under Ray. While Ray runs, the resident
memory (RSS) of this process, of each Ray worker and of Ray's own processes (raylet, GCS, agents)
is sampled every half second; RSS counts shared library pages once per process, so sums overstate
what the machine spends.

Prints a table and one JSON line (``{"bench": "executor", ...}``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil

from atwu.config import RunConfig, TrainSettings
from atwu.executor import RunSpec, make_executor
from atwu.executor.sweep import parse_grid, plan_sweep

MIB = 2**20


def specs_under(root: Path, runs: int, steps: int) -> list[RunSpec]:
    alphas = ["0.5", "1", "2"]
    seeds = max(1, -(-runs // len(alphas)))
    base = RunConfig(
        method="graddiff",
        quick=True,
        save_model=False,
        train=TrainSettings(steps=steps, checkpoint_every=max(1, steps // 3)),
    )
    plan = plan_sweep(base, parse_grid([f"alpha={','.join(alphas)}"]), seeds=seeds, out=root)
    return plan.specs[:runs]


class MemorySampler:
    """Peak RSS of this process, of each Ray worker and of Ray's other processes."""

    def __init__(self, every_s: float = 0.5):
        self.every_s, self.me = every_s, psutil.Process()
        self.driver = 0
        self.workers: dict[int, int] = {}
        self.ray_system = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.driver = max(self.driver, self.me.memory_info().rss)
            system = 0
            for proc in self.me.children(recursive=True):
                try:
                    rss, title = proc.memory_info().rss, " ".join(proc.cmdline()[:1])
                except psutil.Error:
                    continue
                if title.startswith("ray::") and "Agent" not in title:
                    self.workers[proc.pid] = max(self.workers.get(proc.pid, 0), rss)
                elif not title.startswith("ray::") and "multiprocessing" not in " ".join(
                    proc.cmdline()
                ):
                    system += rss  # Ray's own processes (the plain child is not one)
            self.ray_system = max(self.ray_system, system)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed_run(executor, specs: list[RunSpec]) -> float:
    started = time.perf_counter()
    outcomes = executor.run(specs)
    seconds = time.perf_counter() - started
    failed = [o for o in outcomes if o.state != "done"]
    if failed:
        raise SystemExit(f"{len(failed)} runs did not finish: {failed[0].message}")
    return seconds


def plain_block(root: Path, runs: int, steps: int) -> tuple[float, float, int]:
    """Runs one after another in the child process: seconds, CPU seconds, and the child's peak
    RSS (bytes)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    with make_executor("local") as local:
        seconds = timed_run(local, specs_under(root, runs, steps))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, after.ru_maxrss * 1024  # Linux: KiB


def workers_cpu_s() -> float:
    """CPU seconds so far of this process's Ray workers (they live on between blocks)."""
    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            title = " ".join(proc.cmdline()[:1])
            if title.startswith("ray::") and "Agent" not in title:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=12, help="runs per mode")
    parser.add_argument("--rounds", type=int, default=3, help="blocks the runs are split into")
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    per_block = max(1, args.runs // args.rounds)
    runs = per_block * args.rounds
    totals = {"plain": 0.0, "serial": 0.0, "parallel": 0.0}
    cpu_totals = dict.fromkeys(totals, 0.0)
    blocks: list[dict] = []
    work = Path(tempfile.mkdtemp(prefix="atwu-perf-executor-"))
    spawn = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as child:
            child.submit(plain_block, work / "plain-warm-up", 1, args.steps).result()
            ray_executor = make_executor("ray")
            started = time.perf_counter()
            ray_executor.start()
            ray_init = time.perf_counter() - started
            with ray_executor, MemorySampler() as memory:
                slots = ray_executor.slots()
                warm_up = timed_run(ray_executor, specs_under(work / "ray-warm-up", slots, 1))
                for r in range(args.rounds):
                    modes = ["plain", "serial", "parallel"]
                    for mode in modes if r % 2 == 0 else modes[::-1]:
                        root = work / f"{mode}-{r}"
                        load = os.getloadavg()[0]
                        if mode == "plain":
                            seconds, cpu, plain_rss = child.submit(
                                plain_block, root, per_block, args.steps
                            ).result()
                        else:
                            ray_executor.max_concurrent = 1 if mode == "serial" else None
                            cpu = -workers_cpu_s()
                            seconds = timed_run(
                                ray_executor, specs_under(root, per_block, args.steps)
                            )
                            cpu += workers_cpu_s()
                        totals[mode] += seconds
                        cpu_totals[mode] += cpu
                        blocks.append({"round": r, "mode": mode, "s": round(seconds, 2)})
                        blocks[-1].update(cpu_s=round(cpu, 2), load=round(load, 2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    plain, serial, parallel = totals["plain"], totals["serial"], totals["parallel"]
    start_up = ray_init + warm_up
    workers = sorted(memory.workers.values())
    result = {
        "bench": "executor",
        "runs": runs,
        "steps": args.steps,
        "cpus": psutil.cpu_count(),
        "ray_slots": slots,
        "blocks": blocks,
        "plain_s": round(plain, 2),
        "plain_per_run_s": round(plain / runs, 2),
        "ray_init_s": round(ray_init, 2),
        "ray_warm_up_s": round(warm_up, 2),
        "ray_serial_s": round(serial, 2),
        "overhead_per_task_s": round((serial - plain) / runs, 3),
        "serial_ratio": round(serial / plain, 3),
        "ray_parallel_s": round(parallel, 2),
        "speed_up": round(plain / parallel, 3),
        "speed_up_with_start": round(plain / (parallel + start_up), 3),
        "cpu_per_run_s": {mode: round(cpu / runs, 2) for mode, cpu in cpu_totals.items()},
        "plain_process_rss_mib": round(plain_rss / MIB),
        "driver_rss_mib": round(memory.driver / MIB),
        "worker_rss_mib_max": round(max(workers, default=0) / MIB),
        "workers": len(workers),
        "ray_system_rss_mib": round(memory.ray_system / MIB),
    }
    rows = [
        ("plain, one after another", f"{plain:.1f} s ({plain / runs:.2f} s/run)"),
        ("Ray start-up", f"{start_up:.1f} s (ray.init {ray_init:.1f} s, workers {warm_up:.1f} s)"),
        (
            "Ray, one at a time",
            f"{serial:.1f} s: {result['overhead_per_task_s']:+.2f} s/task, "
            f"×{result['serial_ratio']:.2f}",
        ),
        (
            f"Ray, {slots} at a time",
            f"{parallel:.1f} s: speed-up ×{result['speed_up']:.2f} "
            f"(×{result['speed_up_with_start']:.2f} with start-up)",
        ),
        (
            "CPU seconds per run",
            ", ".join(f"{mode} {cpu:.2f}" for mode, cpu in result["cpu_per_run_s"].items()),
        ),
        ("plain process RSS (peak)", f"{result['plain_process_rss_mib']} MiB"),
        ("driver RSS (peak)", f"{result['driver_rss_mib']} MiB"),
        (f"worker RSS (peak of {len(workers)})", f"{result['worker_rss_mib_max']} MiB each"),
        ("Ray's own processes (RSS sum)", f"{result['ray_system_rss_mib']} MiB"),
        (
            "load average per block",
            " ".join(f"{b['mode']} {b['load']:.1f}," for b in blocks).rstrip(","),
        ),
    ]
    for name, value in rows:
        print(f"{name:34} {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
