"""Run configuration: everything ``python -m atwu run`` needs, saved as the run's config.json."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from atwu.errors import InputError
from atwu.params import param

EMBEDDED = "embedded"
DEFAULT_EPOCHS = 12.0
CHECKPOINTS_PER_RUN = 6


@dataclass
class TrainSettings:
    # Run length is counted in passes over the forget split, as open-unlearning does: a fixed step
    # count over-trains small forget sets (150 steps are 12 passes over the 200 pairs of forget10
    # but 40 passes over 60 pairs, and ATWU's alignment decays once whole answers are wrecked;
    # see docs/TUNING.md).
    epochs: float | None = param(
        DEFAULT_EPOCHS,
        "passes over the forget split (the default run "
        "length; 12 passes are 156 steps on forget10)",
    )
    steps: int | None = param(
        None, "optimiser steps instead of epochs (when set, epochs is ignored)"
    )
    forget_batch_size: int = param(16, "forget examples per step")
    retain_batch_size: int = param(16, "retain examples per step")
    lr: float = param(5e-4, "AdamW learning rate of the model")
    weight_decay: float = param(0.0, "AdamW weight decay")
    warmup_steps: int = param(0, "linear learning-rate warm-up steps")
    schedule: str = param(
        "constant_with_warmup", "learning-rate schedule (transformers get_scheduler name)"
    )
    max_grad_norm: float = param(1.0, "gradient clipping norm (0 disables)")
    checkpoint_every: int | None = param(
        None,
        "record weights, evaluate and save resumable state every K steps (None: `checkpoints` "
        "checkpoints after step 0, every ceil(steps/checkpoints) steps)",
    )
    checkpoints: int = param(
        CHECKPOINTS_PER_RUN,
        "checkpoints per run when checkpoint_every is None (frontier runs use 12, so that "
        "matched-forgetting levels fall between close checkpoints)",
    )
    early_checkpoints: int = param(
        0,
        "extra checkpoints spread evenly over the first quarter of the run (frontier runs use "
        "6, so that a run crossing FFE 0.5 early is still read between close checkpoints)",
    )
    record_examples: int = param(
        1000, "forget examples whose token weights are recorded (a fixed sample beyond)"
    )

    def total_steps(self, n_forget: int) -> int:
        """Optimiser steps of a run over ``n_forget`` forget examples: ``steps`` when set, else
        ``epochs`` passes of ceil(n_forget / forget_batch_size) batches. ValueError if neither
        is a positive number (or the run would be absurdly long)."""
        if self.steps is not None:
            if not _is_int(self.steps) or self.steps < 1:
                raise ValueError("--steps must be a positive integer (or use --epochs)")
            if self.steps > MAX_STEPS:
                raise ValueError(f"--steps must be at most {MAX_STEPS:,}, got {self.steps:,}")
            return self.steps
        epochs = self.epochs
        if not isinstance(epochs, (int, float)) or not math.isfinite(epochs) or epochs <= 0:
            raise ValueError("--epochs must be a finite positive number (or use --steps)")
        per_pass = math.ceil(max(n_forget, 1) / self.forget_batch_size)
        total = math.ceil(epochs * per_pass)
        if total > MAX_STEPS:
            raise ValueError(f"--epochs {epochs:g} makes {total:,} steps, more than {MAX_STEPS:,}")
        return max(1, total)

    def check(self) -> None:
        """Every setting of the right type and in its range (finite numbers included), so that
        a bad value is refused before anything is written; InputError naming the option."""
        for name, low, high, option in _TRAIN_INTS:
            value = getattr(self, name)
            if value is None and name in ("steps", "checkpoint_every"):
                continue
            _check_int(value, option, low, high)
        if self.epochs is not None:
            _check_number(self.epochs, "--epochs", low=0.0, low_open=True)
        _check_number(self.lr, "--lr", low=0.0, low_open=True)
        _check_number(self.weight_decay, "train.weight_decay", low=0.0)
        _check_number(self.max_grad_norm, "train.max_grad_norm", low=0.0)
        if not isinstance(self.schedule, str) or not self.schedule:
            raise InputError(f"train.schedule must be a scheduler name, got {self.schedule!r}")


@dataclass
class RunConfig:
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    benchmark: str = EMBEDDED
    split: str | None = None
    model: str | None = None  # None: the benchmark's target model
    aux_model: str | None = None  # None: the benchmark's base model (method aux)
    train: TrainSettings = field(default_factory=TrainSettings)
    seed: int = 0
    device: str = "auto"
    threads: int | None = (
        None  # None: 1 for tiny models on CPU (faster here), torch default otherwise
    )
    evaluate: bool = True
    quick: bool = False  # evaluate fully only at step 0 and the final checkpoint
    save_model: bool | None = None  # None: save when the model has < 100M parameters
    trust_remote_code: bool = False
    # Real benchmarks (tofu, rwku): data_dir, spans, retain_model, retain_logs, targets,
    # rwku_retain, rwku_corpus (see atwu.data.tofu / atwu.data.rwku).
    benchmark_options: dict[str, Any] = field(default_factory=dict)
    dtype: str | None = None  # None: float32; or bfloat16 / float16 (weights as loaded)
    lora: dict[str, Any] | None = None  # None: full fine-tuning; else LoRA options (atwu.models)
    gradient_checkpointing: bool = False
    name: str | None = None
    sweep_id: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def check(self) -> None:
        """Types and ranges of every setting (the method's parameters are the registry's);
        InputError naming the option. Called before anything is written."""
        if not isinstance(self.method, str) or not self.method:
            raise InputError("--method is required (see `python -m atwu methods`)")
        _check_int(self.seed, "--seed", 0, MAX_SEED)
        if self.threads is not None:
            _check_int(self.threads, "threads", 1, 1024)
        for name in ("params", "benchmark_options", "tags"):
            if not isinstance(getattr(self, name), dict):
                raise InputError(f"config {name} must be an object")
        for name in ("evaluate", "quick", "trust_remote_code", "gradient_checkpointing"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"config {name} must be true or false")
        if self.lora is not None:
            if not isinstance(self.lora, dict):
                raise InputError("config lora must be an object or null")
            if "r" in self.lora:
                _check_int(self.lora["r"], "--lora-r", 1, 65_536)
            if "alpha" in self.lora:
                _check_number(self.lora["alpha"], "--lora-alpha", low=0.0, low_open=True)
            if "dropout" in self.lora:
                _check_number(self.lora["dropout"], "--lora-dropout", low=0.0, high=1.0)
                if self.lora["dropout"] >= 1:
                    raise InputError("--lora-dropout must be below 1")
        self.train.check()

    @classmethod
    def from_json(cls, data: dict) -> RunConfig:
        """A configuration from a config.json; InputError for one that is not (not an
        object, unknown keys, a training setting that is no setting)."""
        if not isinstance(data, dict):
            raise InputError("a run configuration must be a JSON object")
        data = dict(data)
        for key in ("schema_version", "resolved", "versions", "created_at"):
            data.pop(key, None)
        train_data = data.pop("train", {})
        if not isinstance(train_data, dict):
            raise InputError("config.json: train must be an object")
        train_known = {f.name for f in dataclasses.fields(TrainSettings)}
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        unknown |= {f"train.{k}" for k in set(train_data) - train_known}
        if unknown:
            raise InputError(f"config.json has unknown keys: {', '.join(sorted(unknown))}")
        if "method" not in data:
            raise InputError("config.json names no method")
        return cls(train=TrainSettings(**train_data), **data)


MAX_STEPS = 10_000_000
"""Longer runs are typing mistakes (a million steps of a 1B model are weeks)."""
MAX_SEED = 2**32 - 1
"""NumPy's seeds end there."""

_TRAIN_INTS = (
    ("steps", 1, MAX_STEPS, "--steps"),
    ("forget_batch_size", 1, 1_000_000, "train.forget_batch_size"),
    ("retain_batch_size", 1, 1_000_000, "train.retain_batch_size"),
    ("warmup_steps", 0, MAX_STEPS, "train.warmup_steps"),
    ("checkpoint_every", 1, MAX_STEPS, "--checkpoint-every"),
    ("checkpoints", 1, 100_000, "--checkpoints"),
    ("early_checkpoints", 0, 100_000, "early_checkpoints"),
    ("record_examples", 0, 10_000_000, "train.record_examples"),
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(value: Any, option: str, low: int, high: int) -> None:
    if not _is_int(value):
        raise InputError(f"{option} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise InputError(f"{option} must be between {low:,} and {high:,}, got {value:,}")


def _check_number(
    value: Any,
    option: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> None:
    """A finite number within [low, high] (``low_open``: above ``low``)."""
    if not _is_number(value) or not math.isfinite(value):
        raise InputError(f"{option} must be a finite number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        bound = "above" if low_open else "at least"
        raise InputError(f"{option} must be {bound} {low:g}, got {value!r}")
    if high is not None and value > high:
        raise InputError(f"{option} must be at most {high:g}, got {value!r}")
