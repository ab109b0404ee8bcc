"""Execute one run specification to the end, with evaluation: what ``python -m atwu run`` does, and
what every multi-run command (sweep, reproduce, frontier) calls once per run.

Returns the process exit code the CLI uses: 0 done, 1 diverged, 130 cancelled.
"""

from __future__ import annotations

import sys
from pathlib import Path

from atwu.config import RunConfig
from atwu.distributed import PeerLost
from atwu.train.errors import Cancelled, Diverged
from atwu.train.loop import Trainer


def evaluator_for(trainer: Trainer, tokenizer, device):
    """The checkpoint evaluator of a run (imported only when a run evaluates)."""
    from atwu.evaluate.checkpoint import CheckpointEvaluator

    return CheckpointEvaluator(
        trainer.bench,
        trainer.split,
        tokenizer,
        trainer.out,
        quick=trainer.config.quick,
        device=device,
        starting_model_path=trainer.model_path,
    )


def execute_run(
    cfg: RunConfig,
    out: Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
) -> int:
    trainer = Trainer(
        cfg,
        out,
        resume=resume,
        overwrite=overwrite,
        evaluator_factory=evaluator_for,
        progress=progress,
    )
    try:
        result = trainer.run()
    except Cancelled:
        print(f"cancelled: {out}", file=sys.stderr)
        return 130
    except (Diverged, PeerLost) as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    print(f"{result['message']}: {out}")
    return 0
