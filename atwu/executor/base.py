"""The one way to carry out many runs: an :class:`Executor` takes run specifications and gives back
their outcomes, one after another in this process (``local``) or as Ray tasks on this machine or a
cluster (``ray``).

    with make_executor() as executor:                 # Ray when it is installed
        outcomes = executor.run(specs, on_outcome=print)

An executor stays started across ``run`` calls (until the ``with`` block ends), so a caller that needs some runs done before
others (``reproduce`` runs the first run of each split alone to fill the evaluation cache) calls
``run`` twice inside one ``with`` block.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Literal

from atwu.errors import InputError
from atwu.executor.one_run import finished_before, skipped
from atwu.executor.spec import RunOutcome, RunSpec

ExecutorKind = Literal["ray", "local"]
KINDS: tuple[ExecutorKind, ...] = ("ray", "local")
OnOutcome = Callable[[RunOutcome], None]


class Executor(ABC):
    """Carries out run specifications; see :func:`atwu.executor.one_run.run_one` for what one
    run does (skip finished, resume interrupted, else start)."""

    kind: ExecutorKind

    def start(self) -> None:
        """Acquire what the backend needs (nothing for the local one); ``run`` starts it when
        it has runs to carry out, a caller may start it earlier to see its errors first."""
        return None

    def close(self) -> None:
        """Release it."""
        return None

    def run(
        self, specs: Sequence[RunSpec], *, on_outcome: OnOutcome | None = None
    ) -> list[RunOutcome]:
        """Carry out ``specs``; ``on_outcome`` is called in this thread as each run ends. Returns
        the outcomes in the order of ``specs``. Runs found finished are skipped here, without
        starting anything. On Ctrl-C the runs in progress are cancelled (each writes
        "cancelled" and reports it) and KeyboardInterrupt propagates."""
        outcomes: dict[int, RunOutcome] = {}
        rest = []
        for i, spec in enumerate(specs):
            if finished_before(spec):
                outcomes[i] = skipped(spec)
                if on_outcome:
                    on_outcome(outcomes[i])
            else:
                rest.append(i)
        if rest:
            self.start()
            done = self._execute([specs[i] for i in rest], on_outcome)
            outcomes.update(zip(rest, done))
        return [outcomes[i] for i in range(len(specs))]

    @abstractmethod
    def _execute(self, specs: Sequence[RunSpec], on_outcome: OnOutcome | None) -> list[RunOutcome]:
        """Carry out every spec (the backend's part of :meth:`run`), outcomes in their order."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def make_executor(
    kind: str | None = None,
    *,
    max_concurrent: int | None = None,
    ray_address: str | None = None,
    max_retries: int = 2,
) -> Executor:
    """The executor of ``kind`` (default: ``ray`` when it is installed, else ``local``).

    Checks its arguments (and that a given Ray address answers) before anything is written;
    bad ones raise :class:`InputError`.
    """
    if kind is None:
        kind = "ray" if ray_installed() else "local"
    if kind not in KINDS:
        raise InputError(f"unknown executor {kind!r}; choose from {', '.join(KINDS)}")
    if max_concurrent is not None and max_concurrent < 1:
        raise InputError(f"--max-concurrent must be a positive integer, got {max_concurrent}")
    if max_retries < 0:
        raise InputError(f"max_retries must be 0 or more, got {max_retries}")
    if kind == "local":
        if ray_address:
            raise InputError("--ray-address needs --executor ray")
        from atwu.executor.local import LocalExecutor

        return LocalExecutor()
    if not ray_installed():
        raise InputError(
            "ray is not installed: `pip install -r requirements.txt`, or use --executor local"
        )
    from atwu.executor.ray_backend import RayExecutor

    return RayExecutor(address=ray_address, max_concurrent=max_concurrent, max_retries=max_retries)
