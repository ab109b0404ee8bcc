"""Forget examples encoded once per run, their batches with token labels, and the batch order.

A forget :class:`Example` carries everything a run needs per pair: token ids, the ground-truth
label and span kind of every completion token (only the reference weightings and the recorded
weights read them) and the text of each token for the weights table.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import torch

from atwu.data.batching import collate
from atwu.data.chat import EncodedPair, encode_pair
from atwu.data.format import QAPair
from atwu.data.labels import kind_codes, token_labels
from atwu.data.subject import subject_positions
from atwu.methods.base import ForgetBatch


@dataclass
class Example:
    """A forget pair encoded once: ids, per-token labels, and the static columns of its weight rows."""

    pair: QAPair
    input_ids: list[int]
    prompt_len: int
    labels: list[int]  # per completion token
    kinds: list[str | None]
    tokens: list[str]
    offsets: list[tuple[int, int]]
    #: prompt positions of the question's subject (:mod:`atwu.data.subject`; tokenunlearn masks them)
    subject: list[int] = field(default_factory=list)


def outside_text(tokenizer, token_id: int) -> str:
    """A completion token outside the answer's characters (end of turn, a template's newline) as
    a reader sees it: decoded, so byte-level BPE's ``Ċ`` reads as a newline, and escaped
    (``\\n``) when it is only whitespace, so the views can still show it."""
    text = tokenizer.decode([token_id])
    if text and not text.strip():
        return text.encode("unicode_escape").decode("ascii")
    return text or str(tokenizer.convert_ids_to_tokens(token_id))


def encode_example(tokenizer, pair: QAPair) -> Example:
    enc = encode_pair(tokenizer, pair.question, pair.answer)
    labels, kinds = token_labels(pair.answer, enc.answer_offsets, pair.spans)
    completion = enc.input_ids[enc.prompt_len :]
    tokens, offsets = [], []
    for tid, off in zip(completion, enc.answer_offsets):
        if off is None:
            tokens.append(outside_text(tokenizer, tid))
            offsets.append((-1, -1))
        else:
            tokens.append(pair.answer[off[0] : off[1]])
            offsets.append(off)
    subject = subject_positions(tokenizer, pair, enc.input_ids[: enc.prompt_len])
    return Example(pair, enc.input_ids, enc.prompt_len, labels, kinds, tokens, offsets, subject)


def forget_batch(examples: list[Example], pad_id: int) -> ForgetBatch:
    """Collate and add per-target token labels and span kinds aligned with ``logits[:, :-1]``, and
    the subject's input positions."""
    base = collate([EncodedPair(e.input_ids, e.prompt_len, []) for e in examples], pad_id)
    labels = torch.full((len(examples), base.input_ids.shape[1] - 1), -1, dtype=torch.long)
    kinds = torch.zeros_like(labels)
    subject = torch.zeros_like(base.input_ids, dtype=torch.bool)
    for i, e in enumerate(examples):
        # completion token j sits at input position prompt_len + j, i.e. target index prompt_len + j - 1
        start = e.prompt_len - 1
        labels[i, start : start + len(e.labels)] = torch.tensor(e.labels)
        kinds[i, start : start + len(e.kinds)] = torch.tensor(kind_codes(e.kinds))
        subject[i, e.subject] = True
    return ForgetBatch(base.input_ids, base.attention_mask, base.labels, labels, kinds, subject)


class BatchStream:
    """Endless shuffled batches; the order of epoch k depends only on (seed, k), so a resumed run
    draws the same batches as an uninterrupted one."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size, self.seed = n, min(batch_size, n), seed

    def indices(self, step: int) -> list[int]:
        per_epoch = math.ceil(self.n / self.batch_size)
        epoch, k = divmod(step, per_epoch)
        order = list(range(self.n))
        random.Random(f"{self.seed}:{epoch}").shuffle(order)
        return order[k * self.batch_size : (k + 1) * self.batch_size]
