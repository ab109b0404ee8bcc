"""Seconds from Home's button on a fresh ATWU_HOME to a finished first run of your own and to its
references finished (uniform, static_p and the oracle at its settings: Compare usable); the
target is ≤ 3 min on 2 cores for both.

    .venv/bin/python scripts/perf/first_run.py
    .venv/bin/python scripts/perf/first_run.py --keep /tmp/first-home     # keep the home

It starts the app as the README does (``./run-app.sh --server.port P``) with an empty
``ATWU_HOME``, opens Home in headless Chromium, clicks the button that installs the benchmark
and launches the first run with its references, and then waits, without reloading the page,
until Home's status card says ``done`` (the run) and offers the comparison with the references
(all three done). It reports the wall seconds from the click to the run's directory, to its
first step, to ``done`` on the page, to the references done on the page; each run's own
seconds (from its status: process start and imports excluded); the CPU seconds (user + system,
sampled from /proc until they exit) of the run process, of the references' processes (both
lanes) and of the server; and the load average, since the machine may be shared. Prints a
table and one JSON line (``{"bench": "first_run", ...}``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from app_idle_cpu import CHROMIUM, CHROMIUM_ARGS, ROOT, cpu_seconds, free_port, settle, wait_healthy

BUTTON = "Install the benchmark and launch a first ATWU run"


REFERENCES_READY = "Compare its token weights with the references"


def reference_pids(runs: Path, first: str = "atwu-default-s0") -> set[int]:
    """The processes running the references (the planner and its second lane): the pids in
    their status files (a waiting one names its queue, a started one its process)."""
    pids = set()
    for status in runs.glob("*/status.json"):
        if status.parent.name == first:
            continue
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            pids.add(int(json.loads(status.read_text())["pid"]))
    return pids


def run_seconds(runs: Path) -> dict[str, float]:
    """Each finished run's own time, from its status (started → ended)."""
    import datetime as dt

    out = {}
    for status in sorted(runs.glob("*/status.json")):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            data = json.loads(status.read_text())
            start = dt.datetime.fromisoformat(data["started_at"])
            end = dt.datetime.fromisoformat(data["ended_at"])
            out[status.parent.name] = round((end - start).total_seconds(), 1)
    return out


def run_pid(runs: Path) -> int | None:
    for record in (runs / ".launches").glob("*.json"):
        try:
            return int(json.loads(record.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            continue
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", default=None, help="use (and keep) this ATWU_HOME")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--python",
        default=None,
        help="start the app with this interpreter (checkout on PYTHONPATH) instead of "
        "./run-app.sh, which would set up .venv first (a git worktree sharing another venv)",
    )
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    home = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="atwu-first-home-"))
    home.mkdir(parents=True, exist_ok=True)
    runs = home / "runs"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ATWU_HOME": str(home)}
    command = [str(ROOT / "run-app.sh"), "--server.port", str(port)]
    if args.python:
        env["PYTHONPATH"] = str(ROOT)
        command = [args.python, "-m", "streamlit", "run", "app.py", "--server.address"]
        command += ["127.0.0.1", "--browser.gatherUsageStats", "false"]
        command += ["--server.headless", "true", "--server.port", str(port)]
    with open(home / "app.log", "wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    result: dict = {"bench": "first_run", "load_before": os.getloadavg()[0]}
    try:
        wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/", timeout=180_000)
            settle(page)
            server0 = cpu_seconds(proc.pid)
            t0 = time.monotonic()
            page.get_by_role("button", name=BUTTON).click()
            marks: dict[str, float] = {}
            run_cpu, refs_cpu, pid = 0.0, {}, None
            card = page.locator('[data-testid="stMarkdownContainer"] p').filter(
                has_text="Your latest run"
            )
            ready = page.get_by_text(REFERENCES_READY)
            while time.monotonic() - t0 < args.timeout:
                now = time.monotonic() - t0
                pid = pid or run_pid(runs)
                if pid:
                    with contextlib.suppress(OSError):  # the last reading before it exits counts
                        run_cpu = cpu_seconds(pid)
                for ref in reference_pids(runs):
                    with contextlib.suppress(OSError):  # the last reading before it exits
                        refs_cpu[ref] = cpu_seconds(ref)
                dirs = [d for d in runs.glob("*") if (d / "status.json").is_file()]
                if dirs and "run_dir" not in marks:
                    marks["run_dir"] = now
                if dirs and "first_step" not in marks:
                    status = json.loads((dirs[0] / "status.json").read_text() or "{}")
                    if (status.get("step") or 0) > 0:
                        marks["first_step"] = now
                if (
                    "done_on_page" not in marks
                    and card.count()
                    and card.first.locator("code").last.inner_text() == "done"
                ):
                    marks["done_on_page"] = now
                if ready.count():
                    marks["references_done_on_page"] = now
                    break
                time.sleep(0.25)
            picked = page.locator('[data-testid="stSidebar"]').get_by_role(
                "combobox", name="Run", exact=True
            )
            page.wait_for_timeout(3000)  # the redraw that follows the card's last poll
            result["sidebar_lists_the_run"] = "atwu-default-s0" in (picked.input_value() or "")
            result["server_cpu_s"] = round(cpu_seconds(proc.pid) - server0, 2)
            browser.close()
        result.update({k: round(v, 1) for k, v in marks.items()})
        result["run_cpu_s"] = round(run_cpu, 1)
        result["references_cpu_s"] = round(sum(refs_cpu.values()), 1)
        result["run_seconds"] = run_seconds(runs)
        result["load_after"] = os.getloadavg()[0]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    print(
        f"click → run directory {result.get('run_dir', '–')} s, first step "
        f"{result.get('first_step', '–')} s, done on the page {result.get('done_on_page', '–')} s, "
        f"references done on the page {result.get('references_done_on_page', '–')} s"
    )
    print(f"each run's own seconds (imports excluded): {result['run_seconds']}")
    print(
        f"CPU: the run {result['run_cpu_s']} s, the references {result['references_cpu_s']} s, "
        f"the server {result['server_cpu_s']} s; "
        f"load average {result['load_before']:.1f} → {result['load_after']:.1f}; the sidebar "
        f"lists the run without a reload: {result['sidebar_lists_the_run']}"
    )
    print(json.dumps(result))
    return 0 if "references_done_on_page" in result else 1


if __name__ == "__main__":
    raise SystemExit(main())
