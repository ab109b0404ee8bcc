"""Start and stop the project's CLI as background processes (what the app's Run page does).

The app never trains inside the Streamlit process: it launches ``python -m atwu run ...`` exactly
as a user would type it, with its own session (``start_new_session=True``, so a browser reload or
a Streamlit restart does not kill it) and its output in a log file, and then only reads the run
directory. No Streamlit import here.

    pid = launch_run(["run", "--method", "atwu", "--steps", "50"], out_dir, log_path)
    cancel_run(out_dir)          # SIGTERM: the run writes status "cancelled" and exits

A small launch record (``<runs dir>/.launches/<run name>.json``: pid, argv, log, time) is written
beside the runs so any browser session can list the runs started from the app, including one that
died before writing its ``status.json`` (its log then says why).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from atwu.app.process_identity import Signalled, identity, is_same_process, signal_recorded
from atwu.io import atomic_write_json, read_json
from atwu.paths import safe_name
from atwu.process import process_alive

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the checkout: runs start there
LAUNCH_DIR = ".launches"
LOG_DIR = ".logs"

# Popen objects of the processes this Python process started. Polling them reaps finished
# children, so they do not linger as zombies (which ``os.kill(pid, 0)`` would call alive).
_CHILDREN: dict[int, subprocess.Popen] = {}


class LaunchError(RuntimeError):
    """The command could not be started (bad arguments, an existing output directory...)."""


def cli_command(cli_args: list[str]) -> list[str]:
    """The full command line: this interpreter running ``-m atwu`` with ``cli_args``."""
    return [sys.executable, "-m", "atwu", *[str(a) for a in cli_args]]


def _env() -> dict[str, str]:
    env = dict(os.environ)  # atwu is installed in this interpreter's environment (pip install -e .)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def _spawn(argv: list[str], log_path: Path) -> int:
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=PACKAGE_ROOT,
            env=_env(),
            start_new_session=True,
        )
    _CHILDREN[proc.pid] = proc
    return proc.pid


def launch_run(cli_args: list[str], out_dir: str | Path, log_path: str | Path) -> int:
    """Start ``python -m atwu <cli_args> --out out_dir`` in the background; return its pid.

    ``out_dir`` must not exist yet (the CLI refuses to overwrite a run; pick a fresh name with
    :func:`fresh_run_dir`). stdout and stderr go to ``log_path``. A launch record is written to
    ``<out_dir's parent>/.launches/<name>.json``.
    """
    out_dir = Path(out_dir)
    if "--out" in cli_args:
        raise LaunchError("pass the output directory as out_dir, not in cli_args")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise LaunchError(f"{out_dir} already exists; choose another run name")
    argv = cli_command([*cli_args, "--out", str(out_dir)])
    pid = _spawn(argv, Path(log_path))
    record_launch(out_dir, pid=pid, argv=argv, log_path=Path(log_path))
    return pid


def launch_command(cli_args: list[str], log_path: str | Path) -> int:
    """Start ``python -m atwu <cli_args>`` in the background, output to ``log_path``; its pid
    (for commands that write their own run directories, e.g. ``references``)."""
    return _spawn(cli_command(cli_args), Path(log_path))


def launch_prepare(cli_args: list[str], progress_file: str | Path, log_path: str | Path) -> int:
    """Start ``python -m atwu prepare ... --progress-file F``; return its pid.

    The CLI rewrites ``progress_file`` (JSON ``{"message", "fraction"}``) atomically as it goes;
    :func:`read_progress` reads it.
    """
    argv = cli_command([*cli_args, "--progress-file", str(progress_file)])
    Path(progress_file).parent.mkdir(parents=True, exist_ok=True)
    return _spawn(argv, Path(log_path))


def exit_code(pid: int) -> int | None:
    """The exit code of a child this process started, None while it runs or when unknown."""
    proc = _CHILDREN.get(pid)
    return None if proc is None else proc.poll()


def is_alive(pid: int | None) -> bool:
    """Whether process ``pid`` is running (a finished child is reaped, a zombie counts as dead):
    :func:`atwu.process.process_alive`, after polling a child of this process so that it is
    reaped rather than left a zombie."""
    if not pid or pid <= 0:
        return False
    proc = _CHILDREN.get(pid)
    if proc is not None:
        return proc.poll() is None
    return process_alive(pid)


CancelResult = Signalled
"""What a cancel did: ``sent`` (a signal went to the process) and a one-line ``message``."""


def cancel_run(run_dir: str | Path) -> CancelResult:
    """Ask a running run to stop: SIGTERM to the process its ``status.json`` names, if that
    process (pid and start time) still runs.

    The run catches SIGTERM, writes status ``cancelled`` and exits. A run that has not written its
    status yet is found through its launch record. Never raises for a finished or vanished run.
    """
    run_dir = Path(run_dir)
    try:
        record = read_json(run_dir / "status.json")
    except (OSError, ValueError):
        record = None
    if not isinstance(record, dict):
        record = read_launch(run_dir)  # not started far enough to write its status
    elif record.get("state") in ("done", "failed", "cancelled"):
        return CancelResult(False, f"{run_dir.name} has already ended ({record['state']})")
    return signal_recorded(record, what=run_dir.name)


def stop_process(pid: int, pid_start: str | None = None) -> bool:
    """SIGTERM a process this app started (a prepare job, a sweep) and its process group, if
    it is still that process: same start time when ``pid_start`` is known (a pid is reused
    once its process ends), else an atwu command line (records older than start times)."""
    if not is_alive(pid):
        return False  # also reaps a child of this process that has ended
    record = {"pid": pid, "pid_start": pid_start}
    return signal_recorded(record, what=f"process {pid}", group=True).sent


# ---------------------------------------------------------------------------------------------
# Launch records, logs, progress
# ---------------------------------------------------------------------------------------------


def launch_record_path(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    return run_dir.parent / LAUNCH_DIR / f"{run_dir.name}.json"


def log_path_for(runs_dir: str | Path, name: str) -> Path:
    """Where the app puts a launched command's output: ``<runs dir>/.logs/<name>.log``."""
    return Path(runs_dir) / LOG_DIR / f"{safe_name(name)}.log"


def record_launch(run_dir: Path, *, pid: int, argv: list[str], log_path: Path) -> None:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    atomic_write_json(
        launch_record_path(run_dir),
        {
            "run_dir": str(run_dir),
            **identity(pid),  # pid and start time: Cancel signals only this very process
            "argv": argv,
            "log": str(log_path),
            "launched_at": now,
        },
    )


def read_launch(run_dir: str | Path) -> dict[str, Any] | None:
    try:
        return read_json(launch_record_path(run_dir))
    except (OSError, ValueError):
        return None


def list_launches(runs_dir: str | Path) -> list[dict[str, Any]]:
    """Launch records under ``runs_dir``, newest first."""
    folder = Path(runs_dir) / LAUNCH_DIR
    if not folder.is_dir():
        return []
    out = []
    for path in folder.glob("*.json"):
        try:
            record = read_json(path)
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("run_dir"):
            out.append(record)
    return sorted(out, key=lambda r: r.get("launched_at", ""), reverse=True)


def forget_launch(run_dir: str | Path) -> None:
    """Drop a run's launch record (the app's "clear" button for ended runs)."""
    launch_record_path(run_dir).unlink(missing_ok=True)


def read_progress(progress_file: str | Path) -> dict[str, Any] | None:
    """``{"message", "fraction"}`` written by ``prepare --progress-file``, None before the first."""
    try:
        data = read_json(progress_file)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def log_tail(log_path: str | Path, lines: int = 30, *, max_bytes: int = 64_000) -> str:
    """The last ``lines`` lines of a log (progress-bar carriage returns resolved)."""
    path = Path(log_path)
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    # tqdm redraws with '\r': keep only the last state of each line.
    cleaned = [line.rsplit("\r", 1)[-1] for line in data.replace("\r\n", "\n").split("\n")]
    while cleaned and not cleaned[-1].strip():
        cleaned.pop()
    return "\n".join(cleaned[-lines:])


def fresh_run_dir(runs_dir: str | Path, name: str, *, tries: int = 1000) -> Path:
    """Create and return ``runs_dir/<safe name>`` (then ``-2``, ``-3``...): an empty directory
    no other session got (``mkdir`` succeeds for one caller only, so two sessions launching the
    same name in the same second get two directories), nor an earlier launch recorded.
    ``run --out`` accepts it empty."""
    root = Path(runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    base = safe_name(name)
    for k in range(1, tries + 1):
        candidate = root / (base if k == 1 else f"{base}-{k}")
        if launch_record_path(candidate).exists():
            continue
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(
        f"{root}: no free run name like {base} after {tries} tries; clear old runs"
    )


# ---------------------------------------------------------------------------------------------
# Prepare jobs (Home's "prepare the benchmark", the Run page's uploaded files)
# ---------------------------------------------------------------------------------------------


CLAIM_GRACE_S = 10.0
"""A claimed job file still without a process id belongs to a session writing it right now."""


def prepare_job_file(home: str | Path, target: str | Path) -> Path:
    """The job file of the prepare writing ``target``: one per output directory, so sessions
    preparing the same benchmark meet at one job and different benchmarks never share one."""
    return Path(home) / ".app" / f"prepare-{safe_name(Path(target).name)}.json"


def claim_job_file(job_file: str | Path) -> bool:
    """Claim ``job_file`` for a job this session is about to start: True when it was free (or
    named a job whose process is gone), False when another session's job is live or being
    started (follow that one). ``O_EXCL`` lets one caller only create the file."""
    job_file = Path(job_file)
    job_file.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        try:
            fd = os.open(job_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            if _job_live(_read_job(job_file), job_file):
                return False
            job_file.unlink(missing_ok=True)  # a finished or dead job: take its place
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("{}\n")
        return True
    return False


def _read_job(job_file: Path) -> dict[str, Any]:
    try:
        job = read_json(job_file)
    except (OSError, ValueError):
        return {}
    return job if isinstance(job, dict) else {}


def _job_live(job: dict[str, Any], job_file: Path) -> bool:
    """The job's process runs, or the job was claimed moments ago and its pid is not written yet."""
    if job.get("pid") is None:
        try:
            return time.time() - job_file.stat().st_mtime < CLAIM_GRACE_S
        except OSError:
            return False
    return is_same_process(job.get("pid"), job.get("pid_start"))


def start_prepare(cli_args: list[str], job_file: str | Path, out_dir: str | Path) -> int | None:
    """Launch ``python -m atwu prepare`` writing ``out_dir`` and keep its job description in
    ``job_file`` (pid, start time, progress file, log, output): :func:`prepare_status` reads it
    back. None, and nothing started, when another session's job holds ``job_file`` (follow it)."""
    job_file = Path(job_file)
    if not claim_job_file(job_file):
        return None
    stem = job_file.with_suffix("")
    progress, log = Path(f"{stem}.progress.json"), Path(f"{stem}.log")
    progress.unlink(missing_ok=True)
    if "--out" not in cli_args:
        cli_args = [*cli_args, "--out", str(out_dir)]
    pid = launch_prepare(cli_args, progress, log)
    atomic_write_json(
        job_file,
        {
            **identity(pid),
            "progress": str(progress),
            "log": str(log),
            "out": str(out_dir),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    )
    return pid


def cancel_prepare(job_file: str | Path) -> CancelResult:
    """Stop a prepare job (its whole process group) if its process is still the one recorded,
    and mark the job cancelled so that :func:`prepare_status` says so rather than "failed"."""
    job_file = Path(job_file)
    job = _read_job(job_file)
    if not job:
        return CancelResult(False, f"{job_file.name}: no prepare job to stop")
    result = signal_recorded(job, what="the prepare job", group=True)
    if result.sent:
        atomic_write_json(job_file, {**job, "cancelled": True})
    return result


def prepare_status(job_file: str | Path) -> dict[str, Any] | None:
    """``{"state": running|done|failed|cancelled, "fraction", "message", "out", "log"}`` of a
    prepare job, None when there is no job file."""
    job_file = Path(job_file)
    if not job_file.exists():
        return None
    job = _read_job(job_file)
    progress = read_progress(job.get("progress", "")) or {}
    out = Path(job.get("out", ""))
    pid = job.get("pid")
    alive = _job_live(job, job_file)  # a zombie child counts as ended (process_alive)
    if alive:
        state = "running"
    elif (out / "manifest.json").is_file():
        state = "done"
    else:
        state = "cancelled" if job.get("cancelled") else "failed"
    message = progress.get("message") or ("starting" if alive else "")
    if alive and job.get("cancelled"):
        message = "stopping (cancel requested)"
    return {
        "state": state,
        "fraction": float(progress.get("fraction") or 0.0),
        "message": message,
        "out": str(out),
        "log": job.get("log", ""),
        "pid": pid,
    }
