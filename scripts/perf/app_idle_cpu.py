"""CPU used by the idle app server with one browser tab open (the target is < 2% of a core).

    .venv/bin/python scripts/perf/app_idle_cpu.py                 # the app as ./run-app.sh starts it
    .venv/bin/python scripts/perf/app_idle_cpu.py --seconds 30 --page /tokens
    .venv/bin/python scripts/perf/app_idle_cpu.py -- --server.fileWatcherType auto   # extra flags

It starts the app the way the README does (``./run-app.sh --server.port P``, with a fresh
``ATWU_HOME`` so the demo runs are shown), opens one headless Chromium tab on ``--page``, waits
until the page has finished drawing, then samples the server process's CPU time (user + system,
from /proc) over ``--seconds`` with the tab open and idle, and again with the tab closed. Prints
the share of one core for both, and one JSON line (``{"bench": "app_idle_cpu", ...}``).
Arguments after ``--`` go to ``streamlit run`` (e.g. to compare against the file watcher on).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and every thread of it."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def settle(page, timeout_ms: int = 180_000) -> None:
    """Until Streamlit has drawn the page and no script run is in flight."""
    page.wait_for_selector("h1", timeout=timeout_ms)
    for _ in range(3):
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout_ms)
        page.wait_for_timeout(1000)


def sample(pid: int, seconds: float) -> dict[str, float]:
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_seconds(pid), time.monotonic()
    return {
        "cpu_s": round(c1 - c0, 3),
        "wall_s": round(t1 - t0, 2),
        "core_pct": round(100 * (c1 - c0) / (t1 - t0), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="sampling window")
    parser.add_argument("--page", default="/", help="the page the tab opens, e.g. /tokens")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before sampling")
    parser.add_argument("flags", nargs=argparse.REMAINDER, help="after --: streamlit flags")
    args = parser.parse_args(argv)
    flags = [f for f in args.flags if f != "--"]

    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="atwu-idle-home-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "app.log"
    env = {**os.environ, "ATWU_HOME": str(home)}
    cmd = [str(ROOT / "run-app.sh"), "--server.port", str(port), *flags]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    result: dict = {"bench": "app_idle_cpu", "page": args.page, "flags": flags}
    try:
        wait_healthy(url, proc)
        result["no_tab_before"] = sample(proc.pid, min(10.0, args.seconds))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.goto(url + args.page, timeout=180_000)
            settle(tab)
            time.sleep(args.settle)
            result["tab_open"] = sample(proc.pid, args.seconds)
            tab.close()
            browser.close()
        time.sleep(2)
        result["tab_closed"] = sample(proc.pid, min(10.0, args.seconds))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        shutil.rmtree(home, ignore_errors=True)
    for key in ("no_tab_before", "tab_open", "tab_closed"):
        r = result[key]
        print(f"{key:14s} {r['core_pct']:6.2f}% of a core ({r['cpu_s']} CPU s in {r['wall_s']} s)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
