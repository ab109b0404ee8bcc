"""Where the project keeps its data: one home directory, overridable with ``ATWU_HOME``.

Layout under the home: ``benchmarks/<name>/`` (prepared benchmarks), ``runs/<name>/`` (run
directories). Keeping one root makes the app, the CLI and the tests agree without flags.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_HOME = Path.home() / ".atwu"
EMBEDDED_NAME = "embedded"


def atwu_home() -> Path:
    return Path(os.environ.get("ATWU_HOME") or DEFAULT_HOME).expanduser()


def benchmarks_dir() -> Path:
    return atwu_home() / "benchmarks"


def default_benchmark_dir() -> Path:
    """Where ``python -m atwu prepare`` writes the embedded benchmark by default."""
    return benchmarks_dir() / EMBEDDED_NAME


def runs_dir() -> Path:
    return atwu_home() / "runs"


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, *, fallback: str = "run") -> str:
    """A user-supplied name made safe to use as one path component.

    Anything but letters, digits, dot, dash and underscore becomes '-', and leading dots are
    dropped, so no name can climb out of its parent directory or hide itself.
    """
    cleaned = _SAFE.sub("-", name).strip("-").lstrip(".")
    return cleaned[:100] or fallback
