"""The embedded benchmark as ``prepare`` builds it by default, shipped in ``assets/prepared/``,
so a fresh install has it in a second instead of training three tiny models for ~3 minutes.

    .venv/bin/python -m atwu.prepare.shipped          # rebuild assets/prepared/embedded (~3 min)

Installing copies it into ``$ATWU_HOME/benchmarks/embedded`` (what the Home page's first run
does). It is exactly ``python -m atwu prepare`` with the default options: the data and the
tokenizer are deterministic for the seed, and tests/prepare/test_shipped_benchmark.py rebuilds
them and compares bytes (so a change to the generator or the benchmark format fails until the
copy is rebuilt with the command above), trains every model's first steps to compare them with a
recorded fingerprint, and (with ATWU_FULL_REBUILD=1, after a rebuild) retrains the models to
check that their evaluation matches the shipped ones within a stated tolerance.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from atwu.benchmark import FORMAT_VERSION
from atwu.io import atomic_directory, atomic_write_json, read_json

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "assets" / "prepared" / "embedded"
INSTALLED_MARK = "installed_from_shipped.json"
"""Written into a benchmark installed from the shipped copy: its models were trained when the copy
was built, not here (Home says so beside the time ``prepare`` took then)."""


def shipped_benchmark_dir() -> Path:
    return SHIPPED_DIR


def shipped_problem(source: Path | None = None) -> str | None:
    """Why the shipped benchmark cannot be installed (missing, unreadable, an older format, or
    models missing from it), or None when it can."""
    source = SHIPPED_DIR if source is None else source
    try:
        manifest = read_json(source / "manifest.json")
    except (OSError, ValueError) as exc:
        return f"no readable {source / 'manifest.json'} ({type(exc).__name__})"
    if manifest.get("format_version") != FORMAT_VERSION:
        return (
            f"it has benchmark format {manifest.get('format_version')}, this version of atwu "
            f"reads format {FORMAT_VERSION}"
        )
    missing = [
        name
        for name, rel in (manifest.get("models") or {}).items()
        if not (source / rel / "model.safetensors").is_file()
    ]
    if missing:
        return (
            f"its model(s) {', '.join(missing)} are missing (a Git LFS pointer, or a partial copy?)"
        )
    return None


def install_shipped(out: Path, *, source: Path | None = None) -> Path:
    """Copy the shipped benchmark into ``out`` (built under a temporary name and renamed, like
    ``prepare``); raises FileExistsError when ``out`` exists, ValueError when it cannot be used
    (:func:`shipped_problem`)."""
    source = SHIPPED_DIR if source is None else source
    problem = shipped_problem(source)
    if problem is not None:
        raise ValueError(f"the shipped benchmark cannot be used: {problem}")
    with atomic_directory(Path(out)) as tmp:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
        atomic_write_json(Path(tmp) / INSTALLED_MARK, {"source": str(source)})
    return Path(out)


def rebuild(dest: Path = SHIPPED_DIR) -> dict:
    """Prepare the default embedded benchmark and put it at ``dest`` (replacing it)."""
    from atwu.prepare.build import PrepareOptions, prepare_embedded

    with tempfile.TemporaryDirectory(prefix="atwu-shipped-") as scratch:
        built = Path(scratch) / dest.name
        quality = prepare_embedded(
            built, PrepareOptions(), progress=lambda m, f: print(f"[prepare] {m}", flush=True)
        )
        shutil.rmtree(built / "eval_cache", ignore_errors=True)
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(built, dest)
    return quality


if __name__ == "__main__":
    q = rebuild()
    print(f"rebuilt {SHIPPED_DIR} in {q['prepare_seconds']:.0f} s", file=sys.stderr)
