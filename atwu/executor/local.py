"""The local backend: runs one after another in this process (tests, machines without Ray)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

from atwu.executor.base import Executor, OnOutcome
from atwu.executor.one_run import run_one
from atwu.executor.spec import RunOutcome, RunSpec


class LocalExecutor(Executor):
    kind = "local"

    def _execute(self, specs: Sequence[RunSpec], on_outcome: OnOutcome | None) -> list[RunOutcome]:
        outcomes = []
        for spec in specs:
            try:
                # a run's own "finished: DIR" line would repeat what on_outcome reports
                with contextlib.redirect_stdout(io.StringIO()):
                    outcome = run_one(spec)
            except KeyboardInterrupt:
                # the run wrote "cancelled" before the interrupt reached us
                if on_outcome:
                    on_outcome(RunOutcome(spec.out, "cancelled", 130, 0.0, "cancelled (Ctrl-C)"))
                raise
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
            if outcome.state == "cancelled":
                # SIGTERM reached this process (the run caught it and wrote "cancelled"): it was
                # meant for the whole command, not for one run, so the next ones do not start
                raise KeyboardInterrupt
        return outcomes
