"""Check run specifications before anything is written: the same checks a run makes when it
starts, done once per distinct setting in this process, so a bad grid value ends the command at
once instead of failing every run on the workers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from atwu.errors import InputError
from atwu.executor.spec import RunSpec


def check_specs(specs: Sequence[RunSpec]) -> None:
    """Raise :class:`InputError` (or a method's error) naming the first problem: an unknown method,
    parameter or value, a missing benchmark, split or model, two specs writing one directory."""
    from atwu.methods.registry import build_params, get_method
    from atwu.train.resolve import plan_run

    seen_out: set = set()
    planned: set[str] = set()
    for spec in specs:
        if spec.out in seen_out:
            raise InputError(f"two runs would write {spec.out}")
        seen_out.add(spec.out)
        build_params(get_method(spec.config.method), spec.config.params)
        # the benchmark, split, models and run length do not depend on params or seed: plan
        # (which loads the benchmark) once per distinct rest of the configuration
        rest = {**dataclasses.asdict(spec.config), "params": None, "seed": None, "tags": None}
        key = json.dumps(rest, sort_keys=True, default=str)
        if key not in planned:
            plan_run(spec.config)
            planned.add(key)
