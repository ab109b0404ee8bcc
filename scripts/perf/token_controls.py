"""Server time of the Token scores page's controls with several runs compared (target ≤ 0.3 s).

    .venv/bin/python scripts/perf/token_controls.py                   # the demo runs, 4 compared
    .venv/bin/python scripts/perf/token_controls.py --runs-dir ~/.atwu/runs --run R --compare A,B

It starts the app as the README does (``./run-app.sh --server.port P``; a fresh ``ATWU_HOME``
shows the demo runs), opens the Token scores page in headless Chromium with the run and the
compared runs in the URL, waits until it has drawn, and then:

1. presses → on the threshold slider ``--presses`` times, one at a time, each time waiting until
   the server is idle again: the server's CPU seconds (user + system, from /proc) for each change
   and the wall time from the key press to the server's last CPU tick;
2. presses → thirty times in a burst (a held key), then the time until the server is idle and
   the page shows the last value (slider changes must not queue up);
3. does the same once for the step slider and the example box (whole-page changes).

CPU seconds are reported beside wall time because the machine may be shared. Prints a table and
one JSON line (``{"bench": "token_controls", ...}``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from app_idle_cpu import CHROMIUM, CHROMIUM_ARGS, ROOT, cpu_seconds, free_port, settle, wait_healthy

DEMO_COMPARE = ("wga-s0", "satimp-s0", "tnpo-s0", "oracle-s0")
IDLE_TICK = 0.3  # the server counts as idle once its CPU time has not moved for this long


def until_idle(pid: int, start: float, c0: float, timeout: float = 60.0) -> tuple[float, float]:
    """Wait until the server's CPU time stops moving; (wall seconds from ``start`` to its last
    move, CPU seconds since ``c0``)."""
    last_cpu, last_move = cpu_seconds(pid), time.monotonic()
    deadline = start + timeout
    while time.monotonic() < deadline:
        time.sleep(0.02)
        now_cpu = cpu_seconds(pid)
        if now_cpu != last_cpu:
            last_cpu, last_move = now_cpu, time.monotonic()
        elif time.monotonic() - last_move >= IDLE_TICK:
            break
    return max(0.0, last_move - start), last_cpu - c0


def slider(page, label: str):
    """A slider's thumb by the start of its label."""
    return page.get_by_role("slider", name=re.compile("^" + re.escape(label)))


def threshold_value(page) -> str:
    return slider(page, "Threshold").get_attribute("aria-valuetext") or ""


def press(page, pid: int, target, key: str, times: int = 1) -> dict[str, float]:
    target.focus()
    time.sleep(IDLE_TICK * 2)
    c0, t0 = cpu_seconds(pid), time.monotonic()
    for _ in range(times):
        target.press(key)
    wall, cpu = until_idle(pid, t0, c0)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs-dir", default=None, help="default: the demo runs")
    parser.add_argument("--run", default="atwu-s0")
    parser.add_argument("--compare", default=",".join(DEMO_COMPARE))
    parser.add_argument("--presses", type=int, default=8)
    parser.add_argument("flags", nargs=argparse.REMAINDER, help="after --: streamlit flags")
    args = parser.parse_args(argv)
    flags = [f for f in args.flags if f != "--"]
    compare = [c for c in args.compare.split(",") if c]

    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="atwu-controls-home-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ATWU_HOME": str(home)}
    cmd = [str(ROOT / "run-app.sh"), "--server.port", str(port), *flags]
    with open(home / "app.log", "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    query = f"run={args.run}" + "".join(f"&compare={c}" for c in compare)
    if args.runs_dir:
        query += f"&dir={args.runs_dir}"
    result: dict = {"bench": "token_controls", "run": args.run, "compare": compare}
    try:
        wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/", timeout=180_000)  # the first visit imports the heavy modules
            settle(page)
            page.goto(f"{url}/tokens?{query}", timeout=180_000)
            settle(page)
            rows = page.locator(".atwu-row-label").count()
            result["rows"] = rows
            thumb = slider(page, "Threshold")
            singles = []
            for _ in range(args.presses):
                before = threshold_value(page)
                singles.append(press(page, proc.pid, thumb, "ArrowRight"))
                singles[-1]["values"] = [before, threshold_value(page)]
            result["threshold"] = singles
            before = threshold_value(page)
            result["threshold_burst_30"] = press(page, proc.pid, thumb, "ArrowRight", times=30)
            page.wait_for_timeout(300)
            result["burst_values"] = [before, threshold_value(page)]
            result["step"] = press(page, proc.pid, slider(page, "Checkpoint"), "ArrowLeft")
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        shutil.rmtree(home, ignore_errors=True)
    walls = [s["wall_s"] for s in result["threshold"]]
    cpus = [s["cpu_s"] for s in result["threshold"]]
    result["threshold_median"] = {
        "wall_s": round(statistics.median(walls), 3),
        "cpu_s": round(statistics.median(cpus), 3),
    }
    print(f"{result['rows']} token rows on the page (the run and {len(compare)} compared)")
    print(
        f"threshold change: median {result['threshold_median']['wall_s']:.3f} s wall, "
        f"{result['threshold_median']['cpu_s']:.3f} CPU s (max {max(walls):.3f} s wall) "
        f"over {len(walls)} presses"
    )
    b = result["threshold_burst_30"]
    print(
        f"30 presses in a burst: idle after {b['wall_s']:.3f} s wall, {b['cpu_s']:.3f} CPU s; "
        f"value {result['burst_values'][0]} -> {result['burst_values'][1]}"
    )
    print(
        f"step change: {result['step']['wall_s']:.3f} s wall, {result['step']['cpu_s']:.3f} CPU s"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
