"""Data-parallel runs: N processes, each with 1/N of every batch, computing what one process with
the whole batch computes.

A launcher (``accelerate launch --multi_gpu``, ``torchrun``) starts the processes and sets
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; without them a run is one process and every helper
here returns its input unchanged, so a single-process run does exactly the operations it did
before this module existed.

How equivalence is kept. Every loss of a run that may be split is a token mean over the batch
(:func:`atwu.methods.base.masked_mean`) or a ratio of batch sums. Inside :func:`pooling` such a
sum is *pooled*: its value is the sum over every rank's shard (so τ, a z-score, a logged loss is
the whole batch's value on every rank) while its gradient is this rank's share only. Summing
the gradients over the ranks (:func:`sum_gradients`) then gives exactly the gradient of the
whole batch's loss, for the model and for ATWU's scorer alike. A term every rank computes on
the same replicated tensor (the scorer's L2 penalty) is counted once with :func:`replicated`.

Collectives time out (``ATWU_COLLECTIVE_TIMEOUT`` seconds, default 1800) so a rank that died
makes the others fail with a message instead of waiting forever.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch

TIMEOUT_ENV = "ATWU_COLLECTIVE_TIMEOUT"
DEFAULT_TIMEOUT_S = 1800.0


class PeerLost(Exception):
    """Another process of the run stopped or did not answer in time: this one stops too."""


@dataclass(frozen=True)
class Ranks:
    """Which process this is among the run's processes (one process: rank 0 of 1)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def several(self) -> bool:
        return self.world > 1

    @property
    def writes(self) -> bool:
        """Only rank 0 writes the run directory (status, logs, checkpoints, weights, eval)."""
        return self.rank == 0


def ranks_from_env(env: Mapping[str, str] = os.environ) -> Ranks:
    """The launcher's ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` (absent: one process)."""
    try:
        world = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise ValueError(
            "RANK, WORLD_SIZE and LOCAL_RANK must be integers (they are set by the launcher: "
            "accelerate launch or torchrun)"
        ) from None
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"RANK {rank} is not a rank of WORLD_SIZE {world}")
    return Ranks(rank, world, local)


def timeout_seconds(env: Mapping[str, str] = os.environ) -> float:
    raw = env.get(TIMEOUT_ENV, "")
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise ValueError(f"{TIMEOUT_ENV} must be a positive number of seconds, got {raw!r}")
    return value


def shard(indices: Sequence[int], ranks: Ranks) -> list[int]:
    """This rank's contiguous share of one global batch (rank order = batch order, so gathered
    rows come back in the order one process would have them)."""
    n = len(indices)
    lo, hi = ranks.rank * n // ranks.world, (ranks.rank + 1) * n // ranks.world
    return list(indices[lo:hi])


def smallest_batch(n: int, batch_size: int) -> int:
    """The fewest examples any global batch of :class:`atwu.train.encode.BatchStream` holds (the
    last one of each pass over ``n`` examples)."""
    size = min(batch_size, n)
    return n - (math.ceil(n / size) - 1) * size


def check_shardable(what: str, n: int, batch_size: int, ranks: Ranks) -> None:
    """Every rank needs at least one example of every batch."""
    if not ranks.several or n == 0:
        return
    least = smallest_batch(n, batch_size)
    if least < ranks.world:
        raise ValueError(
            f"{what}: with {ranks.world} processes each batch needs at least {ranks.world} "
            f"examples, but the last batch of each pass over the {n} examples holds {least} "
            f"(batch {batch_size} per process × {ranks.world}); choose a batch size that leaves "
            "a larger remainder or run fewer processes"
        )


def unsupported_launch(env: Mapping[str, str] = os.environ) -> str | None:
    """Why the launcher's mode cannot run here (None: it can). The loop keeps a full replica of
    the model in every process; a sharding launch (FSDP, DeepSpeed) expects the script to wrap
    the model, and would otherwise replicate an 8B model on every GPU."""
    for variable, name in (
        ("ACCELERATE_USE_FSDP", "FSDP"),
        ("ACCELERATE_USE_DEEPSPEED", "DeepSpeed"),
    ):
        if env.get(variable, "").lower() in ("1", "true", "yes"):
            return (
                f"atwu run does not shard the model ({name} launch): it keeps one replica per "
                "process; launch with configs/accelerate/ddp_gpu.yaml (LoRA for large models) "
                "or run one process"
            )
    return None


# -- the process group ----------------------------------------------------------------------------


def start(ranks: Ranks, device: torch.device) -> None:
    """Join the launcher's process group (gloo on CPU, NCCL on CUDA), with the timeout."""
    if not ranks.several or torch.distributed.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    with _collective("joining the other processes"):
        torch.distributed.init_process_group(
            backend,
            timeout=datetime.timedelta(seconds=timeout_seconds()),
            rank=ranks.rank,
            world_size=ranks.world,
        )
        torch.distributed.barrier()


def stop() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


@contextlib.contextmanager
def _collective(what: str) -> Iterator[None]:
    """A collective's failure (a peer's connection closed, the timeout passed) as :class:`PeerLost`
    with one line saying what happened."""
    try:
        yield
    except RuntimeError as exc:  # DistBackendError and gloo's errors are RuntimeErrors
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PeerLost(
            f"another process of this data-parallel run stopped, or did not answer within "
            f"{timeout_seconds():g} s ({what}: {detail[:160]}); the run stops here, results up "
            "to its last checkpoint are kept (--resume continues)"
        ) from exc


def _group_on() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


_pooling = False


@contextlib.contextmanager
def pooling() -> Iterator[None]:
    """Within this block (one training step) batch sums are pooled over the ranks; outside it
    (recording weights, evaluating: rank 0 alone) every helper is the identity."""
    global _pooling
    before, _pooling = _pooling, _group_on() and torch.distributed.get_world_size() > 1
    try:
        yield
    finally:
        _pooling = before


def active() -> bool:
    return _pooling


def total(t: torch.Tensor) -> torch.Tensor:
    """The sum of a detached tensor over the ranks (the tensor itself outside :func:`pooling`)."""
    if not _pooling:
        return t
    out = t.detach().clone()
    with _collective("summing over the processes"):
        torch.distributed.all_reduce(out)
    return out


def pooled(local: torch.Tensor) -> torch.Tensor:
    """Value: the sum over the ranks; gradient: this rank's ``local`` only."""
    if not _pooling:
        return local
    return total(local.detach()) + (local - local.detach())


def replicated(x: torch.Tensor) -> torch.Tensor:
    """A term every rank computes alike: its value unchanged, its gradient 1/N, so that summing
    gradients over the ranks counts it once."""
    if not _pooling:
        return x
    n = torch.distributed.get_world_size()
    return x / n + (x - x / n).detach()


def mean_of(values: torch.Tensor) -> torch.Tensor:
    """The mean of a detached 1-d tensor over every rank's elements (for logs)."""
    if not _pooling:
        return values.mean()
    count = total(torch.tensor(float(values.numel()), device=values.device))
    return total(values.detach().sum()) / count.clamp(min=1)


def gather_rows(rows: torch.Tensor) -> torch.Tensor:
    """Every rank's rows (n_r, ...) concatenated in rank order (the rows themselves outside
    :func:`pooling`); ranks may hold different numbers of rows."""
    if not _pooling:
        return rows
    world = torch.distributed.get_world_size()
    n = torch.tensor([rows.shape[0]], device=rows.device)
    counts = [torch.zeros_like(n) for _ in range(world)]
    with _collective("gathering rows"):
        torch.distributed.all_gather(counts, n)
    most = int(max(int(c) for c in counts))
    padded = rows.new_zeros((most, *rows.shape[1:]))
    padded[: rows.shape[0]] = rows
    parts = [torch.zeros_like(padded) for _ in range(world)]
    with _collective("gathering rows"):
        torch.distributed.all_gather(parts, padded.contiguous())
    return torch.cat([p[: int(c)] for p, c in zip(parts, counts)])


def sum_gradients(params: Iterable[torch.nn.Parameter]) -> None:
    """Replace each gradient by its sum over the ranks (one flat all-reduce)."""
    if not _pooling:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    with _collective("summing gradients"):
        torch.distributed.all_reduce(flat)
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def broadcast_parameters(params: Iterable[torch.Tensor]) -> None:
    """Rank 0's values in every rank's tensors (at the start: one starting point everywhere)."""
    if not (_group_on() and torch.distributed.get_world_size() > 1):
        return
    with torch.no_grad(), _collective("sharing the starting parameters"):
        for p in params:
            torch.distributed.broadcast(p.data, src=0)


def digest(tensors: Iterable[torch.Tensor]) -> str:
    """SHA-256 of the tensors' bytes: equal digests mean bit-equal tensors."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def digests(tensors: Iterable[torch.Tensor]) -> list[str]:
    """Every rank's :func:`digest` of its copy of replicated tensors, in rank order."""
    mine = digest(tensors)
    if not (_group_on() and torch.distributed.get_world_size() > 1):
        return [mine]
    out: list = [None] * torch.distributed.get_world_size()
    with _collective("comparing replicas"):
        torch.distributed.all_gather_object(out, mine)
    return [str(d) for d in out]


def from_rank0(value: object) -> object:
    """Rank 0's ``value`` on every rank (a decision only rank 0 can make, e.g. whether the run
    resumes)."""
    if not (_group_on() and torch.distributed.get_world_size() > 1):
        return value
    box = [value]
    with _collective("hearing from rank 0"):
        torch.distributed.broadcast_object_list(box, src=0)
    return box[0]
