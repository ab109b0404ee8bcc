"""Seconds of a page switch while runs train: the target is ≤ 2 s with two runs training on 2 cores.

    .venv/bin/python scripts/perf/page_switch.py --home DIR [--rounds 3] [--training 2]

``DIR`` is an ``$ATWU_HOME`` with a prepared embedded benchmark and at least one finished run
(e.g. the one ``scripts/perf/first_run.py --keep DIR`` leaves). The script starts ``--training``
ATWU runs on that benchmark in the background (each ``--steps 400``, so they outlast the
measurement), starts the app with the same venv, opens it in headless Chromium, and clicks
through the sidebar's pages (the one page table, :data:`pages.common.PAGE_TABLE`) ``--rounds``
times. A switch is timed from the click until the new page's title is drawn and Streamlit's
"running" widget has stayed hidden for 0.3 s: browser time, so an upper bound of the server's.
Prints a table (median and worst per page) and one JSON line; the training runs are cancelled at
the end (their directories are removed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from app_idle_cpu import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, wait_healthy

sys.path.insert(0, str(ROOT))
from pages.common import PAGE_TABLE  # the page table (after the path is set)

QUIET_MS = 300


def wait_drawn(page, title: str, timeout_s: float = 120) -> None:
    """Until the page's h1 reads ``title`` and no script run has been in flight for 0.3 s."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        h1 = page.locator("h1").first
        drawn = h1.count() > 0 and title.lower() in h1.inner_text().lower()
        busy = page.locator('[data-testid="stStatusWidget"]').is_visible()
        if drawn and not busy:
            quiet_since = quiet_since or time.monotonic()
            if (time.monotonic() - quiet_since) * 1000 >= QUIET_MS:
                return
        else:
            quiet_since = None
        page.wait_for_timeout(50)
    raise SystemExit(f"{title!r} was not drawn within {timeout_s:.0f} s")


def start_training(home: Path, python: str, n: int) -> list[tuple[subprocess.Popen, Path]]:
    jobs = []
    for i in range(n):
        out = home / "runs" / f"page-switch-load-{i}"
        cmd = [python, "-m", "atwu", "run", "--method", "atwu", "--steps", "400", "--seed"]
        cmd += [str(i), "--quick", "--out", str(out), "--overwrite"]
        env = dict(os.environ, ATWU_HOME=str(home))
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        jobs.append((proc, out))
    return jobs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--training", type=int, default=2)
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    home = args.home.resolve()
    jobs = start_training(home, args.python, args.training)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, ATWU_HOME=str(home))
    app = subprocess.Popen(
        [args.python, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    times: dict[str, list[float]] = {spec.title: [] for spec in PAGE_TABLE}
    try:
        wait_healthy(url, app)
        time.sleep(20)  # let the training runs get past their imports and step 0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url, timeout=120_000)
            wait_drawn(page, "ATWU")
            for _ in range(args.rounds):
                for spec in [*PAGE_TABLE[1:], PAGE_TABLE[0]]:
                    link = page.locator('[data-testid="stSidebarNav"] a', has_text=spec.title)
                    started = time.monotonic()
                    link.first.click()
                    wait_drawn(page, "ATWU" if spec.key == "home" else spec.title)
                    times[spec.title].append(time.monotonic() - started)
            browser.close()
        live = sum(proc.poll() is None for proc, _ in jobs)
        load = os.getloadavg()[0]
    finally:
        app.send_signal(signal.SIGTERM)
        for proc, out in jobs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            shutil.rmtree(out, ignore_errors=True)
    print(f"{'page':<20} {'median s':>9} {'worst s':>8}")
    for title, values in times.items():
        print(f"{title:<20} {statistics.median(values):>9.2f} {max(values):>8.2f}")
    print(f"training runs still live at the end: {live}/{args.training}; load average {load:.1f}")
    summary = {
        "bench": "page_switch",
        "training": args.training,
        "training_live_at_end": live,
        "load": round(load, 2),
        "median_s": {t: round(statistics.median(v), 3) for t, v in times.items()},
        "worst_s": {t: round(max(v), 3) for t, v in times.items()},
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
