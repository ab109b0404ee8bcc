"""``python -m atwu``: prepare benchmarks, run and evaluate unlearning, compare, score text.

    python -m atwu prepare                      # embedded benchmark + tiny models (~3 min, CPU)
    python -m atwu prepare --benchmark authors_tune   # the tuning benchmark (docs/TUNING.md)
    python -m atwu methods                      # every method with its parameters
    python -m atwu run --method atwu            # one run on embedded forget10
    python -m atwu sweep --method atwu --grid scorer_lr=0.05,0.2 --seeds 3
    python -m atwu eval RUN                     # (re-)evaluate a run
    python -m atwu compare RUN... --csv out.csv --latex out.tex
    python -m atwu score RUN --text "..."       # the run's learned scorer on any text
    python -m atwu list                         # runs and their states
    python -m atwu frontier --seeds 3 --out reports/frontier   # methods at matched forgetting
    python -m atwu references RUN               # uniform, static_p, oracle at RUN's settings
    python -m atwu demo --out assets/demo       # the demo runs the app ships

Bad input (a wrong option, a damaged run or benchmark file, a path that cannot be written) ends
with one clear line on stderr and exit code 2; the project's warnings are one line each. Each command lives in one module of
this package; this one builds the parser, imports a command's module only when it runs (most
load torch; ``list`` and ``--help`` need not wait for it) and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Callable

from atwu.cli.common import fail, one_line_warnings, os_error_text, sigterm_as_interrupt
from atwu.cli.executor_args import add_executor_args
from atwu.cli.run_args import add_run_args
from atwu.data.embedded import VOCABULARIES
from atwu.errors import InputError


def _command(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The handler ``atwu.cli.<module>.<name>``, imported when its command runs."""

    def run(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(f"atwu.cli.{module}"), name)(args))

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m atwu", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prepare", help="build a benchmark directory with its tiny models")
    p.add_argument(
        "--benchmark",
        choices=tuple(VOCABULARIES),
        default="embedded",
        help="the embedded benchmark (default) or authors_tune, the same generator with its own "
        "names, values, wordings and random streams: the tuning benchmark (docs/TUNING.md)",
    )
    p.add_argument("--authors", type=int, default=200)
    p.add_argument("--retain-splits", default="retain90")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: automatic)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=None)
    p.add_argument("--forget", default=None, help="your own forget pairs (JSON Lines)")
    p.add_argument("--retain", default=None, help="your own retain pairs (JSON Lines)")
    p.add_argument(
        "--holdout", default=None, help="optional holdout pairs for the auxiliary base model"
    )
    p.add_argument(
        "--target-model",
        default=None,
        help="fine-tune this pretrained model (smollm2-135m, a local directory or, with "
        "--allow-hub, a hub id) on the embedded data, TOFU's protocol, instead of training tiny "
        "models (docs/GPU.md)",
    )
    p.add_argument(
        "--allow-hub",
        action="store_true",
        help="let --target-model be a Hugging Face hub id, downloaded when not cached",
    )
    p.add_argument(
        "--lr", type=float, default=None, help="--target-model: fine-tuning learning rate"
    )
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--progress-file", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=_command("prepare_cmd", "cmd_prepare"))

    p = sub.add_parser("methods", help="list the methods and their parameters")
    p.set_defaults(func=_command("results_cmd", "cmd_methods"))

    p = sub.add_parser("run", help="run one unlearning method")
    add_run_args(p)
    p.add_argument("--config", default=None, help="rerun a run's config.json")
    p.add_argument("--out", default=None)
    p.add_argument(
        "--resume", action="store_true", help="continue an interrupted run from its last checkpoint"
    )
    p.set_defaults(func=_command("run_cmd", "cmd_run"))

    p = sub.add_parser(
        "sweep",
        help="run a grid of settings × seeds as separate runs; the same command again "
        "skips finished runs and resumes the others",
    )
    add_run_args(p)
    p.add_argument(
        "--grid", action="append", default=[], metavar="KEY=V1,V2", help="method hyperparameter"
    )
    p.add_argument("--seeds", type=int, default=1, help="seeds per setting, from --seed (0)")
    p.add_argument(
        "--sweep-id", default=None, help="name of the sweep (default: a hash of its settings)"
    )
    p.add_argument(
        "--out",
        default=None,
        help="the sweep directory: its runs and sweep.json (default $ATWU_HOME/runs/sweep-...)",
    )
    add_executor_args(p)
    p.set_defaults(func=_command("run_cmd", "cmd_sweep"))

    p = sub.add_parser("eval", help="(re-)evaluate a run")
    p.add_argument("run")
    p.set_defaults(func=_command("results_cmd", "cmd_eval"))

    p = sub.add_parser("compare", help="methods × metrics table over runs")
    p.add_argument("runs", nargs="+")
    p.add_argument("--csv", default=None)
    p.add_argument("--latex", default=None)
    p.set_defaults(func=_command("results_cmd", "cmd_compare"))

    p = sub.add_parser("score", help="apply a run's learned scorer to any text")
    p.add_argument("run")
    p.add_argument("--text", required=True)
    p.add_argument(
        "--question",
        default=None,
        help="score the text as the answer to this question (default: an empty question)",
    )
    p.set_defaults(func=_command("results_cmd", "cmd_score"))

    p = sub.add_parser(
        "export", help="a run's results as open-unlearning TOFU_EVAL.json / TOFU_SUMMARY.json"
    )
    p.add_argument("run")
    p.add_argument("--out", default=None, help="directory (default RUN/open_unlearning)")
    p.add_argument(
        "--step", type=int, default=None, help="checkpoint (default: the last evaluated)"
    )
    p.set_defaults(func=_command("results_cmd", "cmd_export"))

    p = sub.add_parser("list", help="runs and their states")
    p.add_argument("runs_dir", nargs="?")
    p.set_defaults(func=_command("results_cmd", "cmd_list"))

    p = sub.add_parser(
        "references",
        help="run the references a comparison with a run needs (uniform, static_p, the oracle) "
        "at its settings, those missing only, one after another",
    )
    p.add_argument(
        "run", nargs="?", default=None, help="the run directory (else: the settings given)"
    )
    add_run_args(p)
    p.add_argument("--runs-dir", default=None, help="where the references go (default: beside RUN)")
    p.add_argument("--for-run", default=None, help="the name of the run they are for")
    p.add_argument(
        "--lanes",
        type=int,
        default=1,
        help="queues side by side: the second starts once the run they serve stops training",
    )
    p.add_argument("--lane", nargs="+", default=None, help=argparse.SUPPRESS)
    add_executor_args(p)
    p.set_defaults(func=_command("references_cmd", "cmd_references"))

    p = sub.add_parser("demo", help="build the small demo runs the app ships (assets/demo)")
    p.add_argument("--out", default="assets/demo")
    p.add_argument("--authors", type=int, default=40)
    p.add_argument("--work", default=None, help="keep the benchmark and full runs here (resumable)")
    add_executor_args(p)
    p.set_defaults(func=_command("reports_cmd", "cmd_demo"))

    p = sub.add_parser(
        "frontier",
        help="trade-off frontiers at matched forgetting: variants × strengths × seeds, then the "
        "analysis of METHOD.md §4.6 (the same command again resumes)",
    )
    add_run_args(p, for_variants=True)
    p.add_argument(
        "--variants",
        default="atwu,uniform,oracle,specific_oracle,shuffled_oracle,template_only,static_p,"
        "threshold,wga_b5,satimp,tnpo,npo,etw,tokenunlearn,tokenunlearn_hard",
        help="comma-separated variants, or 'all' (see atwu/analysis/variants.py)",
    )
    p.add_argument(
        "--strengths",
        # variants.STRENGTHS as text (importing it here would load torch for every command)
        default="0.125,0.25,0.5,1,2,4",
        help="multiples of each variant's default strength (γ/α; GA: lr; RMU: c); every variant "
        "runs the same grid (METHOD.md §4.6)",
    )
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out", required=True, help="directory for the runs and the analysis")
    p.add_argument(
        "--analyse-only",
        action="store_true",
        help="only (re)write the analysis from the runs already under OUT/runs",
    )
    add_executor_args(p)
    p.set_defaults(func=_command("frontier_cmd", "cmd_frontier"))

    p = sub.add_parser(
        "reproduce",
        help="the report that checks the abstract's claims at matched forgetting (resumable: "
        "the same command again continues where it stopped)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="forget10 only: 12 variants (ATWU, the gate references, the free and 2026 "
        "heuristics, WGA β=5, NPO) × 3 strengths instead of the full grid; say --seeds",
    )
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument(
        "--variants",
        default=None,
        help="only these variants on forget10 (comma-separated; the report names them): the "
        "full report's every-variant sweep takes hours on a CPU",
    )
    p.add_argument("--out", required=True)
    add_executor_args(p)
    p.set_defaults(func=_command("reports_cmd", "cmd_reproduce"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # SIGTERM (the app's Cancel, `kill`, a scheduler's limit) stops a command as Ctrl-C
        # does: runs in flight write "cancelled", half-built folders are removed
        with warnings.catch_warnings(), sigterm_as_interrupt():
            warnings.showwarning = one_line_warnings(warnings.showwarning)
            return int(args.func(args))
    except InputError as exc:
        return fail(str(exc))
    except OSError as exc:  # a path that is missing, a file where a folder must be, no space...
        return fail(os_error_text(exc))
    except ValueError as exc:
        # a plain ValueError is a library's "bad value" with a readable message; its subclasses
        # (e.g. from pandas or pyarrow) are bugs and keep their traceback
        if type(exc) is ValueError:
            return fail(str(exc))
        raise
    except KeyboardInterrupt:
        if hasattr(args, "executor"):  # sweep, frontier, reproduce, demo
            print(
                "stopped: the runs in flight were cancelled (each says so in its status); the "
                "same command again skips the finished runs and resumes the others from their "
                "last checkpoint",
                file=sys.stderr,
            )
        return 130
