"""Turn a question/answer pair into token ids with the prompt masked, for any tokenizer.

The prompt is the chat template with the user turn and the generation prompt; the completion is
what the full conversation adds after it (the answer, then the end-of-turn/EOS tokens). Prompt and
completion are tokenised separately and concatenated: that is exactly what the model sees when it
generates from the prompt, so training, evaluation and generation agree token for token (joint
tokenisation can merge characters across the boundary, a known pitfall).

A tokenizer without a chat template falls back to :data:`PLAIN_FORMAT` (see README).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

PLAIN_PROMPT = "Question: {question}\nAnswer: "


@dataclass(frozen=True)
class EncodedPair:
    """Token ids of prompt + completion and, per completion token, its offsets in the answer."""

    input_ids: list[int]
    prompt_len: int
    # One entry per completion token: (start, end) character offsets into ``answer`` or None
    # for tokens outside the answer text (EOS / end-of-turn markers).
    answer_offsets: list[tuple[int, int] | None]

    @property
    def completion_len(self) -> int:
        return len(self.input_ids) - self.prompt_len


def has_chat_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def prompt_text(tokenizer, question: str) -> str:
    if has_chat_template(tokenizer):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=False
        )
    return PLAIN_PROMPT.format(question=question)


def completion_text(tokenizer, question: str, answer: str) -> tuple[str, int]:
    """The text after the prompt and where the answer starts inside it."""
    if has_chat_template(tokenizer):
        prompt = prompt_text(tokenizer, question)
        full = tokenizer.apply_chat_template(
            [{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
            tokenize=False,
        )
        if not full.startswith(prompt):
            raise ValueError(
                "the chat template renders the prompt differently with and without "
                "the assistant turn; cannot mask the prompt reliably"
            )
        rest = full[len(prompt) :]
        start = rest.find(answer)
        if start < 0:
            raise ValueError("the chat template does not reproduce the answer text verbatim")
        return rest, start
    eos = tokenizer.eos_token or ""
    return answer + eos, 0


def warn_if_plain(tokenizer, name: str) -> None:
    if not has_chat_template(tokenizer):
        warnings.warn(
            f"{name} has no chat template; using the plain format {PLAIN_PROMPT!r} + answer + EOS",
            stacklevel=2,
        )


def encode_pair(
    tokenizer, question: str, answer: str, *, max_length: int | None = None
) -> EncodedPair:
    prompt = prompt_text(tokenizer, question)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    rest, answer_start = completion_text(tokenizer, question, answer)
    enc = tokenizer(rest, add_special_tokens=False, return_offsets_mapping=True)
    answer_end = answer_start + len(answer)
    offsets: list[tuple[int, int] | None] = []
    for start, end in enc["offset_mapping"]:
        lo, hi = max(start, answer_start), min(end, answer_end)
        offsets.append((lo - answer_start, hi - answer_start) if hi > lo else None)
    ids = list(prompt_ids) + list(enc["input_ids"])
    if max_length is not None and len(ids) > max_length:
        cut = len(ids) - max_length
        if cut >= len(prompt_ids):
            raise ValueError(f"answer alone is longer than max_length={max_length} tokens")
        ids, prompt_ids = (
            ids[cut:],
            prompt_ids[cut:],
        )  # keep the answer whole, trim the prompt's start
    return EncodedPair(input_ids=ids, prompt_len=len(prompt_ids), answer_offsets=offsets)
