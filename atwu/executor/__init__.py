"""The run executor: run specifications in, outcomes back, locally or on Ray (see :mod:`.base`)."""

from atwu.executor.base import Executor, make_executor, ray_installed
from atwu.executor.spec import RunOutcome, RunSpec, config_identity

__all__ = [
    "Executor",
    "RunOutcome",
    "RunSpec",
    "config_identity",
    "make_executor",
    "ray_installed",
]
