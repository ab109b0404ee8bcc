"""Train the embedded benchmark's tiny causal LMs from scratch until they memorise their data.

Loss on answer tokens only (the prompt is masked), AdamW with cosine decay, as TOFU fine-tunes
its target models. Deterministic on CPU for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from transformers import get_cosine_schedule_with_warmup

from atwu.data.batching import collate, shifted_targets, token_logprobs
from atwu.data.chat import EncodedPair
from atwu.progress import Progress


@dataclass(frozen=True)
class PretrainConfig:
    epochs: int = 40
    lr: float = 3e-3
    batch_size: int = 32
    weight_decay: float = 0.0
    warmup_share: float = 0.03
    seed: int = 0


def train_memoriser(
    model: torch.nn.Module,
    encoded: Sequence[EncodedPair],
    pad_id: int,
    config: PretrainConfig,
    *,
    desc: str = "train",
    on_step: Callable[[int, int], None] | None = None,
    position: int | None = None,
) -> list[float]:
    """Fit ``model`` on ``encoded``; returns the mean loss per epoch.

    Progress per epoch (:class:`atwu.progress.Progress`): a bar on a terminal (``position``: its
    line, for models trained side by side), a line per tenth of the epochs in a log.
    """
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    steps_per_epoch = -(-len(encoded) // config.batch_size)
    total = steps_per_epoch * config.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = get_cosine_schedule_with_warmup(opt, int(config.warmup_share * total), total)
    model.train()
    losses, step = [], 0
    with Progress(config.epochs, desc, unit="epoch", position=position) as progress:
        for _ in range(config.epochs):
            order = list(range(len(encoded)))
            rng.shuffle(order)
            epoch_loss = 0.0
            for lo in range(0, len(order), config.batch_size):
                batch = collate([encoded[i] for i in order[lo : lo + config.batch_size]], pad_id)
                logits = model(
                    input_ids=batch.input_ids, attention_mask=batch.attention_mask
                ).logits
                targets, mask = shifted_targets(batch)
                logp = token_logprobs(logits[:, :-1], targets)
                loss = -(logp * mask).sum() / mask.sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                epoch_loss += loss.item()
                step += 1
                if on_step:
                    on_step(step, total)
            losses.append(epoch_loss / steps_per_epoch)
            progress.update(1, loss=f"{losses[-1]:.3f}")
    model.eval()
    return losses
