"""Batched greedy generation with left padding and the KV cache (``model.generate``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from atwu.data.chat import prompt_text


def eos_ids(model, tokenizer) -> list[int]:
    """Every id that ends a turn: the tokenizer's EOS and the model's generation EOS ids."""
    ids = set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(gen_eos, int):
        ids.add(gen_eos)
    elif gen_eos:
        ids.update(int(i) for i in gen_eos)
    return sorted(ids)


@torch.no_grad()
def greedy_answers(
    model, tokenizer, questions: Sequence[str], *, batch_size: int = 64, max_new_tokens: int = 48
) -> list[str]:
    """The model's greedy answer to each question, special tokens stripped."""
    if not questions:
        return []
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    stop = eos_ids(model, tokenizer)
    prompts = [
        tokenizer(prompt_text(tokenizer, q), add_special_tokens=False)["input_ids"]
        for q in questions
    ]
    # Sort by length so each padded batch wastes little; restore order at the end.
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out: list[str] = [""] * len(prompts)
    was_training = model.training
    model.eval()
    for lo in range(0, len(order), batch_size):
        idx = order[lo : lo + batch_size]
        width = max(len(prompts[i]) for i in idx)
        ids = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):  # left padding: every prompt ends at the same column
            ids[row, width - len(prompts[i]) :] = torch.tensor(prompts[i])
            mask[row, width - len(prompts[i]) :] = 1
        gen = model.generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            eos_token_id=stop,
            pad_token_id=pad,
            use_cache=True,
            temperature=None,
            top_p=None,
            top_k=None,
        )
        for row, i in enumerate(idx):
            out[i] = tokenizer.decode(gen[row, width:], skip_special_tokens=True).strip()
    model.train(was_training)
    return out
