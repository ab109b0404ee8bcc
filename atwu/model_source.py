"""Offline by default: where a model name may come from.

A model name is a local folder, or the name of a model this project ships inside a pip package
(``atwu.models.PACKAGED_MODELS``, e.g. ``smollm2-135m``). Anything else would be looked up on the
Hugging Face hub, which is done only when the user asks for it (``--allow-hub``, or
``ATWU_ALLOW_HUB=1``): a name in a configuration file from someone else, or a typo, must not start
a download (or minutes of retries on a machine without network) and leave a failed run behind.
The check is made before a run directory exists and needs no torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from atwu.errors import InputError

if TYPE_CHECKING:
    from atwu.config import RunConfig

ALLOW_HUB_ENV = "ATWU_ALLOW_HUB"
# the names atwu.models.PACKAGED_MODELS resolves (repeated here so that this check loads no torch;
# tests/faults/test_offline_models.py checks the two agree)
PACKAGED_NAMES = ("smollm2-135m",)


def allow_hub() -> None:
    """The user asked for hub access (``--allow-hub``): for this process and the runs it starts
    (Ray workers receive the variable with the driver's environment)."""
    os.environ[ALLOW_HUB_ENV] = "1"


def hub_allowed() -> bool:
    return os.environ.get(ALLOW_HUB_ENV, "").strip().lower() in ("1", "true", "yes")


def looks_like_path(name: str) -> bool:
    """A name that can only be a folder (``./m``, ``/m``, ``~/m``, ``runs/x/model``): a hub id is
    ``name`` or ``namespace/name``."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def check_model_source(name: str, option: str) -> None:
    """Raise :class:`InputError` (one line) when ``name``, given as ``option``, would be looked
    up on the hub (neither a local folder, nor a shipped model, nor a path that is missing) and
    hub access was not asked for."""
    if Path(name).expanduser().is_dir() or name.lower() in PACKAGED_NAMES or hub_allowed():
        return
    if looks_like_path(name):
        return  # a missing folder, not a hub id: the run's own checks say so, in their order
    raise InputError(
        f"{option} {name}: not a local folder nor a model this project ships "
        f"({', '.join(PACKAGED_NAMES)}); it is not downloaded from the Hugging Face hub unless "
        "you pass --allow-hub (or give the path of a downloaded model folder)"
    )


def check_config_models(config: RunConfig) -> None:
    """:func:`check_model_source` for every model name of a run configuration (``model``,
    ``aux_model``, a real benchmark's ``retain_model``)."""
    retain = config.benchmark_options.get("retain_model")
    names = [
        ("--model", config.model),
        ("--aux-model", config.aux_model),
        ("--retain-model", retain if isinstance(retain, str) else None),
    ]
    for option, name in names:
        if name:
            check_model_source(name, option)
