"""``python -m atwu prepare``: the embedded benchmark, or your own files, with their tiny models."""

from __future__ import annotations

import sys
from pathlib import Path

from atwu.cli.common import fail, sigterm_as_interrupt
from atwu.data.embedded import VOCABULARIES
from atwu.io import atomic_write_json
from atwu.paths import benchmarks_dir, default_benchmark_dir
from atwu.prepare.build import PrepareOptions, prepare_custom, prepare_embedded


def cmd_prepare(args) -> int:
    """SIGTERM or Ctrl-C while it builds: the half-built hidden folder beside ``--out`` is
    removed (nothing is resumed from it: the next prepare starts over) and the exit code is 130."""
    try:
        with sigterm_as_interrupt():
            return _prepare(args)
    except KeyboardInterrupt:
        print(
            "prepare stopped: its half-built folder was removed and nothing was written; the "
            "next prepare starts over",
            file=sys.stderr,
        )
        return 130


def _prepare(args) -> int:
    retain = tuple(s.strip() for s in args.retain_splits.split(",") if s.strip())
    options = PrepareOptions(
        authors=args.authors,
        retain_splits=retain,
        seed=args.seed,
        epochs=args.epochs,
        workers=args.workers,
    )
    progress_file = Path(args.progress_file) if args.progress_file else None

    def progress(message: str, fraction: float) -> None:
        print(f"[prepare] {message}", file=sys.stderr, flush=True)
        if progress_file:
            atomic_write_json(progress_file, {"message": message, "fraction": fraction})

    benchmark = getattr(args, "benchmark", "embedded")
    if benchmark != "embedded" and (args.forget or args.retain or args.target_model):
        return fail(
            f"--benchmark {benchmark} is generated and trained here; drop "
            "--forget/--retain/--target-model (they apply to the embedded benchmark or your files)"
        )
    if args.target_model and (args.forget or args.retain):
        return fail("--target-model fine-tunes on the embedded data; drop --forget/--retain")
    if args.lr is not None and not args.target_model:
        return fail("--lr is the fine-tuning learning rate of --target-model")
    if args.target_model:
        from atwu.model_source import allow_hub, check_model_source

        if args.allow_hub:
            allow_hub()
        check_model_source(args.target_model, "--target-model")  # before anything is written
    if args.forget or args.retain:
        if not (args.forget and args.retain):
            return fail("your own data needs both --forget F.jsonl and --retain R.jsonl")
        out = Path(args.out) if args.out else benchmarks_dir() / Path(args.forget).stem
        quality = prepare_custom(
            out,
            Path(args.forget),
            Path(args.retain),
            Path(args.holdout) if args.holdout else None,
            options,
            overwrite=args.overwrite,
            progress=progress,
        )
    elif args.target_model:
        out = Path(args.out) if args.out else default_benchmark_dir()
        quality = _prepare_pretrained(args, out, options, progress)
    else:
        # benchmarks/embedded (default_benchmark_dir) or benchmarks/authors_tune, where a run's
        # --benchmark NAME finds it
        out = Path(args.out) if args.out else benchmarks_dir() / benchmark
        quality = prepare_embedded(
            out,
            options,
            overwrite=args.overwrite,
            progress=progress,
            vocab=VOCABULARIES[benchmark],
        )
    print(f"prepared {out} in {quality['prepare_seconds']:.0f} s")
    for name, entry in quality["models"].items():
        em = ", ".join(f"{k} {v:.3f}" for k, v in entry["exact_match"].items())
        print(f"  {name}: exact match {em}")
    return 0


def _prepare_pretrained(args, out: Path, options: PrepareOptions, progress) -> dict:
    """``--target-model``: the embedded data with models fine-tuned from a pretrained LM."""
    from atwu.prepare.pretrained import FinetuneConfig, prepare_pretrained

    overrides = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr)) if v is not None}
    config = FinetuneConfig(seed=args.seed, **overrides)
    return prepare_pretrained(
        out, args.target_model, options, config, overwrite=args.overwrite, progress=progress
    )
