"""Commands that read what runs wrote: ``methods``, ``list``, ``eval``, ``compare``, ``score``, ``export``.

``list`` reads only small files and answers at once; every other command here loads torch (through
the methods, the evaluation or a model), so each imports what it needs when it runs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from atwu.csv_export import write_csv
from atwu.io import read_json
from atwu.paths import runs_dir
from atwu.runs.read import list_runs


def cmd_methods(args) -> int:
    from atwu.methods.registry import all_methods, describe

    for name, cls in sorted(all_methods().items()):
        print(f"{name}: {cls.summary}")
        for row in describe(cls):
            print(f"    {row.name} = {row.default!r}  ({row.type_name}) {row.help}")
    return 0


def cmd_eval(args) -> int:
    import torch

    from atwu.evaluate.rerun import evaluate_run
    from atwu.train.loop import TINY_MODEL_PARAMS

    try:
        params = read_json(Path(args.run) / "config.json").get("resolved", {}).get("parameters", 0)
    except (OSError, ValueError):
        params = 0
    if params and params < TINY_MODEL_PARAMS:
        torch.set_num_threads(1)  # as `run` does: one thread is faster on the tiny models
    evaluate_run(Path(args.run))
    print(f"evaluated {args.run}")
    return 0


def cmd_compare(args) -> int:
    from atwu.analysis.compare import compare_runs
    from atwu.analysis.latex import to_latex_table

    table = compare_runs([Path(r) for r in args.runs])
    with pd.option_context("display.max_columns", 50, "display.width", 200):
        cols = [c for c in table.columns if c in ("method", "config", "n") or c.endswith("_mean")]
        print(table[cols].to_string(index=False))
    if args.csv:  # text cells a spreadsheet would run as formulas are neutralised
        write_csv(args.csv, table)
    if args.latex:
        Path(args.latex).write_text(to_latex_table(table), encoding="utf-8")
    return 0


def cmd_score(args) -> int:
    from atwu.data.pairs_file import check_text_length
    from atwu.text_weights import weights_for_text

    check_text_length(args.text, "--text")
    check_text_length(args.question or "", "--question")
    rows = weights_for_text(Path(args.run), args.text, args.question or "")
    for token, score in rows:
        print(f"{token!r}\t{score:.4f}")
    return 0


def cmd_export(args) -> int:
    from atwu.interop.open_unlearning import export_run

    eval_path, summary_path = export_run(Path(args.run), args.out, step=args.step)
    print(f"wrote {eval_path} and {summary_path}")
    return 0


def cmd_list(args) -> int:
    root = Path(args.runs_dir) if args.runs_dir else runs_dir()
    runs = list_runs(root)
    if not runs:
        print(f"no runs in {root}")
    for r in runs:
        step = f"{r.status.get('step', '?')}/{r.status.get('total_steps', '?')}"
        problems = f"  [{'; '.join(r.problems)}]" if r.problems else ""
        print(f"{r.name}\t{r.method}\t{r.state}\t{step}\t{r.status.get('message', '')}{problems}")
    return 0
