"""Server time of the Token scores page for a large run: 400 examples × 10 checkpoints.

    .venv/bin/python scripts/perf/token_page.py            # prints a small table
    .venv/bin/python scripts/perf/token_page.py --json /tmp/token_page.json

It fabricates a run directory with the real writers and columns (weights.parquet through
``atwu.runs.write_weights``, eval_examples.parquet through ``atwu.evaluate.checkpoint.
write_examples``, eval.jsonl with the stable keys) and times two things:

1. the page's data functions and HTML/figure building called directly (what the page does on a
   first visit of the run, caches empty, and on a step change);
2. ``AppTest.from_file("app.py")`` on the Token scores page with that run, minus a baseline
   run of the same AppTest on the Home page (imports and the sidebar are paid by both).

The target is ≤ 1 s of server time per view.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
from streamlit.testing.v1 import AppTest

from atwu.app.token_view import (
    at_step,
    example_table,
    example_tokens,
    generations,
    recorded_steps,
    scores_csv,
    threshold_stats,
    weight_bounds,
)
from atwu.evaluate.checkpoint import STABLE_KEYS, write_examples
from atwu.io import atomic_write_json, write_jsonl
from atwu.runs.layout import TRAIN_LOG, WEIGHT_COLUMNS
from atwu.runs.read import examples_by_id, read_eval_examples, read_weights
from atwu.runs.write import write_weights
from atwu.viz.overview import overview_matrix
from atwu.viz.tokens import compare_html, example_page_html

ROOT = Path(__file__).resolve().parents[2]  # the checkout (app.py)

WORDS = (
    "the",
    "author",
    "was",
    "born",
    "in",
    "Lima",
    "on",
    "August",
    "13",
    "1953",
    "and",
    "wrote",
    "novels",
    "about",
    "rivers",
    "her",
    "father",
    "worked",
    "as",
    "a",
    "fisherman",
)


def fabricate(root: Path, *, examples: int, checkpoints: int, tokens: int, seed: int = 0) -> Path:
    """A finished atwu run directory of the given size under ``root/big-run``."""
    rng = np.random.default_rng(seed)
    run = root / "big-run"
    run.mkdir(parents=True)
    steps = [i * 25 for i in range(checkpoints)]
    atomic_write_json(
        run / "config.json",
        {
            "method": "atwu",
            "params": {},
            "benchmark": "embedded",
            "split": None,
            "seed": 0,
            "train": {"steps": steps[-1], "checkpoint_every": 25},
            "schema_version": 1,
            "resolved": {
                "benchmark": str(root / "nowhere"),
                "split": "forget10",
                "device": "cpu",
                "total_steps": steps[-1],
            },
        },
    )
    atomic_write_json(
        run / "status.json",
        {
            "state": "done",
            "message": "finished",
            "pid": 1,
            "started_at": "2026-01-01T00:00:00+00:00",
            "ended_at": "2026-01-01T00:10:00+00:00",
            "heartbeat_at": "2026-01-01T00:10:00+00:00",
            "step": steps[-1],
            "total_steps": steps[-1],
        },
    )
    ids = [f"a{e // 10:04d}_q{e % 10}" for e in range(examples)]
    answers, labels, kinds = {}, {}, {}
    for ex in ids:
        toks = [" " + WORDS[i] for i in rng.integers(0, len(WORDS), size=tokens)]
        answers[ex] = toks
        lab = rng.choice([-1, 0, 1], size=tokens, p=[0.15, 0.55, 0.30])
        labels[ex] = lab
        kinds[ex] = [
            ("specific" if rng.random() < 0.6 else "shared")
            if v == 1
            else ("context" if v == -1 else None)
            for v in lab
        ]
    write_jsonl(
        run / "examples.jsonl",
        [
            {
                "example_id": ex,
                "question": f"Question about {ex}?",
                "answer": "".join(answers[ex]),
                "spans": [],
            }
            for ex in ids
        ],
    )
    frames = []
    for k, step in enumerate(steps):
        sharp = k / max(1, checkpoints - 1)
        for ex in ids:
            lab = labels[ex]
            w = np.clip(rng.normal(0.5, 0.15, size=tokens) + sharp * 0.4 * (lab == 1), 0, 1)
            starts = np.cumsum([0] + [len(t) for t in answers[ex][:-1]])
            frames.append(
                pd.DataFrame(
                    {
                        "step": step,
                        "example_id": ex,
                        "position": np.arange(tokens),
                        "token": answers[ex],
                        "char_start": starts,
                        "char_end": starts + np.array([len(t) for t in answers[ex]]),
                        "weight": w,
                        "label": lab,
                        "span_kind": kinds[ex],
                    }
                )
            )
    write_weights(run, pd.concat(frames, ignore_index=True)[WEIGHT_COLUMNS])
    rows, records = [], []
    for step in steps:
        split_rows = pd.DataFrame(
            {
                "step": step,
                "split": "forget10",
                "example_id": ids,
                "prob": rng.random(examples),
                "truth_ratio": rng.lognormal(0, 1, examples),
                "rouge": rng.random(examples),
                "forget_loss": rng.gamma(2, 1, examples),
                "generated": ["".join(answers[ex][: tokens // 2]) for ex in ids],
                "auroc": rng.random(examples),
            }
        )
        retain_rows = split_rows.assign(split="retain90_heldout", auroc=np.nan)
        rows += [split_rows, retain_rows]
        record = {key: float(rng.random()) for key in STABLE_KEYS}
        record.update(step=step, notes={}, seconds=1.0)
        records.append(record)
    write_examples(run / "eval_examples.parquet", rows)
    write_jsonl(run / "eval.jsonl", records)
    write_jsonl(
        run / TRAIN_LOG,
        [
            {"step": s, "loss": float(rng.random()), "lr": 5e-4, "seconds": 0.1}
            for s in range(1, steps[-1] + 1)
        ],
    )
    return run


def time_functions(run: Path, repeat: int) -> dict[str, float]:
    """What the page computes per view, called directly: a first visit of the run (nothing
    cached), a step change (the run's table of weights already in memory), and a step change in
    compare mode with four more runs stacked. The exports (CSV, standalone HTML) are built only
    when their button is clicked, so they are timed apart."""

    def view(step: int | None, weights: pd.DataFrame | None, n_rows: int = 1) -> float:
        t0 = time.perf_counter()
        if weights is None:
            weights = read_weights(run)  # the page keeps this as a cached resource
        steps = recorded_steps(weights)
        step = steps[-1] if step is None else step
        at = at_step(weights, step).reset_index(drop=True)
        ev = read_eval_examples(run)
        examples = examples_by_id(run)
        table = example_table(at, ev, examples, step=step, split="forget10")
        ex = table["example_id"].iloc[0]
        tokens = example_tokens(at, ex)
        rows = [(f"run {k}", tokens) for k in range(n_rows)]
        lo, hi = weight_bounds([at])
        html = compare_html(rows, vmin=lo, vmax=hi, threshold=0.5)
        for _, frame in rows:
            threshold_stats(frame, 0.5)
        threshold_stats(at, 0.5)
        generations(ev, "forget10", ex, step)
        pio.to_json(overview_matrix(at))  # what st.plotly_chart sends
        assert html and len(table) > 0
        return time.perf_counter() - t0

    view(None, None)  # imports
    cold = [view(None, None) for _ in range(repeat)]
    weights = read_weights(run)
    steps = recorded_steps(weights)
    change = [view(steps[len(steps) // 2], weights) for _ in range(repeat)]
    compare = [view(steps[len(steps) // 2], weights, n_rows=5) for _ in range(repeat)]
    at = at_step(weights, steps[-1])
    rows = [("atwu", example_tokens(at, at["example_id"].iloc[0]))]
    t0 = time.perf_counter()
    example_page_html("q", "a", rows, "before", "after", threshold=0.5)
    scores_csv(at)
    exports = time.perf_counter() - t0
    return {
        "functions_first_visit_s": statistics.median(cold),
        "functions_step_change_s": statistics.median(change),
        "functions_step_change_compare5_s": statistics.median(compare),
        "exports_on_click_s": exports,
    }


def time_apptest(root: Path, run: Path, repeat: int) -> dict[str, float]:
    """Each repeat opens a fresh copy of the run (a new path: nothing cached for it) in a new
    AppTest session, then moves the step slider to a step not shown before."""

    def session(name: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.query_params["dir"] = str(root)
        at.query_params["run"] = name
        return at

    warm = session(run.name).run()  # pays the imports once for the whole process
    warm.switch_page("pages/token_scores.py").run()
    assert not warm.exception, [e.value for e in warm.exception]

    baseline, first, step_change = [], [], []
    for k in range(repeat):
        copy = root / f"{run.name}-copy{k}"
        shutil.copytree(run, copy)
        at = session(copy.name)
        at.run()  # Home page: imports are warm, the sidebar lists the runs
        t0 = time.perf_counter()
        at.run()
        baseline.append(time.perf_counter() - t0)
        at.switch_page("pages/token_scores.py")
        t0 = time.perf_counter()
        at.run()
        first.append(time.perf_counter() - t0)
        assert not at.exception and at.title[0].value == "Token scores"
        assert at.selectbox(key="run").value == copy.name
        steps = [int(s) for s in at.select_slider(key="step").options]
        at.select_slider(key="step").set_value(steps[1 + k % (len(steps) - 2)])
        t0 = time.perf_counter()
        at.run()
        step_change.append(time.perf_counter() - t0)
        assert not at.exception
    b = statistics.median(baseline)
    return {
        "apptest_home_baseline_s": b,
        "apptest_token_page_first_visit_s": statistics.median(first),
        "apptest_token_page_step_change_s": statistics.median(step_change),
        "token_page_first_visit_minus_baseline_s": statistics.median(first) - b,
        "token_page_step_change_minus_baseline_s": statistics.median(step_change) - b,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=400)
    parser.add_argument("--checkpoints", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=25, help="answer tokens per example")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    os.environ.setdefault("ATWU_HOME", tempfile.mkdtemp(prefix="atwu-bench-home-"))
    with tempfile.TemporaryDirectory(prefix="atwu-bench-") as tmp:
        root = Path(tmp) / "runs"
        t0 = time.perf_counter()
        run = fabricate(
            root, examples=args.examples, checkpoints=args.checkpoints, tokens=args.tokens
        )
        size = (run / "weights.parquet").stat().st_size
        results = {
            "examples": args.examples,
            "checkpoints": args.checkpoints,
            "tokens_per_example": args.tokens,
            "weight_rows": args.examples * args.checkpoints * args.tokens,
            "weights_parquet_mb": round(size / 1e6, 2),
            "fabricate_s": time.perf_counter() - t0,
        }
        results.update(time_functions(run, args.repeat))
        results.update(time_apptest(root, run, args.repeat))
    width = max(map(len, results))
    for key, value in results.items():
        print(
            f"{key:<{width}}  {value:.3f}"
            if isinstance(value, float)
            else f"{key:<{width}}  {value}"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
