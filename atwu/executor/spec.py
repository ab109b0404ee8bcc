"""What an executor is given (a :class:`RunSpec`: a configuration and where its run goes) and what it
gives back (a :class:`RunOutcome` per run)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from atwu.config import RunConfig
from atwu.io import clean_for_json

# fields that name or group a run without changing what it computes
VOLATILE_FIELDS = ("name", "sweep_id")

OutcomeState = Literal["done", "failed", "cancelled", "skipped"]


def config_identity(config: RunConfig) -> str:
    """A stable hash of what ``config`` computes: its JSON without :data:`VOLATILE_FIELDS`, with
    the method's parameters resolved to their typed values and defaults (``lr=0.10`` and ``lr=0.1``
    are one run; a changed default is another). Raises the method's error for an unknown method
    or parameter."""
    from atwu.methods.registry import build_params, get_method  # imports torch

    data = config.to_json()
    for key in VOLATILE_FIELDS:
        data.pop(key, None)
    data["params"] = dataclasses.asdict(build_params(get_method(config.method), config.params))
    text = json.dumps(clean_for_json(data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RunSpec:
    """One run to execute: exactly what ``python -m atwu run --out OUT`` would do with ``config``.

    ``fresh``: start over even when OUT holds a finished or resumable run (``--overwrite``);
    otherwise a finished run is skipped and one with saved state is resumed.
    """

    config: RunConfig
    out: Path
    fresh: bool = False

    def __post_init__(self) -> None:
        # workers may start in another directory (another node): paths are absolute
        object.__setattr__(self, "out", Path(self.out).expanduser().absolute())

    @property
    def identity(self) -> str:
        return config_identity(self.config)


@dataclass
class RunOutcome:
    """How one run ended. ``skipped``: it had finished before; ``resumed``: it continued from a
    saved checkpoint (after an interruption, or a retry after its worker died)."""

    out: Path
    state: OutcomeState
    exit_code: int
    seconds: float
    message: str = ""
    resumed: bool = False
    host: str = ""
    node: str = ""  # the Ray node that ran it ("" in this process)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "skipped")

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "out": str(self.out)}
