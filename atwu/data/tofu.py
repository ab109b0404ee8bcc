"""TOFU (hub dataset ``locuslab/TOFU``) converted into a benchmark directory of our layout.

    python -m atwu run --method atwu --benchmark tofu --split forget10 \\
        --model open-unlearning/tofu_Llama-3.2-1B-Instruct_full \\
        --retain-model open-unlearning/tofu_Llama-3.2-1B-Instruct_retain90

The hub repository holds one JSON Lines file per config (``forget10.json``,
``forget10_perturbed.json``, ``retain90.json``, ``retain_perturbed.json``,
``real_authors_perturbed.json``, ``world_facts_perturbed.json``, ...). They are read with
``datasets.load_dataset("locuslab/TOFU", <config>)`` only when no ``--data-dir`` is given;
with ``--data-dir D`` the same files are read from ``D`` (the repository's files as downloaded:
``D/<config>.json``, ``.jsonl`` or ``.parquet``, or ``D/<config>/**/*.parquet``).

The conversion writes ``$ATWU_HOME/benchmarks/tofu[-<hash>]`` (the hash covers the data
directory and its files, the span file and the retain model or logs), once; later runs with the
same inputs reuse it. Layout and manifest are those of :mod:`atwu.benchmark`, so the engine, the
evaluation and the app treat TOFU like any prepared benchmark:

* splits ``forget01/05/10`` (from ``<split>_perturbed``, which holds the same questions with the
  paraphrased and perturbed answers; the plain file when the perturbed one is absent),
  ``retain90/95/99``, ``retain_perturbed``, ``real_authors``, ``world_facts``;
  ids are ``<split>-<row index>`` (``forget10-0`` ...), the row index being open-unlearning's
  ``index``;
* field names: TOFU's ``perturbed_answer`` (a list) becomes our ``perturbed_answers``; on
  ``real_authors``/``world_facts``, which have no paraphrase, ``paraphrased_answer`` is the
  answer itself (TOFU's truth ratio there compares the answer with the perturbations);
* ``forget_splits`` {forget01: retain99, forget05: retain95, forget10: retain90},
  ``retain_sets``: each retain split minus retain_perturbed's questions is what unlearning trains
  on (``retainNN_train``), retain_perturbed its held-out part; ``utility_splits`` = real_authors
  + world_facts, ``option_prob_splits`` = real_authors + world_facts;
* no target model (the run's ``--model`` is the starting model); a retain model only when
  given (``--retain-model`` path or hub id, or ``--retain-logs`` = an open-unlearning
  ``TOFU_EVAL.json`` of the retain model, see :mod:`atwu.interop.open_unlearning`), for forget quality;
* ground-truth spans of the forget splits from the TOFU rule of :mod:`atwu.data.spans_rules`
  (or ``--spans FILE``).
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, overload

from atwu.benchmark import (
    FORMAT_VERSION,
    Benchmark,
    BenchmarkError,
    without_questions,
    write_splits,
)
from atwu.data.format import QAPair
from atwu.data.spans_rules import SpanStats, apply_span_overrides, tofu_spans, warn_unknown
from atwu.io import atomic_directory, atomic_write_json, read_json
from atwu.paths import benchmarks_dir

__all__ = [
    "FORGET_RETAIN",
    "HUB_ID",
    "TofuOptions",
    "ensure_tofu",
    "prepare_tofu",
    "read_config",
    "tofu_dir",
]

HUB_ID = "locuslab/TOFU"
FORGET_RETAIN = {"forget01": "retain99", "forget05": "retain95", "forget10": "retain90"}
RETAIN_EVAL = "retain_perturbed"
GENERAL = ("real_authors", "world_facts")

_QA = ("question", "answer")
_PERTURBED = ("question", "answer", "paraphrased_answer", "perturbed_answer")
_GENERAL_PERTURBED = ("question", "answer", "perturbed_answer")


@dataclass
class TofuOptions:
    """What the conversion depends on (all optional)."""

    data_dir: str | None = None  # a local copy of the hub files; None: the hub
    spans: str | None = None  # a user span file replacing the rule's spans
    retain_model: str | None = None  # path or hub id of the retain model of ``split``
    retain_logs: str | None = None  # open-unlearning TOFU_EVAL.json of that retain model
    split: str | None = None  # the forget split the retain model/logs belong to

    @classmethod
    def from_dict(cls, options: dict | None, split: str | None = None) -> TofuOptions:
        options = dict(options or {})
        known = {k: options.get(k) for k in ("data_dir", "spans", "retain_model", "retain_logs")}
        unknown = set(options) - set(known) - {"split", "targets", "rwku_retain", "rwku_corpus"}
        if unknown:
            raise BenchmarkError(f"TOFU takes no option(s) {', '.join(sorted(unknown))}")
        return cls(**known, split=split or options.get("split"))


# --------------------------------------------------------------------------------------------
# Reading the hub files
# --------------------------------------------------------------------------------------------


def _local_file(data_dir: Path, name: str) -> list[Path]:
    for suffix in (".json", ".jsonl", ".parquet"):
        if (data_dir / f"{name}{suffix}").is_file():
            return [data_dir / f"{name}{suffix}"]
    if (data_dir / name).is_dir():
        files = sorted((data_dir / name).rglob("*.parquet"))
        if files:
            return files
    return []


def read_rows(path: Path) -> list[dict]:
    """Rows of one JSON Lines / JSON array / parquet file, as dicts."""
    if path.suffix == ".parquet":
        import pandas as pd

        return [
            {k: _plain(v) for k, v in row.items()}
            for row in pd.read_parquet(path).to_dict(orient="records")
        ]
    text = path.read_text(encoding="utf-8-sig")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BenchmarkError(
                f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})"
            ) from None
        if not all(isinstance(r, dict) for r in data):
            raise BenchmarkError(f"{path}: expected a list of objects")
        return data
    rows = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BenchmarkError(
                f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        if not isinstance(row, dict):
            raise BenchmarkError(f"{path}:{lineno}: expected one JSON object per line")
        rows.append(row)
    return rows


def _plain(value: Any) -> Any:
    """numpy arrays from parquet → lists, so rows look like the JSON ones."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


@overload
def read_config(
    name: str,
    data_dir: str | Path | None,
    *,
    required: tuple[str, ...],
    optional: Literal[False] = False,
    hub_id: str = HUB_ID,
) -> tuple[list[dict], str]: ...


@overload
def read_config(
    name: str,
    data_dir: str | Path | None,
    *,
    required: tuple[str, ...],
    optional: bool,
    hub_id: str = HUB_ID,
) -> tuple[list[dict], str] | None: ...


def read_config(
    name: str,
    data_dir: str | Path | None,
    *,
    required: tuple[str, ...],
    optional: bool = False,
    hub_id: str = HUB_ID,
) -> tuple[list[dict], str] | None:
    """The rows of one TOFU config and where they came from; None when optional and absent.

    Raises:
        BenchmarkError: a required config that is absent, a hub that cannot be reached, or a
            row without one of ``required`` columns (the message names the file, the row and
            the columns it has).
    """
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        files = _local_file(root, name)
        if not files:
            if optional:
                return None
            present = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
            raise BenchmarkError(
                f"{root} has no {name}.json (nor .jsonl/.parquet); it should hold "
                f"the {hub_id} files as downloaded (it has: "
                f"{', '.join(present[:12]) or 'nothing'})"
            )
        rows = [row for f in files for row in read_rows(f)]
        source = str(files[0]) if len(files) == 1 else f"{root / name}/*.parquet"
    else:
        hub_rows, source = _hub_rows(hub_id, name, optional=optional)
        if hub_rows is None:
            return None
        rows = hub_rows
    check_columns(rows, required, f"{hub_id.split('/')[-1]} {name} ({source})")
    return rows, source


def _hub_rows(hub_id: str, name: str, *, optional: bool) -> tuple[list[dict] | None, str]:
    try:
        import datasets

        loaded = datasets.load_dataset(hub_id, name)
    except Exception as exc:
        if optional and "config" in str(exc).lower() and "not found" in str(exc).lower():
            return None, ""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchmarkError(
            f"could not load {hub_id} config {name!r} from the hub ({first}); "
            f"download the dataset's files and pass --data-dir DIR"
        ) from None
    split = next(iter(loaded.values()))
    return [dict(row) for row in split], f"hub {hub_id}/{name}"


def check_columns(rows: list[dict], required: tuple[str, ...], what: str) -> None:
    if not rows:
        raise BenchmarkError(f"{what} holds no rows")
    for i, row in enumerate(rows):
        missing = [c for c in required if row.get(c) is None]
        if missing:
            raise BenchmarkError(
                f"{what} row {i}: missing column {missing[0]!r} (it has: "
                f"{', '.join(sorted(row))}); expected {', '.join(required)}"
            )


def _perturbed_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise BenchmarkError(f"{where}: 'perturbed_answer' must be a list of strings")


def _pairs(
    split: str,
    rows: list[dict],
    *,
    perturbed: bool,
    paraphrase_is_answer: bool = False,
    spans: bool = False,
    stats: SpanStats | None = None,
) -> list[QAPair]:
    pairs = []
    for i, row in enumerate(rows):
        pid = f"{split}-{i}"
        question, answer = str(row["question"]), str(row["answer"])
        para = row.get("paraphrased_answer") if perturbed else None
        if para is None and paraphrase_is_answer and perturbed:
            para = answer
        pert = (
            _perturbed_list(row["perturbed_answer"], f"{split} row {i}")
            if perturbed and row.get("perturbed_answer") is not None
            else None
        )
        pair_spans = tofu_spans(question, answer, para, pert, stats) if spans else None
        if stats is not None:
            stats.pairs += 1
            stats.with_spans += pair_spans is not None
            stats.unknown += pair_spans is None
        pairs.append(
            QAPair(
                id=pid,
                question=question,
                answer=answer,
                paraphrased_answer=para,
                perturbed_answers=pert,
                spans=pair_spans,
            )
        )
    return pairs


def load_splits(data_dir: str | Path | None) -> tuple[dict[str, list[QAPair]], dict, dict]:
    """Every TOFU split we use, converted: ``(splits, sources, span stats)``."""
    splits: dict[str, list[QAPair]] = {}
    sources: dict[str, str] = {}
    stats: dict[str, SpanStats] = {}
    for forget, retain in FORGET_RETAIN.items():
        found = read_config(f"{forget}_perturbed", data_dir, required=_PERTURBED, optional=True)
        if found is not None:
            stats[forget] = SpanStats()
            splits[forget] = _pairs(
                forget, found[0], perturbed=True, spans=True, stats=stats[forget]
            )
        else:
            found = read_config(forget, data_dir, required=_QA, optional=True)
            if found is not None:
                warnings.warn(
                    f"TOFU {forget}: no {forget}_perturbed file, so no paraphrased or "
                    "perturbed answers: no truth ratio and no derived spans",
                    stacklevel=2,
                )
                stats[forget] = SpanStats()
                splits[forget] = _pairs(forget, found[0], perturbed=False, stats=stats[forget])
        if found is not None:
            sources[forget] = found[1]
        found_r = read_config(retain, data_dir, required=_QA, optional=True)
        if found_r is not None:
            splits[retain] = _pairs(retain, found_r[0], perturbed=False)
            sources[retain] = found_r[1]
    if not any(f in splits and r in splits for f, r in FORGET_RETAIN.items()):
        raise BenchmarkError(
            f"no forget split with its retain split in {data_dir or HUB_ID} "
            f"(need e.g. forget10_perturbed.json and retain90.json)"
        )
    rows, sources[RETAIN_EVAL] = read_config(RETAIN_EVAL, data_dir, required=_PERTURBED)
    splits[RETAIN_EVAL] = _pairs(RETAIN_EVAL, rows, perturbed=True)
    for name in GENERAL:
        found = read_config(
            f"{name}_perturbed", data_dir, required=_GENERAL_PERTURBED, optional=True
        )
        perturbed = found is not None
        if found is None:
            found = read_config(name, data_dir, required=_QA, optional=True)
        if found is not None:
            splits[name] = _pairs(name, found[0], perturbed=perturbed, paraphrase_is_answer=True)
            sources[name] = found[1]
    return splits, sources, stats


# --------------------------------------------------------------------------------------------
# The benchmark directory
# --------------------------------------------------------------------------------------------


def file_signature(path: Path) -> list:
    """What a converted benchmark's directory name hashes for an input file: a changed file
    gets a new directory."""
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


def dir_signature(root: Path) -> list:
    """:func:`file_signature` of every data file under ``root`` (``--data-dir``)."""
    if not root.is_dir():
        raise BenchmarkError(f"--data-dir {root} is not a directory")
    return [
        file_signature(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".json", ".jsonl", ".parquet")
    ]


def _is_hub_id(name: str) -> bool:
    return not (name.startswith((".", "/", "~")) or Path(name).expanduser().exists())


def check_split(split: str | None) -> str:
    split = split or "forget10"
    if split not in FORGET_RETAIN:
        raise BenchmarkError(
            f"unknown TOFU split {split!r}; choose from {', '.join(FORGET_RETAIN)}"
        )
    return split


def tofu_dir(options: TofuOptions, root: Path | None = None) -> Path:
    """``<root>/tofu`` for the hub with nothing else given, else ``<root>/tofu-<hash>``."""
    key: dict[str, Any] = {}
    if options.data_dir:
        key["data"] = dir_signature(Path(options.data_dir).expanduser())
    if options.spans:
        span_path = Path(options.spans).expanduser()
        if not span_path.is_file():
            raise BenchmarkError(f"--spans {options.spans}: file not found")
        key["spans"] = file_signature(span_path)
    if options.retain_model or options.retain_logs:
        split = check_split(options.split)
        if options.retain_logs:
            logs = Path(options.retain_logs).expanduser()
            if not logs.is_file():
                raise BenchmarkError(f"--retain-logs {options.retain_logs}: file not found")
            key["retain"] = [split, "logs", file_signature(logs)]
        elif options.retain_model:
            model = options.retain_model
            key["retain"] = [
                split,
                "model",
                model if _is_hub_id(model) else str(Path(model).expanduser().resolve()),
            ]
    base = root or benchmarks_dir()
    if not key:
        return base / "tofu"
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    return base / f"tofu-{digest}"


def _resolve_retain_model(model: str) -> str:
    """A local directory for the retain model: the path itself, or a hub snapshot."""
    if not _is_hub_id(model):
        path = Path(model).expanduser()
        if not path.is_dir():
            raise BenchmarkError(f"--retain-model {model} does not exist")
        return str(path.resolve())
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(
            model,
            allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"],
        )
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchmarkError(f"could not download the retain model {model} ({first})") from None


@dataclass(frozen=True)
class _LogsReference:
    """A retain model known only by its forget truth ratios (``--retain-logs``), no weights."""

    split: str  # the forget split the ratios are of
    retain_split: str
    logs: Path
    reference: dict  # as :func:`atwu.evaluate.reference.retain_reference` caches it


def prepare_tofu(out: Path, options: TofuOptions, *, overwrite: bool = False) -> Path:
    """Convert TOFU into ``out`` (see the module docstring); returns ``out``."""
    # Imported here: --retain-logs goes through the evaluation's truth ratios (and torch), which
    # reading TOFU's rows does not need.
    from atwu.interop.open_unlearning import install_retain_reference, retain_reference_from_logs

    splits, sources, stats = load_splits(options.data_dir)
    if options.spans:
        splits = apply_span_overrides(splits, options.spans, stats)
    for name, st in stats.items():
        if st.overridden:  # recount after the user's spans
            st.with_spans = sum(p.spans is not None for p in splits[name])
            st.unknown = len(splits[name]) - st.with_spans
        elif name in splits and splits[name][0].perturbed_answers is not None:
            warn_unknown(f"TOFU {name}", st.unknown, st.pairs, "TOFU")

    models: dict[str, str] = {}
    imported: _LogsReference | None = None
    if options.retain_model or options.retain_logs:
        split = check_split(options.split)
        if split not in splits:
            raise BenchmarkError(f"TOFU split {split!r} is not in {options.data_dir or HUB_ID}")
        retain_name = FORGET_RETAIN[split]
        if options.retain_logs:
            imported = _LogsReference(
                split,
                retain_name,
                Path(options.retain_logs).expanduser().resolve(),
                retain_reference_from_logs(options.retain_logs, splits[split], split),
            )
            models[retain_name] = f"models/{retain_name}"
        elif options.retain_model:
            models[retain_name] = _resolve_retain_model(options.retain_model)

    # Unlearning never trains on the pairs utility is measured on (METHOD.md §3.1): each retain
    # split loses the questions of retain_perturbed, which is its held-out part.
    retain_sets = {}
    for retain_name in FORGET_RETAIN.values():
        if retain_name in splits and RETAIN_EVAL in splits:
            splits[f"{retain_name}_train"] = without_questions(
                splits[retain_name], splits[RETAIN_EVAL]
            )
            retain_sets[retain_name] = {"train": f"{retain_name}_train", "heldout": RETAIN_EVAL}
    print(f"[tofu] converting {options.data_dir or HUB_ID} into {out}", file=sys.stderr)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        split_meta = write_splits(tmp, splits)
        if imported is not None:
            placeholder = tmp / "models" / imported.retain_split
            placeholder.mkdir(parents=True)
            (placeholder / "RETAIN_LOGS.txt").write_text(
                "No weights: this retain model's forget truth ratios were imported from\n"
                f"{imported.logs}\n"
                "(eval_cache/retain_reference_*.json).\n",
                encoding="utf-8",
            )
        general = [g for g in GENERAL if g in splits]
        manifest = {
            "format_version": FORMAT_VERSION,
            "kind": "tofu",
            "name": out.name,
            "splits": split_meta,
            "forget_splits": {
                f: r for f, r in FORGET_RETAIN.items() if f in splits and r in splits
            },
            "default_forget_split": "forget10"
            if "forget10" in splits
            else next(f for f in FORGET_RETAIN if f in splits),
            "retain_sets": retain_sets,
            "utility_splits": general,
            "option_prob_splits": general,
            "models": models,
            "source": {"hub_id": HUB_ID, "data_dir": options.data_dir, "files": sources},
            "span_rule": {
                "rule": "tofu-perturbation-diff",
                "doc": "docs/REAL_BENCHMARKS.md",
                "user_spans": options.spans,
                "stats": {k: v.to_json() for k, v in stats.items()},
            },
            "options": asdict(options),
        }
        atomic_write_json(tmp / "manifest.json", manifest)
    if imported is not None:
        install_retain_reference(Benchmark.load(out), imported.split, imported.reference)
    return out


def ensure_tofu(options: TofuOptions, root: Path | None = None) -> Path:
    """The converted benchmark directory for ``options``, converting on first use."""
    if options.retain_model and options.retain_logs:
        raise BenchmarkError("give either --retain-model or --retain-logs, not both")
    check_split(options.split)
    out = tofu_dir(options, root)
    manifest = read_json(out / "manifest.json") if (out / "manifest.json").is_file() else {}
    if manifest.get("kind") == "tofu" and manifest.get("format_version") == FORMAT_VERSION:
        return out
    try:
        # a conversion by an earlier version is replaced (it is a cache of the dataset)
        return prepare_tofu(out, options, overwrite=bool(manifest))
    except FileExistsError:
        if (out / "manifest.json").is_file():  # another process converted it meanwhile
            return out
        raise
