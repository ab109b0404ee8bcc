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
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atwu.io import atomic_write_json, read_json
from atwu.paths import safe_name

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
    """Whether process ``pid`` is running (a finished child is reaped, a zombie counts as dead)."""
    if not pid or pid <= 0:
        return False
    proc = _CHILDREN.get(pid)
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    stat = Path(f"/proc/{pid}/stat")
    try:
        # Field 3 is the state; "Z" (zombie) and "X" (dead) have finished.
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def _is_atwu_process(pid: int) -> bool:
    """Guard against a recycled pid: on Linux the command line must mention atwu."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True  # not Linux: nothing to check with
    try:
        return b"atwu" in cmdline.read_bytes()
    except OSError:
        return False


@dataclass
class CancelResult:
    sent: bool
    message: str


def cancel_run(run_dir: str | Path) -> CancelResult:
    """Ask a running run to stop: SIGTERM to the pid in its ``status.json`` if it is alive.

    The run catches SIGTERM, writes status ``cancelled`` and exits. A run that has not written its
    status yet is found through its launch record. Never raises for a finished or vanished run.
    """
    run_dir = Path(run_dir)
    pid: int | None = None
    state = None
    try:
        status = read_json(run_dir / "status.json")
        pid, state = status.get("pid"), status.get("state")
    except (OSError, ValueError):
        status = None
    if state in ("done", "failed", "cancelled"):
        return CancelResult(False, f"{run_dir.name} has already ended ({state})")
    if status is None:
        record = read_launch(run_dir)
        pid = record.get("pid") if record else None
    if not pid:
        return CancelResult(False, f"{run_dir.name}: no process id recorded, nothing to cancel")
    if not is_alive(int(pid)) or not _is_atwu_process(int(pid)):
        return CancelResult(False, f"{run_dir.name}: process {pid} is not running")
    try:
        os.kill(int(pid), signal.SIGTERM)
    except ProcessLookupError:
        return CancelResult(False, f"{run_dir.name}: process {pid} is not running")
    except PermissionError as exc:
        return CancelResult(False, f"{run_dir.name}: not allowed to stop process {pid} ({exc})")
    return CancelResult(True, f"asked {run_dir.name} (process {pid}) to stop")


def stop_process(pid: int) -> bool:
    """SIGTERM a process this app started (e.g. a prepare job) and its process group."""
    if not is_alive(pid) or not _is_atwu_process(pid):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)  # the child leads its own session (start_new_session)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return False
    return True


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
            "pid": pid,
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


def fresh_run_dir(runs_dir: str | Path, name: str) -> Path:
    """``runs_dir/<safe name>``, with ``-2``, ``-3``... appended until it does not exist."""
    root = Path(runs_dir)
    base = safe_name(name)
    candidate = root / base
    k = 2
    while candidate.exists() or launch_record_path(candidate).exists():
        candidate = root / f"{base}-{k}"
        k += 1
    return candidate


def build_run_args(
    method: str,
    *,
    benchmark: str | None = None,
    split: str | None = None,
    model: str | None = None,
    steps: int | None = None,
    epochs: float | None = None,
    lr: float | None = None,
    checkpoint_every: int | None = None,
    seed: int | None = None,
    device: str | None = None,
    params: dict[str, Any] | None = None,
    quick: bool = False,
    evaluate: bool = True,
    save_model: bool | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    """The ``python -m atwu run`` arguments (without ``--out``) for one run; ``extra`` is
    appended as given (e.g. ``["--data-dir", D]`` for TOFU). Give ``steps`` or ``epochs``, not
    both (``run`` refuses both)."""
    args = ["run", "--method", method]
    for flag, value in (
        ("--benchmark", benchmark),
        ("--split", split),
        ("--model", model),
        ("--steps", steps),
        ("--epochs", epochs),
        ("--lr", lr),
        ("--checkpoint-every", checkpoint_every),
        ("--seed", seed),
        ("--device", device),
    ):
        if value is not None and value != "":
            args += [flag, str(value)]
    for key, value in (params or {}).items():
        args += ["--set", f"{key}={value}"]
    if quick:
        args.append("--quick")
    if not evaluate:
        args.append("--no-eval")
    if save_model is True:
        args.append("--save-model")
    elif save_model is False:
        args.append("--no-save-model")
    return args + [str(a) for a in (extra or [])]


# ---------------------------------------------------------------------------------------------
# Prepare jobs (Home's "prepare the benchmark", the Run page's uploaded files)
# ---------------------------------------------------------------------------------------------


def start_prepare(cli_args: list[str], job_file: str | Path, out_dir: str | Path) -> int:
    """Launch ``python -m atwu prepare`` writing ``out_dir`` and keep its job description in
    ``job_file`` (pid, progress file, log, output): :func:`prepare_status` reads it back."""
    job_file = Path(job_file)
    stem = job_file.with_suffix("")
    progress, log = Path(f"{stem}.progress.json"), Path(f"{stem}.log")
    progress.unlink(missing_ok=True)
    if "--out" not in cli_args:
        cli_args = [*cli_args, "--out", str(out_dir)]
    pid = launch_prepare(cli_args, progress, log)
    atomic_write_json(
        job_file,
        {
            "pid": pid,
            "progress": str(progress),
            "log": str(log),
            "out": str(out_dir),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    )
    return pid


def prepare_status(job_file: str | Path) -> dict[str, Any] | None:
    """``{"state": running|done|failed, "fraction", "message", "out", "log"}`` of a prepare job,
    None when there is no job file."""
    try:
        job = read_json(job_file)
    except (OSError, ValueError):
        return None
    progress = read_progress(job.get("progress", "")) or {}
    out = Path(job.get("out", ""))
    alive = is_alive(job.get("pid"))
    if (out / "manifest.json").is_file() and not alive:
        state = "done"
    elif alive:
        state = "running"
    else:
        state = "failed"
    return {
        "state": state,
        "fraction": float(progress.get("fraction") or 0.0),
        "message": progress.get("message") or ("starting" if alive else ""),
        "out": str(out),
        "log": job.get("log", ""),
        "pid": job.get("pid"),
    }
