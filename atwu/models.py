"""Load and build causal LMs: the embedded tiny models and any ``transformers`` model.

Everything is an ordinary ``AutoModelForCausalLM``; the embedded models are Llama-architecture
models saved with ``save_pretrained``, so no code path is special to them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM


@dataclass(frozen=True)
class TinyModelSpec:
    """Size of the embedded models (~0.5M parameters with the 1k-token vocabulary)."""

    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    max_position_embeddings: int = 128


def build_tiny_model(vocab_size: int, spec: TinyModelSpec, *, pad_id: int, eos_id: int,
                     seed: int) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size, num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads, num_key_value_heads=spec.num_attention_heads,
        max_position_embeddings=spec.max_position_embeddings, tie_word_embeddings=True,
        pad_token_id=pad_id, eos_token_id=eos_id, bos_token_id=None,
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


def load_tokenizer(model: str | Path, *, trust_remote_code: bool = False):
    path = Path(model).expanduser()
    if is_local(str(model)) and not path.is_dir():
        raise FileNotFoundError(f"model path {model} does not exist")
    tok = AutoTokenizer.from_pretrained(str(path) if path.is_dir() else str(model),
                                        trust_remote_code=trust_remote_code)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token  # generation and batching need a pad id
    return tok


def load_model(model: str | Path, *, device: torch.device | None = None,
               dtype: torch.dtype | None = None, trust_remote_code: bool = False):
    """Load any causal LM from a local directory or a hub id (safetensors only)."""
    path = Path(model).expanduser()
    if is_local(str(model)) and not path.is_dir():
        raise FileNotFoundError(f"model path {model} does not exist")
    try:
        lm = AutoModelForCausalLM.from_pretrained(
            str(path) if path.is_dir() else str(model), dtype=dtype or torch.float32,
            use_safetensors=True, trust_remote_code=trust_remote_code)
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise ValueError(f"{model} needs custom code from its repository; rerun with "
                             "--trust-remote-code if you trust it") from exc
        raise
    if device is not None:
        lm.to(device)
    return lm


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
