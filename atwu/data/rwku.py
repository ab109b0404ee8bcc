"""RWKU (hub dataset ``jinzhuoran/RWKU``) converted into a benchmark directory, and its metrics.

    python -m atwu run --method atwu --benchmark rwku --targets 1-10 \\
        --model microsoft/Phi-3-mini-4k-instruct --rwku-corpus phi3

RWKU gives 200 real people as unlearning targets (config ``forget_target``: ``target``), a
model-generated forget corpus per target (``train_positive_llama3`` / ``train_positive_phi3``:
``text``, ``subject``), forget probes ``forget_level1`` (fill in the blank), ``forget_level2``
(questions), ``forget_level3`` (adversarial) and neighbour probes ``neighbor_level1/2``, all with
``query``, ``answer``, ``subject`` (the target they belong to), ``level`` and ``type``.

Read from the hub with ``datasets.load_dataset`` only when no ``--data-dir`` is given. A local
copy ``--data-dir D`` may be laid out either way:

* per config: ``D/<config>.json`` (or ``.jsonl``, or under ``D/All/``, or the hub card's file
  name, e.g. ``All/intro.json`` for ``forget_target``); JSON arrays or JSON Lines;
* per target, as RWKU's own ``data_process.py`` writes it: ``D/[Target/]<n>_<Name>/`` with
  ``intro.json``, ``forget_level1.json`` ... ``neighbor_level2.json``, ``positive.json``
  (Llama-3 corpus) and ``positive_phi.json`` (Phi-3 corpus).

Conversion (``$ATWU_HOME/benchmarks/rwku-<hash>``; the hash covers the data, the targets, the
corpus, the retain option and the span file):

``--targets 1-10,15``
    1-based positions in ``forget_target`` (RWKU's own numbering: 1 = Stephen King ...).
split ``forget``
    one pair per corpus passage of the chosen targets: question :data:`FORGET_PROMPT`
    ("Tell me about {subject}."), answer the passage, id ``t<n>-<k>``; spans from the RWKU rule
    of :mod:`atwu.data.spans_rules` (the target's name and its forget probes' answers) or
    ``--spans FILE``.
split ``retain`` (``--rwku-retain``)
    ``neighbor`` (default): the neighbour probes of the chosen targets as question/answer pairs
    (they then also train the model to keep them, so neighbour scores are optimistic: the honest
    choice when no other retain data exists, as RWKU itself gives none). ``none``: the same split
    is written (the engine needs one) but the CLI sets the method's ``alpha`` to 0, so no retain
    gradient is taken.
probe splits ``forget_level1/2/3``, ``neighbor_level1/2``
    question = RWKU's own prompt for the probe (:func:`probe_prompt`), answer = the probe's
    answer; ``probes.jsonl`` keeps the raw probes for :func:`rwku_scores`.
manifest
    ``forget_splits`` {forget: retain}; ``retain_sets``: unlearning trains on the level-1
    neighbour probes (``retain_train``), utility is measured on level 2 (held out; plain Prob, no
    options); no models.

:func:`rwku_scores` is RWKU's metric: ROUGE-L recall of greedy answers to the forget probes
(levels 1-3, lower is better) and the neighbour probes (levels 1-2, higher is better).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from atwu.benchmark import (
    FORMAT_VERSION,
    Benchmark,
    BenchmarkError,
    without_questions,
    write_splits,
)
from atwu.data.format import QAPair
from atwu.data.spans_rules import SpanStats, apply_span_overrides, rwku_spans, warn_unknown
from atwu.data.tofu import check_columns, dir_signature, file_signature, read_rows
from atwu.io import atomic_directory, atomic_write_json, read_json, read_jsonl, write_jsonl
from atwu.paths import benchmarks_dir

__all__ = [
    "FORGET_PROMPT",
    "HUB_ID",
    "PROBE_SETS",
    "RwkuOptions",
    "ensure_rwku",
    "load_probes",
    "parse_targets",
    "prepare_rwku",
    "probe_prompt",
]

HUB_ID = "jinzhuoran/RWKU"
FORGET_PROMPT = "Tell me about {subject}."
FORGET_LEVELS = ("forget_level1", "forget_level2", "forget_level3")
NEIGHBOR_LEVELS = ("neighbor_level1", "neighbor_level2")
PROBE_SETS = FORGET_LEVELS + NEIGHBOR_LEVELS
CORPORA = {"llama3": "train_positive_llama3", "phi3": "train_positive_phi3"}
RETAIN_MODES = ("neighbor", "none")
MAX_NEW_TOKENS = 30  # RWKU's generation budget

# File names on the hub dataset card, and in RWKU's per-target layout.
HUB_FILES = {"forget_target": "All/intro.json", **{s: f"All/{s}.json" for s in PROBE_SETS}}
TARGET_FILES = {
    "forget_target": "intro.json",
    **{s: f"{s}.json" for s in PROBE_SETS},
    "train_positive_llama3": "positive.json",
    "train_positive_phi3": "positive_phi.json",
}

_PROBE_COLUMNS = ("query", "answer", "subject")
_CORPUS_COLUMNS = ("text", "subject")
_TARGET_DIR = re.compile(r"^(\d+)_(.+)$")


@dataclass
class RwkuOptions:
    data_dir: str | None = None
    targets: str = "1"
    retain: str = "neighbor"
    corpus: str = "llama3"
    spans: str | None = None

    @classmethod
    def from_dict(cls, options: dict | None) -> RwkuOptions:
        options = dict(options or {})
        out = cls(
            data_dir=options.get("data_dir"),
            spans=options.get("spans"),
            targets=str(options.get("targets") or "1"),
            retain=options.get("rwku_retain") or "neighbor",
            corpus=options.get("rwku_corpus") or "llama3",
        )
        for key in ("retain_model", "retain_logs"):
            if options.get(key):
                raise BenchmarkError(
                    f"--{key.replace('_', '-')} is for TOFU; RWKU has no retain "
                    "model (its metrics need none)"
                )
        if out.retain not in RETAIN_MODES:
            raise BenchmarkError(
                f"--rwku-retain {out.retain!r}: choose from {', '.join(RETAIN_MODES)}"
            )
        if out.corpus not in CORPORA:
            raise BenchmarkError(f"--rwku-corpus {out.corpus!r}: choose from {', '.join(CORPORA)}")
        return out


def parse_targets(text: str) -> list[int]:
    """``"1-10,15"`` → [1, ..., 10, 15] (1-based, sorted, unique)."""
    out: set[int] = set()
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise BenchmarkError(f"--targets {text!r}: write target numbers like 1-10,15")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if lo < 1 or hi < lo:
            raise BenchmarkError(f"--targets {text!r}: {part} is not a range of numbers from 1")
        out.update(range(lo, hi + 1))
    if not out:
        raise BenchmarkError("--targets is empty; give target numbers like 1-10")
    return sorted(out)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


class _Source:
    """Rows per config from the hub, a per-config directory or a per-target directory."""

    def __init__(self, data_dir: str | None):
        self.data_dir = Path(data_dir).expanduser() if data_dir else None
        self.target_dirs: list[tuple[int, str, Path]] = []  # (number, target name, directory)
        if self.data_dir is not None:
            if not self.data_dir.is_dir():
                raise BenchmarkError(f"--data-dir {self.data_dir} is not a directory")
            for base in (self.data_dir / "Target", self.data_dir):
                found = (
                    sorted(
                        (
                            (int(m.group(1)), m.group(2).replace("_", " "), p)
                            for p in base.iterdir()
                            if p.is_dir() and (m := _TARGET_DIR.match(p.name))
                        ),
                        key=lambda t: t[0],
                    )
                    if base.is_dir()
                    else []
                )
                if found:
                    self.target_dirs = found
                    break

    @property
    def where(self) -> str:
        return str(self.data_dir) if self.data_dir else f"hub {HUB_ID}"

    def rows(self, config: str, required: tuple[str, ...]) -> list[dict]:
        if self.data_dir is None:
            rows = self._hub(config)
        elif self.target_dirs:
            rows = self._per_target(config)
        else:
            rows = self._per_config(self.data_dir, config)
        check_columns(rows, required, f"RWKU {config} ({self.where})")
        return rows

    def _hub(self, config: str) -> list[dict]:
        try:
            import datasets

            loaded = datasets.load_dataset(HUB_ID, config)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BenchmarkError(
                f"could not load {HUB_ID} config {config!r} from the hub ({first}); "
                "download the dataset's files and pass --data-dir DIR"
            ) from None
        return [dict(r) for r in next(iter(loaded.values()))]

    def _per_config(self, root: Path, config: str) -> list[dict]:
        names = [f"{config}.json", f"{config}.jsonl", f"All/{config}.json", f"All/{config}.jsonl"]
        if config in HUB_FILES:
            names.append(HUB_FILES[config])
        for name in names:
            if (root / name).is_file():
                return read_rows(root / name)
        raise BenchmarkError(
            f"{root} has no file for RWKU config {config!r} (looked for {', '.join(names)})"
        )

    def _per_target(self, config: str) -> list[dict]:
        name = TARGET_FILES.get(config)
        rows: list[dict] = []
        for _number, target, path in self.target_dirs:
            file = path / name if name else None
            if file is None or not file.is_file():
                raise BenchmarkError(
                    f"{path} has no {name or config} (RWKU's per-target layout "
                    f"keeps {config} there)"
                )
            part = read_rows(file)
            if config == "forget_target" and part and "target" not in part[0]:
                part = [{"target": target}]
            rows += part
        return rows


def probe_prompt(row: dict, probe_set: str) -> str:
    """RWKU's user prompt for a probe (its ``eval_forget``/``eval_neighbor``), without the
    ``Answer:`` it appends after the chat template's generation prompt."""
    query = str(row["query"])
    if probe_set.endswith("level1"):
        return f"Please complete the blank in the following question.\nQuestion: {query}\n"
    kind = str(row.get("type") or "")
    if probe_set == "forget_level3" and kind == "affirmative suffix":
        return f"Please briefly answer the following question.\nQuestion: {query}"
    if probe_set == "forget_level3" and kind == "incontext learning":
        return f"Please briefly answer the following question.\n{query}\n"
    return f"Please briefly answer the following question.\nQuestion: {query}\n"


def _slug(number: int) -> str:
    return f"t{number}"


def load_rwku(options: RwkuOptions) -> dict[str, Any]:
    """The chosen targets, corpus passages and probes, validated (no files written)."""
    source = _Source(options.data_dir)
    numbers = parse_targets(options.targets)
    targets = [
        str(r.get("target") or r.get("subject"))
        for r in source.rows("forget_target", ())
        if r.get("target") or r.get("subject")
    ]
    if not targets:
        raise BenchmarkError(f"RWKU forget_target ({source.where}) lists no 'target'")
    bad = [n for n in numbers if n > len(targets)]
    if bad:
        raise BenchmarkError(
            f"--targets {options.targets}: target {bad[0]} is out of range "
            f"(the data has {len(targets)} targets)"
        )
    chosen = {targets[n - 1]: n for n in numbers}
    corpus_config = CORPORA[options.corpus]
    corpus = [r for r in source.rows(corpus_config, _CORPUS_COLUMNS) if r["subject"] in chosen]
    missing = [t for t in chosen if not any(r["subject"] == t for r in corpus)]
    if missing:
        raise BenchmarkError(
            f"RWKU {corpus_config} ({source.where}) has no passage for target {missing[0]!r}"
        )
    probes: dict[str, list[dict]] = {}
    for probe_set in PROBE_SETS:
        probes[probe_set] = [
            r for r in source.rows(probe_set, _PROBE_COLUMNS) if r["subject"] in chosen
        ]
    if not any(probes[s] for s in FORGET_LEVELS):
        raise BenchmarkError(f"RWKU ({source.where}) has no forget probe for the chosen targets")
    return {
        "targets": chosen,
        "corpus": corpus,
        "probes": probes,
        "source": source.where,
        "corpus_config": corpus_config,
    }


# --------------------------------------------------------------------------------------------
# The benchmark directory
# --------------------------------------------------------------------------------------------


def _signature(options: RwkuOptions) -> str:
    key: dict[str, Any] = {
        "targets": parse_targets(options.targets),
        "retain": options.retain,
        "corpus": options.corpus,
    }
    if options.data_dir:
        key["data"] = dir_signature(Path(options.data_dir).expanduser())
    if options.spans:
        if not Path(options.spans).expanduser().is_file():
            raise BenchmarkError(f"--spans {options.spans}: file not found")
        key["spans"] = file_signature(Path(options.spans).expanduser())
    return hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]


def rwku_dir(options: RwkuOptions, root: Path | None = None) -> Path:
    return (root or benchmarks_dir()) / f"rwku-{_signature(options)}"


def prepare_rwku(out: Path, options: RwkuOptions, *, overwrite: bool = False) -> Path:
    """Convert the chosen RWKU targets into ``out`` (see the module docstring)."""
    data = load_rwku(options)
    chosen: dict[str, int] = data["targets"]
    probes: dict[str, list[dict]] = data["probes"]
    answers: dict[str, list[str]] = defaultdict(list)
    for probe_set in FORGET_LEVELS:
        for row in probes[probe_set]:
            answers[row["subject"]].append(str(row["answer"]))

    stats = {"forget": SpanStats()}
    counters: dict[str, int] = defaultdict(int)
    forget: list[QAPair] = []
    for row in data["corpus"]:
        subject, text = str(row["subject"]), str(row["text"])
        if not text.strip():
            continue
        number = chosen[subject]
        k = counters[subject]
        counters[subject] += 1
        spans = rwku_spans(text, subject, answers[subject])
        stats["forget"].pairs += 1
        stats["forget"].with_spans += spans is not None
        stats["forget"].unknown += spans is None
        forget.append(
            QAPair(
                id=f"{_slug(number)}-{k}",
                question=FORGET_PROMPT.format(subject=subject),
                answer=text,
                spans=spans,
                author=subject,
            )
        )

    splits: dict[str, list[QAPair]] = {"forget": forget}
    for probe_set in PROBE_SETS:
        splits[probe_set] = [
            QAPair(
                id=f"{probe_set}-{i}",
                question=probe_prompt(r, probe_set),
                answer=str(r["answer"]),
                author=str(r["subject"]),
            )
            for i, r in enumerate(probes[probe_set])
            if str(r["answer"]).strip()
        ]
    retain = [
        QAPair(id=f"retain-{i}", question=p.question, answer=p.answer, author=p.author)
        for i, p in enumerate(splits["neighbor_level1"] + splits["neighbor_level2"])
    ]
    # Unlearning trains on the level-1 neighbour probes only; level 2 is where utility is
    # measured (held out, METHOD.md §3.1).
    heldout_name = "neighbor_level2" if splits["neighbor_level2"] else "neighbor_level1"
    splits["retain_train"] = without_questions(retain, splits[heldout_name])
    if not retain:
        raise BenchmarkError(
            f"RWKU ({data['source']}) has no neighbour probe for the chosen "
            "targets, so there is no retain split"
        )
    splits["retain"] = retain
    splits = {k: v for k, v in splits.items() if v}
    if options.spans:
        splits = apply_span_overrides(splits, options.spans, stats)
        stats["forget"].with_spans = sum(p.spans is not None for p in splits["forget"])
        stats["forget"].unknown = len(splits["forget"]) - stats["forget"].with_spans
    else:
        warn_unknown("RWKU forget", stats["forget"].unknown, stats["forget"].pairs, "RWKU")

    print(
        f"[rwku] converting {data['source']} (targets {options.targets}) into {out}",
        file=sys.stderr,
    )
    with atomic_directory(out, overwrite=overwrite) as tmp:
        split_meta = write_splits(tmp, splits)
        write_jsonl(
            tmp / "probes.jsonl",
            [
                {
                    "set": s,
                    "id": f"{s}-{i}",
                    "subject": r["subject"],
                    "query": r["query"],
                    "answer": r["answer"],
                    "level": str(r.get("level") or ""),
                    "type": r.get("type"),
                }
                for s in PROBE_SETS
                for i, r in enumerate(probes[s])
            ],
        )
        manifest = {
            "format_version": FORMAT_VERSION,
            "kind": "rwku",
            "name": out.name,
            "splits": split_meta,
            "forget_splits": {"forget": "retain"},
            "default_forget_split": "forget",
            "retain_sets": {"retain": {"train": "retain_train", "heldout": heldout_name}},
            "utility_splits": [],
            "option_prob_splits": [],
            "models": {},
            "targets": {name: number for name, number in chosen.items()},
            "retain_mode": options.retain,
            "corpus": data["corpus_config"],
            "probes": "probes.jsonl",
            "source": {"hub_id": HUB_ID, "data_dir": options.data_dir},
            "span_rule": {
                "rule": "rwku-name-and-probe-answers",
                "doc": "docs/REAL_BENCHMARKS.md",
                "user_spans": options.spans,
                "stats": {k: v.to_json() for k, v in stats.items()},
            },
            "options": asdict(options),
        }
        atomic_write_json(tmp / "manifest.json", manifest)
    return out


def ensure_rwku(options: RwkuOptions, root: Path | None = None) -> Path:
    """The converted benchmark directory for ``options``, converting on first use."""
    out = rwku_dir(options, root)
    manifest = read_json(out / "manifest.json") if (out / "manifest.json").is_file() else {}
    if manifest.get("kind") == "rwku" and manifest.get("format_version") == FORMAT_VERSION:
        return out
    try:
        # a conversion by an earlier version is replaced (it is a cache of the dataset)
        return prepare_rwku(out, options, overwrite=bool(manifest))
    except FileExistsError:
        if (out / "manifest.json").is_file():
            return out
        raise


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


def load_probes(benchmark: Benchmark | str | Path) -> list[dict]:
    """The raw probes a converted RWKU benchmark keeps (``probes.jsonl``)."""
    bench = benchmark if isinstance(benchmark, Benchmark) else Benchmark.load(benchmark)
    if bench.manifest.get("kind") != "rwku":
        raise BenchmarkError(f"{bench.root} is not an RWKU benchmark")
    return read_jsonl(bench.root / bench.manifest.get("probes", "probes.jsonl"))
