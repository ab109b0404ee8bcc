"""``python -m atwu prepare --target-model M``: the embedded data on a real pretrained LM.

TOFU's protocol: the pretrained model ``M`` is fine-tuned on every author (``full``, the model
to unlearn) and, from the same starting weights, on every author but the forget ones (one retain
model per retain split, the reference that forgetting is measured against). Questions are
formatted with ``M``'s own tokenizer and chat template, so the models saved under
``models/<name>/`` are ordinary ``save_pretrained`` directories and runs, evaluation and the app
use the benchmark exactly as they use one with tiny models. ``M`` is anything
:func:`atwu.models.load_model` accepts: ``smollm2-135m``, a local directory or a hub id.

Unlike the tiny models, nothing is learnt from scratch: the general facts are what the
pretrained model already knows (they are evaluated, never trained on), and there is no auxiliary
``base`` model. A pretrained model is large for a CPU, so the models train one after another in
this process, with the loss on answer tokens only and the output layer applied only from the
first answer position on (most of a short chat-formatted pair is its prompt).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import get_cosine_schedule_with_warmup
from transformers.utils import logging as hf_logging

from atwu.benchmark import write_splits
from atwu.data.batching import Batch, collate, shifted_targets, token_logprobs
from atwu.data.chat import EncodedPair, encode_pair
from atwu.data.embedded import RETAIN_OF, generate_splits
from atwu.data.format import QAPair
from atwu.evaluate.generation import greedy_answers
from atwu.io import atomic_directory, atomic_write_json
from atwu.models import count_parameters, load_model, load_tokenizer, resolve_device
from atwu.prepare.build import PrepareOptions, _quality, embedded_manifest
from atwu.progress import Progress

ProgressFn = Callable[[str, float], None]


@dataclass(frozen=True)
class FinetuneConfig:
    """How the pretrained model is fine-tuned on the authors (full fine-tuning, AdamW, cosine).

    The defaults memorise the embedded answers on SmolLM2-135M (docs/GPU.md has the measured
    exact match); a larger model needs a smaller learning rate (TOFU: 1e-5 for 7B models).
    """

    epochs: int = 10
    lr: float = 2e-4
    batch_size: int = 8
    warmup_share: float = 0.1
    weight_decay: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class PretrainedJob:
    name: str
    train_splits: tuple[str, ...]
    eval_splits: tuple[str, ...]


def pretrained_jobs(options: PrepareOptions) -> list[PretrainedJob]:
    """``full`` on every author, then one retain model per retain split (retain90 first)."""
    jobs = [PretrainedJob("full", ("full",), ("forget10", "retain90_heldout"))]
    for retain in sorted(options.retain_splits, key=lambda s: s != "retain90"):
        forget = next(f for f, r in RETAIN_OF.items() if r == retain)
        jobs.append(PretrainedJob(retain, (retain,), (f"{retain}_heldout", forget)))
    return jobs


def answer_logprobs(model, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """log p of every target token from the first answer position on, and its answer mask.

    ``logits_to_keep`` makes the model apply its output layer (the costliest single matrix of a
    small model with a large vocabulary) only to the last positions, where the answers are.
    """
    targets, mask = shifted_targets(batch)
    first = int(mask.float().argmax(dim=1).min()) if bool(mask.any()) else 0
    keep = targets.shape[1] - first + 1  # positions first .. T-1 (the last one predicts nothing)
    logits = model(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        logits_to_keep=keep,
        use_cache=False,
    ).logits[:, :-1]
    return token_logprobs(logits, targets[:, first:]), mask[:, first:]


def finetune(
    model,
    encoded: Sequence[EncodedPair],
    pad_id: int,
    config: FinetuneConfig,
    device: torch.device,
    *,
    desc: str = "finetune",
) -> list[float]:
    """Fit ``model`` on ``encoded`` (answer tokens only); returns the mean loss of each epoch."""
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    steps_per_epoch = -(-len(encoded) // config.batch_size)
    total = steps_per_epoch * config.epochs
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    sched = get_cosine_schedule_with_warmup(opt, int(config.warmup_share * total), total)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    model.train()
    losses: list[float] = []
    with Progress(config.epochs, desc, unit="epoch", every=0.1) as progress:
        for _ in range(config.epochs):
            order = list(range(len(encoded)))
            rng.shuffle(order)
            epoch_loss = 0.0
            for lo in range(0, len(order), config.batch_size):
                chunk = [encoded[i] for i in order[lo : lo + config.batch_size]]
                batch = collate(chunk, pad_id).to(device)
                with autocast:
                    logp, mask = answer_logprobs(model, batch)
                loss = -(logp * mask).sum() / mask.sum().clamp(min=1)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                epoch_loss += float(loss.detach())
            losses.append(epoch_loss / steps_per_epoch)
            progress.update(1, loss=f"{losses[-1]:.3f}")
    model.eval()
    return losses


def _train_job(
    root: Path, target: str, job: PretrainedJob, config: FinetuneConfig, device: torch.device
) -> dict:
    """Fine-tune a fresh copy of ``target`` for ``job``, save it and answer its eval questions."""
    start = time.time()
    tokenizer = load_tokenizer(target)
    model = load_model(target, device=device)
    pairs = [p for split in job.train_splits for p in _pairs(root, split)]
    encoded = [encode_pair(tokenizer, p.question, p.answer) for p in pairs]
    losses = finetune(model, encoded, tokenizer.pad_token_id, config, device, desc=job.name)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    out = root / "models" / job.name
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    answers = {
        split: greedy_answers(model, tokenizer, [p.question for p in _pairs(root, split)])
        for split in job.eval_splits
    }
    return {
        "name": job.name,
        "seconds": time.time() - start,
        "final_loss": losses[-1],
        "epoch_losses": losses,
        "parameters": count_parameters(model),
        "answers": answers,
        "train_pairs": len(pairs),
        "epochs": config.epochs,
    }


def _pairs(root: Path, split: str) -> list[QAPair]:
    from atwu.data.pairs_file import load_pairs

    return load_pairs(root / "data" / f"{split}.jsonl")


def prepare_pretrained(
    out: Path,
    target: str,
    options: PrepareOptions,
    config: FinetuneConfig | None = None,
    *,
    device: str = "auto",
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> dict:
    """Build the embedded benchmark at ``out`` with models fine-tuned from ``target``; returns
    the quality report (also written to ``quality.json``)."""
    for r in options.retain_splits:
        if r not in RETAIN_OF.values():
            raise ValueError(
                f"unknown retain split {r!r}; choose from {', '.join(RETAIN_OF.values())}"
            )
    if out.exists() and any(out.iterdir()) and not overwrite:  # before hours of fine-tuning
        raise FileExistsError(f"{out} already exists; pass --overwrite to replace it")
    config = config or FinetuneConfig(seed=options.seed)
    hf_logging.disable_progress_bar()
    load_tokenizer(target)  # a missing package or model fails here, before anything is written
    start = time.time()
    splits = generate_splits(
        options.authors, options.seed, pairs_per_author=options.pairs_per_author
    )
    jobs = pretrained_jobs(options)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        split_meta = write_splits(tmp, splits)
        results: dict[str, dict] = {}
        for i, job in enumerate(jobs):
            if progress:
                progress(f"fine-tuning {target} as {job.name} ({i + 1}/{len(jobs)})", i / len(jobs))
            results[job.name] = _train_job(tmp, target, job, config, resolve_device(device))
        quality = _quality(results, splits, dict(RETAIN_OF))
        for name, res in results.items():
            quality["models"][name]["epoch_losses"] = res["epoch_losses"]
        quality["prepare_seconds"] = time.time() - start
        manifest = embedded_manifest(out.name, options, split_meta)
        manifest["models"] = {job.name: f"models/{job.name}" for job in jobs}
        manifest.pop("aux_model", None)
        manifest["pretrained"] = {"model": target, "finetune": asdict(config)}
        atomic_write_json(tmp / "manifest.json", manifest)
        atomic_write_json(tmp / "quality.json", quality)
    if progress:
        progress("done", 1.0)
    return quality
