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
        cli_help="passes over the forget split (default: 12)",
        exclusive="length",
    )
    steps: int | None = param(
        None,
        "optimiser steps instead of epochs (when set, epochs is ignored)",
        cli_help="optimiser steps instead of --epochs",
        exclusive="length",
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
        cli_help="steps between checkpoints (default: --checkpoints per run)",
    )
    checkpoints: int = param(
        CHECKPOINTS_PER_RUN,
        "checkpoints per run when checkpoint_every is None (frontier runs use 12, so that "
        "matched-forgetting levels fall between close checkpoints)",
        cli_help="checkpoints per run when --checkpoint-every is not given (default 6; "
        "frontiers 12)",
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
class BenchmarkOptions:
    """The keys of :attr:`RunConfig.benchmark_options`: the options of a real benchmark (TOFU,
    RWKU; see :mod:`atwu.data.tofu`, :mod:`atwu.data.rwku`). Declared here for their command-line
    flags; the configuration keeps them as a dict holding only those given."""

    data_dir: str | None = param(
        None,
        "local copy of the hub dataset's files (default: download locuslab/TOFU or "
        "jinzhuoran/RWKU)",
    )
    spans: str | None = param(
        None,
        "ground-truth spans ({id, spans} per line) replacing the derived ones",
        metavar="F.jsonl",
    )
    retain_model: str | None = param(None, "TOFU: retain model (path or hub id) for forget quality")
    retain_logs: str | None = param(
        None,
        "TOFU: open-unlearning eval logs of the retain model, for forget quality",
        metavar="TOFU_EVAL.json",
    )
    targets: str | None = param(None, "RWKU: target numbers, e.g. 1-10 (default 1)")
    rwku_retain: str | None = param(
        None,
        "RWKU retain data: the neighbour probes (default) or none (alpha=0)",
        choices=("neighbor", "none"),
    )
    rwku_corpus: str | None = param(
        None,
        "RWKU forget corpus: train_positive_llama3 (default) or _phi3",
        choices=("llama3", "phi3"),
    )


@dataclass
class LoraOptions:
    """The keys of :attr:`RunConfig.lora` a command line may set (None: the default of
    :data:`atwu.models.LORA_DEFAULTS`), declared here for their ``--lora-*`` flags."""

    r: int | None = param(None, "LoRA rank (default 8)")
    alpha: int | None = param(None, "LoRA alpha (default 16)")
    dropout: float | None = param(None, "LoRA dropout (default 0)")
    target_modules: str | None = param(
        None,
        "modules to adapt: all-linear (default) or a comma-separated list like q_proj,v_proj",
        flag="--lora-targets",
    )


REAL_BENCHMARKS = "real benchmarks (--benchmark tofu | rwku; docs/REAL_BENCHMARKS.md)"
MODEL_OPTIONS = "model"


@dataclass
class RunConfig:
    """One run. A field whose metadata names a ``flag`` is a ``run``/``sweep`` option
    (:mod:`atwu.run_flags` makes the flags and writes a configuration back as them); ``train``,
    ``benchmark_options`` and ``lora`` hold settings of their own dataclasses, each a flag."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    benchmark: str = param(
        EMBEDDED,
        "'embedded' (default), a prepared benchmark "
        "directory, 'tofu' or 'rwku' (converted from the hub or --data-dir)",
        flag="--benchmark",
        blank_is_unset=True,
    )
    split: str | None = param(
        None, "forget split (default: forget10; 'forget' on your own files)", flag="--split"
    )
    model: str | None = param(  # None: the benchmark's target model
        None,
        "starting model: local folder, a shipped model (smollm2-135m) or, with "
        "--allow-hub, a hub id (default: the benchmark's full model)",
        flag="--model",
    )
    aux_model: str | None = param(  # None: the benchmark's base model (method aux)
        None,
        "auxiliary model for method aux (default: the benchmark's base model)",
        flag="--aux-model",
    )
    train: TrainSettings = field(default_factory=TrainSettings)
    seed: int = param(0, "", flag="--seed")
    device: str = param("auto", "auto (default), cpu, cuda, cuda:1 ...", flag="--device")
    threads: int | None = (
        None  # None: 1 for tiny models on CPU (faster here), torch default otherwise
    )
    evaluate: bool = param(
        True, "skip evaluation (weights are still recorded)", off_flag="--no-eval"
    )
    quick: bool = param(  # evaluate fully only at step 0 and the final checkpoint
        False, "fully evaluate only step 0 and the final checkpoint", flag="--quick"
    )
    save_model: bool | None = param(  # None: save when the model has < 100M parameters
        None, "", flag="--save-model", off_flag="--no-save-model"
    )
    trust_remote_code: bool = param(False, "", flag="--trust-remote-code")
    # Real benchmarks (tofu, rwku): data_dir, spans, retain_model, retain_logs, targets,
    # rwku_retain, rwku_corpus (see atwu.data.tofu / atwu.data.rwku).
    benchmark_options: dict[str, Any] = field(
        default_factory=dict,
        metadata={"options": BenchmarkOptions, "group": REAL_BENCHMARKS, "prefix": ""},
    )
    dtype: str | None = param(  # None: float32; or bfloat16 / float16 (weights as loaded)
        None,
        "weights' dtype (default float32)",
        flag="--dtype",
        choices=("float32", "bfloat16", "float16"),
        group=MODEL_OPTIONS,
    )
    # None: full fine-tuning; else LoRA options (atwu.models)
    lora: dict[str, Any] | None = field(
        default=None,
        metadata={
            "options": LoraOptions,
            "group": MODEL_OPTIONS,
            "prefix": "lora-",
            "flag": "--lora",
            "help": "train LoRA adapters only (peft); the run saves the adapter",
        },
    )
    gradient_checkpointing: bool = param(
        False,
        "recompute activations in the backward pass (less memory)",
        flag="--gradient-checkpointing",
        group=MODEL_OPTIONS,
    )
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
