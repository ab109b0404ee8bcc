"""A prepared benchmark directory: its manifest, its splits and its models.

    DIR/manifest.json        splits, forget→retain pairing, each retain split's train and
                             held-out parts, models, seed, format version
    DIR/data/<split>.jsonl   the data format of atwu.data.format
    DIR/models/<name>/       save_pretrained models (tokenizer and chat template included)
    DIR/quality.json         how well the models memorised their data

Both the embedded benchmark and a user's own files are written in this one layout, so the
engine and the app never ask where a benchmark came from.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from atwu.data.format import QAPair
from atwu.data.pairs_file import load_pairs, write_pairs
from atwu.errors import InputError
from atwu.io import read_json

#: 2: every retain split has a ``train`` part (the only retain pairs unlearning sees) and a
#: ``heldout`` part (where utility and collateral damage are measured), METHOD.md §3.1
FORMAT_VERSION = 2
UPGRADE_HINT = (
    "rebuild it with the command that made it plus --overwrite (the embedded benchmark: "
    "`python -m atwu prepare --overwrite`)"
)


class BenchmarkError(InputError):
    """A benchmark directory is missing, incomplete or lacks what was asked of it."""


@dataclass(frozen=True)
class Benchmark:
    root: Path
    manifest: dict

    @classmethod
    def load(cls, root: str | Path) -> Benchmark:
        root = Path(root).expanduser()
        path = root / "manifest.json"
        if not path.is_file():
            raise BenchmarkError(
                f"{root} is not a prepared benchmark (no manifest.json); "
                "run `python -m atwu prepare` first"
            )
        manifest = read_json(path)
        version = manifest.get("format_version")
        if version == 1:
            raise BenchmarkError(
                f"{root} was prepared by an earlier version (format 1) without held-out retain "
                f"pairs, so unlearning would train on the pairs utility is measured on; "
                f"{UPGRADE_HINT}"
            )
        if version != FORMAT_VERSION:
            raise BenchmarkError(
                f"{path}: format_version {version} is not supported "
                f"(expected {FORMAT_VERSION}); {UPGRADE_HINT}"
            )
        return cls(root=root, manifest=manifest)

    @property
    def name(self) -> str:
        return self.manifest.get("name", self.root.name)

    @property
    def splits(self) -> list[str]:
        return list(self.manifest["splits"])

    @property
    def forget_splits(self) -> dict[str, str]:
        """forget split -> the retain split (and retain model) it pairs with."""
        return dict(self.manifest["forget_splits"])

    @property
    def default_forget_split(self) -> str:
        return self.manifest.get("default_forget_split", next(iter(self.forget_splits)))

    def split_path(self, split: str) -> Path:
        if split not in self.manifest["splits"]:
            raise BenchmarkError(
                f"split {split!r} is not in {self.root} (it has: {', '.join(self.splits)})"
            )
        return self.root / self.manifest["splits"][split]["path"]

    def pairs(self, split: str) -> list[QAPair]:
        return _load_cached(self.split_path(split))

    def has_model(self, name: str) -> bool:
        return name in self.manifest.get("models", {})

    def model_path(self, name: str) -> Path:
        models = self.manifest.get("models", {})
        if name not in models:
            hint = ""
            if name.startswith("retain"):
                hint = f"; build it with `python -m atwu prepare --retain-splits {name}`"
            raise BenchmarkError(f"model {name!r} was not prepared in {self.root}{hint}")
        return self.root / models[name]

    def retain_for(self, forget_split: str) -> str:
        if forget_split not in self.forget_splits:
            raise BenchmarkError(
                f"{forget_split!r} is not a forget split of {self.root} "
                f"(forget splits: {', '.join(self.forget_splits)})"
            )
        return self.forget_splits[forget_split]

    @property
    def target_model(self) -> Path:
        return self.model_path(self.manifest.get("target_model", "full"))

    @property
    def utility_splits(self) -> list[str]:
        return list(self.manifest.get("utility_splits", []))

    def retain_parts(self, forget_split: str) -> dict[str, str]:
        """``{"train", "heldout"}`` split names of the retain split paired with ``forget_split``."""
        retain = self.retain_for(forget_split)
        parts = (self.manifest.get("retain_sets") or {}).get(retain)
        if not parts:
            raise BenchmarkError(
                f"{self.root}: retain split {retain!r} has no train/held-out "
                f"parts in the manifest; {UPGRADE_HINT}"
            )
        return dict(parts)

    def retain_train_for(self, forget_split: str) -> str:
        """The retain pairs unlearning may train on (never the held-out ones)."""
        return self.retain_parts(forget_split)["train"]

    def retain_heldout_for(self, forget_split: str) -> str:
        """The retain pairs unlearning never sees: utility and collateral damage are measured
        here."""
        return self.retain_parts(forget_split)["heldout"]

    def utility_splits_for(self, forget_split: str) -> list[str]:
        """The splits model utility is the harmonic mean over: the held-out retain pairs, then the
        benchmark's general sets."""
        heldout = self.retain_heldout_for(forget_split)
        return [heldout, *(s for s in self.utility_splits if s != heldout)]

    @cached_property
    def quality(self) -> dict:
        path = self.root / "quality.json"
        return read_json(path) if path.is_file() else {}


def write_splits(root: Path, splits: dict[str, list[QAPair]]) -> dict[str, dict]:
    """Write ``root/data/<split>.jsonl`` for every split; returns the manifest's ``splits`` entry."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    meta = {}
    for name, pairs in splits.items():
        write_pairs(root / "data" / f"{name}.jsonl", pairs)
        meta[name] = {"path": f"data/{name}.jsonl", "n": len(pairs)}
    return meta


_CACHE: dict[tuple[str, float], list[QAPair]] = {}


def _load_cached(path: Path) -> list[QAPair]:
    key = (str(path), path.stat().st_mtime)
    if key not in _CACHE:
        _CACHE[key] = load_pairs(path)
    return _CACHE[key]


def split_heldout(
    retain: list[QAPair], share: float, seed: str, *, groups: bool = True
) -> tuple[list[QAPair], list[QAPair]]:
    """(train, heldout): a share of the retain pairs held out, whole groups (``author``) at a time
    when every pair has one, else pair by pair; deterministic from ``seed``."""
    keys = (
        [p.author for p in retain]
        if groups and all(p.author for p in retain)
        else [p.id for p in retain]
    )
    unique = list(dict.fromkeys(keys))
    n = max(1, round(share * len(unique))) if len(unique) > 1 else 0
    held = set(random.Random(seed).sample(unique, n))
    return (
        [p for p, k in zip(retain, keys) if k not in held],
        [p for p, k in zip(retain, keys) if k in held],
    )


def without_questions(retain: list[QAPair], heldout: list[QAPair]) -> list[QAPair]:
    """``retain`` without the pairs whose question is asked in ``heldout`` (for benchmarks whose
    evaluation split is drawn from their retain split, like TOFU's retain_perturbed)."""
    asked = {p.question.strip() for p in heldout}
    return [p for p in retain if p.question.strip() not in asked]
