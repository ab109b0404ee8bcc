"""``python -m atwu prepare``: build a benchmark directory (data, tokenizer, tiny models, quality).

The embedded benchmark is generated from a seed; a user's own forget/retain files go through the
same path. Models train in two worker processes at once (one thread each: on a ~0.5M-parameter
model one thread per process is about twice as fast as two threads in one process), and the whole
directory is built under a temporary name and renamed at the end, so a half-built benchmark is
never mistaken for a finished one.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from transformers import AutoTokenizer
from transformers.utils import logging as hf_logging

from atwu.benchmark import FORMAT_VERSION, split_heldout, write_splits
from atwu.data import companies
from atwu.data.chat import encode_pair
from atwu.data.embedded import HELDOUT_SHARE, RETAIN_OF, generate_splits
from atwu.data.format import DataFormatError, QAPair
from atwu.data.pairs_file import load_pairs, write_pairs
from atwu.data.templates import AUTHORS, Vocabulary
from atwu.data.templates_tune import AUTHORS_TUNE
from atwu.data.tokenizer import train_tokenizer
from atwu.evaluate.generation import greedy_answers
from atwu.io import atomic_directory, atomic_write_json
from atwu.models import TinyModelSpec, build_tiny_model, count_parameters
from atwu.paths import benchmarks_dir
from atwu.prepare import job_progress
from atwu.prepare.memorise import PretrainConfig, train_memoriser
from atwu.prepare.output import check_prepare_options, check_prepare_output

ProgressFn = Callable[[str, float], None]
MIN_STEPS = 1300
BATCH = 32
PROGRESS_SECONDS = 5.0
"""How often the progress callback hears about the models' epochs (and at every model's end)."""


def auto_epochs(n_pairs: int, epochs: int | None) -> int:
    if epochs is not None:
        return epochs
    steps_per_epoch = -(-n_pairs // BATCH)
    return max(20, min(60, -(-MIN_STEPS // steps_per_epoch)))


@dataclass(frozen=True)
class ModelJob:
    name: str
    train_splits: tuple[str, ...]
    eval_splits: tuple[str, ...]
    epochs: int | None
    seed: int


@dataclass
class PrepareOptions:
    authors: int = 200
    retain_splits: tuple[str, ...] = ("retain90",)
    seed: int = 0
    pairs_per_author: int = 10
    # None: enough epochs for about MIN_STEPS optimiser steps (20 at least), so small
    # benchmarks (test fixtures, a user's few pairs) memorise as well as the default one.
    epochs: int | None = None
    vocab_size: int = 1024
    workers: int = 2
    extra: dict = field(default_factory=dict)


def _tokenizer_corpus(splits: dict[str, list[QAPair]]) -> list[str]:
    texts = []
    for pairs in splits.values():
        for p in pairs:
            texts.append(p.question)
            texts.append(p.answer)
            if p.paraphrased_answer:
                texts.append(p.paraphrased_answer)
            texts.extend(p.perturbed_answers or [])
    return texts


def _train_job(root: str, job: ModelJob, position: int) -> dict:
    """Runs in a worker process: train one model, save it, answer its evaluation questions."""
    hf_logging.disable_progress_bar()
    torch.set_num_threads(1)
    start = time.time()
    root_path = Path(root)
    tok = AutoTokenizer.from_pretrained(root_path / "tokenizer")
    pairs = [p for s in job.train_splits for p in load_pairs(root_path / "data" / f"{s}.jsonl")]
    encoded = [encode_pair(tok, p.question, p.answer) for p in pairs]
    epochs = auto_epochs(len(encoded), job.epochs)
    on_step = job_progress.epoch_reporter(
        root_path, job.name, epochs=epochs, steps_per_epoch=-(-len(encoded) // BATCH)
    )
    model = build_tiny_model(
        len(tok), TinyModelSpec(), pad_id=tok.pad_token_id, eos_id=tok.eos_token_id, seed=job.seed
    )
    losses = train_memoriser(
        model,
        encoded,
        tok.pad_token_id,
        PretrainConfig(epochs=epochs, batch_size=BATCH, seed=job.seed),
        desc=job.name,
        on_step=on_step,
        position=position,
    )
    out = root_path / "models" / job.name
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(out)
    tok.save_pretrained(out)
    answers = {}
    for split in job.eval_splits:
        eval_pairs = load_pairs(root_path / "data" / f"{split}.jsonl")
        answers[split] = greedy_answers(model, tok, [p.question for p in eval_pairs])
    return {
        "name": job.name,
        "seconds": time.time() - start,
        "final_loss": losses[-1],
        "parameters": count_parameters(model),
        "answers": answers,
        "train_pairs": len(pairs),
        "epochs": epochs,
    }


def _exact_match(answers: list[str], pairs: list[QAPair]) -> float:
    return sum(a.strip() == p.answer.strip() for a, p in zip(answers, pairs)) / max(1, len(pairs))


def _specific_leak(answers: list[str], pairs: list[QAPair]) -> float:
    """Share of `specific` span texts of ``pairs`` that appear in the model's answers."""
    hits = total = 0
    for answer, pair in zip(answers, pairs):
        for span in pair.spans or []:
            if span.label == "specific":
                total += 1
                hits += pair.answer[span.start : span.end] in answer
    return hits / total if total else float("nan")


def _quality(
    results: dict[str, dict], split_pairs: dict[str, list[QAPair]], forget_pairs: dict[str, str]
) -> dict:
    quality: dict = {"models": {}}
    for name, res in results.items():
        entry = {
            k: res[k] for k in ("seconds", "final_loss", "parameters", "train_pairs", "epochs")
        }
        entry["exact_match"] = {
            s: _exact_match(a, split_pairs[s]) for s, a in res["answers"].items()
        }
        quality["models"][name] = entry
    for forget, retain in forget_pairs.items():
        if retain in results and forget in results[retain]["answers"]:
            quality["models"][retain]["specific_leak"] = {
                forget: _specific_leak(results[retain]["answers"][forget], split_pairs[forget])
            }
    return quality


def _run_jobs(root: Path, jobs: list[ModelJob], workers: int, progress: ProgressFn | None) -> dict:
    """Train ``jobs`` in ``workers`` processes; tell ``progress`` which model is at which epoch
    (every :data:`PROGRESS_SECONDS` and whenever a model is done)."""
    results: dict[str, dict] = {}
    names = [job.name for job in jobs]
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no forked torch state
    with cf.ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(jobs))), mp_context=ctx
    ) as pool:
        try:
            pending = {pool.submit(_train_job, str(root), job, i) for i, job in enumerate(jobs)}
            while pending:
                finished, pending = cf.wait(
                    pending, timeout=PROGRESS_SECONDS, return_when=cf.FIRST_COMPLETED
                )
                for fut in finished:
                    res = fut.result()
                    results[res["name"]] = res
                if progress:
                    records = job_progress.read_progress(root, names)
                    progress(*job_progress.summary(names, records, set(results)))
        except BaseException:
            _stop_workers(pool)  # else leaving the pool waits for every queued model
            raise
    shutil.rmtree(root / job_progress.PROGRESS_DIR, ignore_errors=True)
    return results


def _stop_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel the queued jobs and end the running ones (Ctrl-C, SIGTERM, a failed job): their
    models are thrown away with the half-built folder anyway."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in workers:
        with contextlib.suppress(Exception):
            process.join(timeout=10)


def _write_common(tmp: Path, splits: dict[str, list[QAPair]], vocab_size: int) -> dict:
    split_meta = write_splits(tmp, splits)
    tok = train_tokenizer(_tokenizer_corpus(splits), vocab_size=vocab_size)
    tok.save_pretrained(tmp / "tokenizer")
    return split_meta


def embedded_jobs(options: PrepareOptions) -> list[ModelJob]:
    """The models of the embedded benchmark: the target (``full``), one retain model per
    retain split, and the auxiliary ``base``."""
    jobs = [
        ModelJob(
            "full",
            ("full", "general"),
            ("forget10", "retain90", "general"),
            options.epochs,
            options.seed,
        )
    ]
    for r in sorted(options.retain_splits, key=lambda s: s != "retain90"):
        forget = next(f for f, rr in RETAIN_OF.items() if rr == r)
        jobs.append(ModelJob(r, (r, "general"), (r, forget), options.epochs, options.seed + 1))
    jobs.append(
        ModelJob("base", ("holdout", "general"), ("holdout",), options.epochs, options.seed + 2)
    )
    return jobs


def embedded_manifest(
    name: str, options: PrepareOptions, split_meta: dict, vocab: Vocabulary = AUTHORS
) -> dict:
    """The embedded benchmark's ``manifest.json`` (a pure function of the options and the
    splits written: the shipped copy's test compares it); ``kind`` names the generator's data
    set (``embedded`` or ``authors_tune``)."""
    jobs = embedded_jobs(options)
    return {
        "format_version": FORMAT_VERSION,
        "kind": vocab.name,
        "name": name,
        "seed": options.seed,
        "authors": options.authors,
        "pairs_per_author": options.pairs_per_author,
        "splits": split_meta,
        "forget_splits": {f: r for f, r in RETAIN_OF.items() if r in options.retain_splits},
        "default_forget_split": "forget10"
        if "retain90" in options.retain_splits
        else next(f for f, r in RETAIN_OF.items() if r in options.retain_splits),
        "retain_sets": {
            r: {"train": f"{r}_train", "heldout": f"{r}_heldout"} for r in options.retain_splits
        },
        "utility_splits": ["general"],
        "models": {j.name: f"models/{j.name}" for j in jobs},
        "target_model": "full",
        "aux_model": "base",
        "options": asdict(options),
    }


def embedded_data(out: Path, options: PrepareOptions, vocab: Vocabulary = AUTHORS) -> dict:
    """Write the embedded benchmark's data and tokenizer into ``out``; the splits' metadata.
    Deterministic for a seed (the shipped copy's test rebuilds it and compares bytes)."""
    splits = generate_splits(
        options.authors, options.seed, pairs_per_author=options.pairs_per_author, vocab=vocab
    )
    return _write_common(out, splits, options.vocab_size)


def prepare_embedded(
    out: Path,
    options: PrepareOptions,
    *,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    vocab: Vocabulary = AUTHORS,
) -> dict:
    """The embedded generator's benchmark (``vocab``: the embedded authors, or another data set
    of the same generator such as ``authors_tune``) with its tiny models; the quality report."""
    # refusals before the minutes of training: bad options, an output that may not be written
    check_prepare_options(options)
    check_prepare_output(out, overwrite=overwrite)
    for r in options.retain_splits:
        if r not in RETAIN_OF.values():
            raise ValueError(
                f"unknown retain split {r!r}; choose from {', '.join(RETAIN_OF.values())}"
            )
    start = time.time()
    splits = generate_splits(
        options.authors, options.seed, pairs_per_author=options.pairs_per_author, vocab=vocab
    )
    with atomic_directory(out, overwrite=overwrite) as tmp:
        if progress:
            progress("generated data", 0.0)
        split_meta = _write_common(tmp, splits, options.vocab_size)
        results = _run_jobs(tmp, embedded_jobs(options), options.workers, progress)
        quality = _quality(results, splits, dict(RETAIN_OF))
        quality["prepare_seconds"] = time.time() - start
        manifest = embedded_manifest(out.name, options, split_meta, vocab)
        atomic_write_json(tmp / "manifest.json", manifest)
        atomic_write_json(tmp / "quality.json", quality)
    return quality


def prepare_custom(
    out: Path,
    forget: Path,
    retain: Path,
    holdout: Path | None,
    options: PrepareOptions,
    *,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> dict:
    """A user's own forget/retain (and optional holdout) files, in the same layout. A pair
    without an id gets its file's name and line number (``forget-0``, ``retain-0``), so implicit
    ids never collide; ids the files give must be unique across forget and retain."""
    check_prepare_options(options)
    check_prepare_output(out, overwrite=overwrite)
    start = time.time()
    splits = {
        "forget": load_pairs(forget, implicit_id_prefix="forget-"),
        "retain": load_pairs(retain, implicit_id_prefix="retain-"),
    }
    if holdout is not None:
        splits["holdout"] = load_pairs(holdout, implicit_id_prefix="holdout-")
    # Ids must stay unique across the combined training set of the full model.
    overlap = {p.id for p in splits["forget"]} & {p.id for p in splits["retain"]}
    if overlap:
        shown = ", ".join(repr(i) for i in sorted(overlap)[:3])
        raise DataFormatError(
            str(retain),
            f"shares ids with {forget} ({shown}{', ...' if len(overlap) > 3 else ''}); ids "
            "must be unique across the forget and retain files (or leave them out: pairs "
            "without ids are numbered per file)",
            path=str(retain),
        )
    splits["full"] = splits["forget"] + splits["retain"]
    if len(splits["retain"]) < 2:
        raise DataFormatError(
            str(retain),
            "needs at least 2 pairs: a tenth of them (at least one) is held out "
            "from unlearning to measure utility on",
            path=str(retain),
        )
    # A tenth of the retain pairs (whole authors when every pair names one) that unlearning never
    # trains on: utility and collateral damage are measured there (METHOD.md §3.1).
    splits["retain_train"], splits["retain_heldout"] = split_heldout(
        splits["retain"], HELDOUT_SHARE, f"heldout:{options.seed}"
    )
    with atomic_directory(out, overwrite=overwrite) as tmp:
        split_meta = _write_common(tmp, splits, options.vocab_size)
        jobs = [
            ModelJob("full", ("full",), ("forget", "retain_heldout"), options.epochs, options.seed),
            ModelJob(
                "retain",
                ("retain",),
                ("retain_heldout", "forget"),
                options.epochs,
                options.seed + 1,
            ),
        ]
        if holdout is not None:
            jobs.append(
                ModelJob("base", ("holdout",), ("holdout",), options.epochs, options.seed + 2)
            )
        results = _run_jobs(tmp, jobs, options.workers, progress)
        manifest = {
            "format_version": FORMAT_VERSION,
            "kind": "custom",
            "name": out.name,
            "seed": options.seed,
            "splits": split_meta,
            "forget_splits": {"forget": "retain"},
            "default_forget_split": "forget",
            "retain_sets": {"retain": {"train": "retain_train", "heldout": "retain_heldout"}},
            "utility_splits": [],
            "models": {j.name: f"models/{j.name}" for j in jobs},
            "target_model": "full",
            "sources": {
                "forget": str(forget),
                "retain": str(retain),
                "holdout": str(holdout) if holdout else None,
            },
            "options": asdict(options),
        }
        if holdout is not None:
            manifest["aux_model"] = "base"
        quality = _quality(results, splits, {"forget": "retain"})
        quality["prepare_seconds"] = time.time() - start
        atomic_write_json(tmp / "manifest.json", manifest)
        atomic_write_json(tmp / "quality.json", quality)
    return quality


def ensure_authors_tune(out: Path | None = None) -> Path:
    """``authors_tune``, the embedded generator's tuning data set, with the default options
    (as ``python -m atwu prepare --benchmark authors_tune``), prepared unless ``out`` (default
    ``$ATWU_HOME/benchmarks/authors_tune``, where ``--benchmark authors_tune`` finds it) holds it."""
    out = out or benchmarks_dir() / AUTHORS_TUNE.name
    if not (out / "manifest.json").is_file():
        prepare_embedded(out, PrepareOptions(), vocab=AUTHORS_TUNE)
    return out


def prepare_companies(out: Path, n_companies: int = 60, seed: int = 0) -> dict:
    """The companies benchmark (:mod:`atwu.data.companies`): its forget/retain files are written
    beside ``out`` and prepared at ``out`` like a user's own data; returns the quality report."""
    splits = companies.generate(n_companies, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = {name: out.parent / f"{out.name}-{name}.jsonl" for name in ("forget", "retain")}
    for name, path in files.items():
        write_pairs(path, splits[name])
    return prepare_custom(out, files["forget"], files["retain"], None, PrepareOptions())
