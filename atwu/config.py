"""Run configuration: everything ``python -m atwu run`` needs, saved as the run's config.json."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

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
    record_examples: int = param(
        1000, "forget examples whose token weights are recorded (a fixed sample beyond)"
    )

    def total_steps(self, n_forget: int) -> int:
        """Optimiser steps of a run over ``n_forget`` forget examples: ``steps`` when set, else
        ``epochs`` passes of ceil(n_forget / forget_batch_size) batches. ValueError if neither
        is a positive number."""
        if self.steps is not None:
            if self.steps < 1:
                raise ValueError("--steps must be a positive integer (or use --epochs)")
            return self.steps
        if self.epochs is None or self.epochs <= 0:
            raise ValueError("--epochs must be a positive number (or use --steps)")
        per_pass = math.ceil(max(n_forget, 1) / self.forget_batch_size)
        return max(1, math.ceil(self.epochs * per_pass))


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

    @classmethod
    def from_json(cls, data: dict) -> RunConfig:
        data = dict(data)
        for key in ("schema_version", "resolved", "versions", "created_at"):
            data.pop(key, None)
        train = TrainSettings(**data.pop("train", {}))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"config.json has unknown keys: {', '.join(sorted(unknown))}")
        return cls(train=train, **data)
