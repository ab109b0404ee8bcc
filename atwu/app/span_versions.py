"""A benchmark's ground-truth spans edited in the browser, saved as a new version beside it.

The original stays as it is. The new version is a copy of its directory (models linked, not
copied, where the file system allows: the spans change no model) named ``<original>-spans-v<n>``
(the first free ``n``; never text a user typed), whose split files carry the edited spans in
every split that holds the edited pair (a forget pair is also in ``full``). Each edited pair is
checked as ``prepare`` checks a pair (:func:`atwu.data.pairs_file.parse_pair`), and the split files
are written by :func:`atwu.data.pairs_file.write_pairs`; the directory appears whole or not at
all (:func:`atwu.io.atomic_directory`). Its manifest records what it was derived from.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from atwu.benchmark import Benchmark
from atwu.data.format import QAPair, Span
from atwu.data.pairs_file import load_pairs, parse_pair, write_pairs
from atwu.errors import InputError
from atwu.io import atomic_directory, atomic_write_json, read_json_object

_VERSION = re.compile(r"^(?P<base>.+)-spans-v(?P<n>\d+)$")


def version_name(original: str, taken: set[str]) -> str:
    """``<base>-spans-v<n>`` with the first ``n`` not in ``taken``; ``base`` is the original's
    name without an earlier ``-spans-v<k>`` (a version of a version is numbered on)."""
    match = _VERSION.match(original)
    base = match.group("base") if match else original
    n = 2
    while f"{base}-spans-v{n}" in taken:
        n += 1
    return f"{base}-spans-v{n}"


def with_spans(pair: QAPair, spans: Sequence[Span]) -> QAPair:
    """``pair`` with ``spans``, checked as ``prepare`` checks a pair (DataFormatError naming the
    pair otherwise)."""
    obj = pair.to_json()
    obj["spans"] = [s.to_json() for s in spans]
    parse_pair(obj, where=f"pair {pair.id}", default_id=pair.id, seen_unknown_keys=set())
    return replace(pair, spans=sorted(spans, key=lambda s: (s.start, s.end)))


def _link_or_copy(src: str, dst: str) -> object:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def save_span_version(bench_dir: Path, edits: Mapping[str, QAPair], benchmarks: Path) -> Path:
    """A new benchmark directory under ``benchmarks`` with ``edits`` (edited pairs by id, each
    from :func:`with_spans`) applied to every split holding the same pair; its path."""
    if not edits:
        raise InputError("no span was edited; mark or remove a span first")
    bench = Benchmark.load(bench_dir)
    taken = {p.name for p in benchmarks.iterdir()} if benchmarks.is_dir() else set()
    target = benchmarks / version_name(bench_dir.name, taken)
    found: set[str] = set()
    with atomic_directory(target) as tmp:
        shutil.copytree(bench.root, tmp, dirs_exist_ok=True, copy_function=_link_or_copy)
        for split in bench.splits:
            path = tmp / bench.manifest["splits"][split]["path"]
            pairs = load_pairs(path)
            changed = [
                edits[p.id] if p.id in edits and edits[p.id].answer == p.answer else p
                for p in pairs
            ]
            if any(a is not b for a, b in zip(changed, pairs, strict=True)):
                found |= {p.id for p in pairs if p.id in edits}
                path.unlink()  # a linked file: write a new one, never through the link
                write_pairs(path, changed)
        missing = sorted(set(edits) - found)
        if missing:
            raise InputError(f"pair(s) {', '.join(missing)} are not in {bench.root}; nothing saved")
        manifest = read_json_object(tmp / "manifest.json")
        manifest["name"] = target.name
        manifest["derived_from"] = {
            "benchmark": bench.name,
            "path": str(bench.root),
            "edited_spans": sorted(edits),
        }
        (tmp / "manifest.json").unlink()
        atomic_write_json(tmp / "manifest.json", manifest)
    return target
