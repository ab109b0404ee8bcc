"""Token weights of any text from a finished run (``python -m atwu score``, the Token scores page's
text box): ATWU's learned scorer on the final model, or a rule-based method's rule (WGA, SatImp,
TNPO, aux) on the final model.

The text is scored as the answer to ``question`` (empty by default), formatted with the chat
template exactly like training data, so the scorer sees hidden states of the kind it learned on.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch

from atwu.config import RunConfig
from atwu.data.format import QAPair
from atwu.errors import InputError
from atwu.io import read_json
from atwu.methods.base import MethodContext
from atwu.methods.registry import build_params, get_method
from atwu.models import load_model, load_tokenizer
from atwu.train.encode import encode_example, forget_batch


class TextWeightsError(InputError):
    """The run lacks what scoring needs; the message says what and how to get it."""


@lru_cache(maxsize=4)
def _load(run_dir: str, mtime: float):
    root = Path(run_dir)
    try:
        data = read_json(root / "config.json")
    except (FileNotFoundError, ValueError) as exc:
        raise TextWeightsError(f"{root} is not a readable run directory ({exc})") from None
    cfg = RunConfig.from_json(data)
    cls = get_method(cfg.method)
    if cls.needs_labels:
        raise TextWeightsError(
            f"{cls.name}'s weights are the ground-truth spans; typed text has none"
        )
    if not (root / "model").is_dir():
        raise TextWeightsError(
            f"{root.name} did not save its final model; rerun it with --save-model"
        )
    missing = [name for name in cls.artifacts if not (root / name).is_file()]
    if missing:
        raise TextWeightsError(f"{root.name} has no {', '.join(missing)} (it did not finish)")
    params = build_params(cls, data.get("params", {}))
    model = load_model(root / "model").eval()
    tokenizer = load_tokenizer(root / "model")
    resolved = data.get("resolved", {})
    ref = load_model(resolved["model"]).eval() if cls.requires_reference(params) else None
    aux = load_model(resolved["aux_model"]).eval() if cls.needs_aux else None
    ctx = MethodContext(
        device=torch.device("cpu"),
        reference_model=ref,
        aux_model=aux,
        hidden_size=model.config.hidden_size,
        num_layers=getattr(model.config, "num_hidden_layers", 0),
    )
    method = cls(params, ctx)
    method.load_artifacts(root)
    return method, model, tokenizer


def weights_for_text(run_dir: str | Path, text: str, question: str = "") -> list[tuple[str, float]]:
    """(token text, weight) for each token of ``text`` (and the closing EOS)."""
    if not text.strip():
        raise TextWeightsError("type some text to score")
    root = Path(run_dir)
    mtime = (root / "model").stat().st_mtime if (root / "model").exists() else 0.0
    method, model, tokenizer = _load(str(root.resolve()), mtime)
    example = encode_example(tokenizer, QAPair(id="typed", question=question, answer=text))
    batch = forget_batch([example], tokenizer.pad_token_id)
    with torch.no_grad():
        weights, _ = method.token_weights(model, batch)
    start = example.prompt_len - 1
    w = weights[0, start : start + len(example.tokens)].tolist()
    return list(zip(example.tokens, w))
