"""Browser tests: the real app (`streamlit run app.py`) on a free loopback port, driven by
Playwright in Debian's headless Chromium.

``playwright install`` cannot download browsers here, so the tests launch /usr/bin/chromium (the
Debian package that ./run-tests.sh installs). Without it the tests fail with that advice; they
never skip silently.

Set ``ATWU_E2E_URL`` (e.g. http://127.0.0.1:8501) to drive an app you already started instead of
starting one (for debugging the tests; the session's benchmark is then not prepared).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
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
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
HEALTH_TIMEOUT = 60  # seconds for /_stcore/health to answer "ok"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.read().decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError):
        return None


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def running_app(home: Path, log: Path) -> Iterator[str]:
    """``streamlit run app.py`` on a free loopback port with ``ATWU_HOME=home``; its URL. On
    exit the server and the runs it launched are stopped."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ATWU_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # Pages edited while the tests run must not put a "Source file changed: Rerun"
        # prompt (a status widget that never goes away) on the page under test.
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
    ]
    with open(log, "wb") as out:
        # Its own process group: the app starts training subprocesses, ended together with it.
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while _health(url) != "ok":
            if proc.poll() is not None:
                pytest.fail(
                    f"`streamlit run app.py` exited with code {proc.returncode} before "
                    f"answering; its log ({log}):\n{_tail(log)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{url}/_stcore/health did not answer 'ok' within {HEALTH_TIMEOUT} s; "
                    f"the server log ({log}):\n{_tail(log)}"
                )
            time.sleep(0.5)
        yield url
    finally:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        _stop_launched_runs(home / "runs")


@pytest.fixture(scope="session")
def app_url(request, atwu_home: Path, tmp_path_factory) -> Iterator[str]:
    """Base URL of a `streamlit run app.py` serving ATWU_HOME = the session's home, where the
    small embedded benchmark is prepared (so the Run page offers it ready to launch)."""
    given = os.environ.get("ATWU_E2E_URL")
    if given:
        yield given.rstrip("/")
        return
    request.getfixturevalue("small_benchmark")
    log = tmp_path_factory.mktemp("e2e_server") / "streamlit.log"
    with running_app(atwu_home, log) as url:
        yield url


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory) -> Iterator[str]:
    """The app on an empty ATWU_HOME: no benchmark, no runs (what a fresh clone has)."""
    if os.environ.get("ATWU_E2E_URL"):
        pytest.fail("the fresh-install test needs an app of its own: unset ATWU_E2E_URL")
    home = tmp_path_factory.mktemp("fresh_home")
    with running_app(home, home / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The app over copies of two demo runs (atwu-s0, wga-s0: nothing trained, no benchmark
    prepared); its URL and ATWU_HOME."""
    import shutil

    from atwu.demo import shipped_demo_dir

    home = tmp_path_factory.mktemp("demo_home")
    for name in ("atwu-s0", "wga-s0", "_benchmark"):
        shutil.copytree(shipped_demo_dir() / name, home / "runs" / name)
    with running_app(home, home / "streamlit.log") as url:
        yield url, home


def _stop_launched_runs(runs_dir: Path) -> None:
    """Training runs the app started lead their own sessions (they outlive a server restart by
    design): stop any a failed test left running."""
    from atwu.app import jobs as L

    if not runs_dir.is_dir():
        return
    for rec in L.list_launches(runs_dir):
        pid = rec.get("pid")
        if pid and L.is_alive(int(pid)):
            L.stop_process(int(pid))


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium. Missing: the tests fail (not skip) with what to do."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium. Run "
            "./run-tests.sh (it installs it with apt-get when run as root), or "
            "`sudo apt-get install chromium`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def warm_app(app_url: str, browser) -> str:
    """The app, after one visit of its root URL.

    Until the first `st.navigation` call of a server process Streamlit resolves URL paths the
    old (pages/ folder) way, so the very first session that opens a deep link such as /run gets a
    "Page not found" dialog over the right page (streamlit/streamlit#9992). One visit of / makes
    every later deep link clean, and imports the heavy modules once.
    """
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(app_url + "/", timeout=60_000)
        page.wait_for_selector("h1", timeout=120_000)
    finally:
        ctx.close()
    return app_url


@pytest.fixture
def page(browser, warm_app: str):
    """A fresh browser context and page per test (its own Streamlit session)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=warm_app)
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
