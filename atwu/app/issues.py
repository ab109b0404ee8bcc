"""What is wrong with a run directory, said as a message with a fix; file stamps for cache keys.

Readers never raise on a damaged run directory: pages turn a reader's exception into an
:class:`Issue` that says what is wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from atwu.app.cli_text import ATWU
from atwu.runs.read import RunInfo


def file_stamp(path: str | Path) -> tuple[int, int] | None:
    """(mtime in ns, size) of a file, None when it does not exist: the cache key of its reads."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class Issue:
    """Something wrong with a run directory: ``level`` is ``error`` (the page cannot show the
    run), ``warning`` (part of it is missing) or ``info``; ``fix`` says what to do."""

    level: str
    what: str
    fix: str = ""

    @property
    def text(self) -> str:
        return f"{self.what} {self.fix}".strip()


def run_issues(info: RunInfo) -> list[Issue]:
    """Problems of a run as a whole (config, status, failure), each with a fix."""
    issues: list[Issue] = []
    name = info.name
    for problem in info.problems:
        if problem.startswith("config.json"):
            issues.append(
                Issue(
                    "error",
                    f"Run {name}: {problem}.",
                    "If it was launched from the app, its log is in the runs "
                    "directory under .logs/; delete the directory or launch it again.",
                )
            )
        else:
            issues.append(
                Issue(
                    "warning",
                    f"Run {name}: {problem}.",
                    "The run may have been killed before it started; its state is unknown.",
                )
            )
    state = info.status.get("state")
    message = info.status.get("message", "")
    if state == "failed":
        issues.append(
            Issue(
                "error",
                f"Run {name} failed: {message or 'no message'}.",
                "What it recorded before failing is shown where possible; fix the "
                "cause and launch it again (Run page), or resume it with "
                f"`{ATWU} run --resume --out {info.path}`.",
            )
        )
    elif state == "cancelled":
        issues.append(
            Issue(
                "info",
                f"Run {name} was cancelled ({message}).",
                "Its checkpoints up to then are shown.",
            )
        )
    elif state in ("queued", "running"):
        issues.append(
            Issue(
                "info",
                f"Run {name} is {state}: {message}.",
                "The pages show what it has written so far.",
            )
        )
    return issues


def weights_issue(info: RunInfo, steps: list[int] | None, error: str | None) -> Issue | None:
    """Why a run has no token weights to show (given its recorded steps, or the read error),
    or None when it has them."""
    if error:
        return Issue(
            "error",
            f"Run {info.name}: weights.parquet is unreadable ({error}).",
            "The file is damaged or was written by another version of atwu; run the "
            "method again (Run page) or copy the run directory again.",
        )
    if not steps:
        if info.state in ("queued", "running"):
            return Issue(
                "info",
                f"Run {info.name} has not recorded token weights yet.",
                "Weights are recorded at step 0 and at every checkpoint; they appear "
                "here as soon as the first one is written.",
            )
        return Issue(
            "warning",
            f"Run {info.name} has no token weights (weights.parquet is missing or empty).",
            "It probably ended before its first checkpoint: see its status message, "
            "fix the cause and launch it again.",
        )
    return None
