"""The one unlearning loop for every method, writing a run directory (see :mod:`atwu.runs.layout`).

    python -m atwu run --method atwu            # embedded forget10, defaults, under $ATWU_HOME/runs

Per step: a forget batch and a retain batch, the method's loss, AdamW with warm-up and schedule,
gradient clipping. At every checkpoint (step 0 included): record the recorded examples' token
weights, evaluate, and replace the resumable state. CUDA with bf16 autocast when present, CPU
float32 otherwise.
"""

from __future__ import annotations

import contextlib
import copy
import os
import random
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import get_scheduler
from transformers.utils import logging as hf_logging

from atwu import distributed
from atwu.config import RunConfig
from atwu.data.batching import collate
from atwu.data.chat import EncodedPair, encode_pair, warn_if_plain
from atwu.io import append_jsonl, atomic_write_json, write_jsonl
from atwu.methods.base import Method, MethodContext
from atwu.models import (
    apply_lora,
    count_parameters,
    enable_gradient_checkpointing,
    load_model,
    load_tokenizer,
    parse_dtype,
    resolve_device,
)
from atwu.runs.layout import (
    CONFIG,
    EVAL_LOG,
    EXAMPLES,
    MODEL_DIR,
    SCHEMA_VERSION,
    STATUS,
    TRAIN_LOG,
    WEIGHT_COLUMNS,
)
from atwu.runs.lease import Lease, LeaseHeld
from atwu.runs.read import read_weights
from atwu.runs.replace import discard_replaced, put_back
from atwu.runs.status import StatusWriter, utc_now
from atwu.runs.write import write_weights
from atwu.train.encode import BatchStream, Example, encode_example, forget_batch
from atwu.train.errors import Cancelled, Diverged, RunError
from atwu.train.out_dir import (
    check_output,
    claim_directory,
    read_status,
    say_where_the_old_run_is,
    set_old_run_aside,
)
from atwu.train.pressure import PressureTally
from atwu.train.resolve import RunPlan, plan_run
from atwu.train.state import StateNotSaved, load_state, save_state

SAVE_MODEL_BELOW = 100_000_000
#: trainable parameters up to which a multi-process run compares the ranks' model replicas at
#: every checkpoint (ATWU's scorer is compared after every step whatever its size)
REPLICA_CHECK_MAX = 100_000_000
TINY_MODEL_PARAMS = 5_000_000


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _versions() -> dict[str, str]:
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__}


@dataclass
class Loaded:
    """What a run holds in memory: the model being unlearned, its tokenizer and the method."""

    model: Any
    tokenizer: Any
    method: Method
    device: torch.device
    n_params: int
    threads: int | None


class Trainer:
    """One run: ``Trainer(config, out).run()``. Every input is checked in the constructor, before
    the output directory is touched."""

    def __init__(
        self,
        config: RunConfig,
        out: Path,
        *,
        resume: bool = False,
        overwrite: bool = False,
        evaluator_factory: Any = None,
        progress: bool | None = None,
    ):
        self.config, self.out, self.resume, self.overwrite = config, Path(out), resume, overwrite
        self.evaluator_factory = evaluator_factory
        # None: a progress bar only on a terminal (a log file would fill with redrawn bars; the
        # app follows runs through status.json)
        self.progress = progress
        self.plan: RunPlan = plan_run(config)
        # under a multi-process launcher (atwu.distributed), rank 0 alone writes the directory
        self.ranks = distributed.ranks_from_env()
        if self.ranks.several:
            launch = distributed.unsupported_launch()
            if launch is not None:
                raise RunError(launch)
            problem = self.plan.method_cls.data_parallel_problem(self.plan.params)
            if problem is not None:
                raise RunError(f"{problem}; run it as one process")
            self._check_shardable()
        if self.ranks.writes:
            check_output(self.out, resume=resume, overwrite=overwrite)

    def _check_shardable(self) -> None:
        """Every process needs an example of every forget and retain batch."""
        t, plan = self.config.train, self.plan
        sets = [("forget split", plan.split, t.forget_batch_size)]
        if plan.method_cls.uses_retain:
            sets.append(("retain split", plan.retain_split, t.retain_batch_size))
        for what, split, batch in sets:
            try:
                n = len(plan.bench.pairs(split))
                distributed.check_shardable(f"{what} {split}", n, batch, self.ranks)
            except ValueError as exc:
                raise RunError(str(exc)) from None

    # the resolved plan, under the names the evaluator factory and tests read
    @property
    def bench(self):
        return self.plan.bench

    @property
    def split(self) -> str:
        return self.plan.split

    @property
    def model_path(self) -> str:
        return self.plan.model_path

    # ------------------------------------------------------------------------------------------
    def run(self) -> dict:
        if not self.ranks.writes:
            return self._run_as_follower()
        # One writer per run directory: its lease is taken (atomically; a stale one is taken
        # over) before anything is written, and held with a heartbeat until the run ends. A
        # run replaced by --overwrite is moved aside first (under its own lease: never a live
        # one) and removed only once this run has finished.
        aside = set_old_run_aside(self.out, resume=self.resume, overwrite=self.overwrite)
        try:
            lease = Lease.acquire(self.out)
        except LeaseHeld as exc:
            if aside is not None and not put_back(aside, self.out):
                raise RunError(f"{exc} (the run that was here is kept at {aside})") from None
            raise RunError(str(exc)) from None
        status = StatusWriter(self.out, self.plan.total_steps)
        previous_handler = signal.signal(
            signal.SIGTERM, _raise_stopped if self.ranks.several else _raise_cancelled
        )
        try:
            self.resume = claim_directory(self.out, lease, resume=self.resume)
            if self.resume and (self.out / STATUS).is_file():
                previous = read_status(self.out)
                status.status.update({k: previous[k] for k in ("started_at",) if k in previous})
            status.update(state="queued", message="loading model")
            status.start_heartbeat()
            result = self._run(status)
            status.update(
                state="done", message=result.get("message", "finished"), ended_at=utc_now()
            )
            discard_replaced(self.out)  # this run finished: the ones it replaced are superseded
            return result
        except (Cancelled, KeyboardInterrupt):
            status.update(
                state="cancelled",
                message=f"cancelled at step {status.status['step']}",
                ended_at=utc_now(),
            )
            say_where_the_old_run_is(aside)
            raise
        except Diverged as exc:
            status.update(state="failed", message=str(exc), ended_at=utc_now())
            say_where_the_old_run_is(aside)
            raise
        except Exception as exc:
            plain = isinstance(exc, (StateNotSaved, distributed.PeerLost))
            cause = str(exc) if plain else f"{type(exc).__name__}: {exc}"
            _record_failure(status, cause)
            say_where_the_old_run_is(aside)
            raise
        finally:
            status.stop_heartbeat()
            signal.signal(signal.SIGTERM, previous_handler)
            lease.release()
            distributed.stop()

    def _run_as_follower(self) -> dict:
        """Ranks 1..N-1: the same steps on their shard of each batch, nothing written."""
        try:
            return self._run(QuietStatus(self.plan.total_steps))
        finally:
            distributed.stop()

    def _load(self) -> Loaded:
        """Model, tokenizer, reference/auxiliary copies and the method, on the run's device."""
        cfg, plan = self.config, self.plan
        device = resolve_device(cfg.device)
        if self.ranks.several and device.type == "cuda":
            device = torch.device("cuda", self.ranks.local_rank)  # one GPU per process
        tokenizer = load_tokenizer(plan.model_path, trust_remote_code=cfg.trust_remote_code)
        warn_if_plain(tokenizer, plan.model_path)
        dtype = parse_dtype(cfg.dtype)
        model = load_model(
            plan.model_path, device=device, dtype=dtype, trust_remote_code=cfg.trust_remote_code
        )
        n_params = count_parameters(model)
        threads = cfg.threads or (
            1 if device.type == "cpu" and n_params < TINY_MODEL_PARAMS else None
        )
        if threads:
            torch.set_num_threads(threads)
        ref = None
        if plan.method_cls.requires_reference(plan.params):
            ref = copy.deepcopy(model).eval().requires_grad_(False)
        aux = (
            load_model(plan.aux_path, device=device, dtype=dtype).eval().requires_grad_(False)
            if plan.aux_path
            else None
        )
        if cfg.gradient_checkpointing:
            enable_gradient_checkpointing(model)
        if cfg.lora is not None:  # after the reference copy: the reference stays the plain model
            model = apply_lora(model, cfg.lora)
        ctx = MethodContext(
            device=device,
            reference_model=ref,
            aux_model=aux,
            hidden_size=model.config.hidden_size,
            num_layers=getattr(model.config, "num_hidden_layers", 0),
            total_steps=plan.total_steps,
            seed=cfg.seed,
        )
        method = plan.method_cls(plan.params, ctx)
        model.train()
        if hasattr(model, "config"):
            model.config.use_cache = False
        return Loaded(model, tokenizer, method, device, n_params, threads)

    def _run(self, status: StatusWriter | QuietStatus) -> dict:
        cfg, t, plan = self.config, self.config.train, self.plan
        total = plan.total_steps
        hf_logging.disable_progress_bar()  # "Writing model shards" bars would bury our own
        set_seed(cfg.seed)
        run = self._load()
        model, method, device = run.model, run.method, run.device
        ranks, writes = self.ranks, self.ranks.writes
        if ranks.several:
            distributed.start(ranks, device)
            # rank 0 decided (claim_directory) whether there is a state to resume from
            self.resume = bool(distributed.from_rank0(self.resume))
            self.out = Path(
                str(distributed.from_rank0(str(self.out)))
            )  # a default --out has a time
            distributed.broadcast_parameters(p for p in model.parameters() if p.requires_grad)

        forget = [encode_example(run.tokenizer, p) for p in plan.bench.pairs(plan.split)]
        retain: list[EncodedPair] = [
            encode_pair(run.tokenizer, p.question, p.answer)
            for p in plan.bench.pairs(plan.retain_split)
        ]
        if not forget:
            raise RunError(f"forget split {plan.split} is empty")
        recorded = self._recorded(forget)
        pad = run.tokenizer.pad_token_id

        if writes:
            self._write_config(run, method.resolved())
        if writes and not self.resume:
            write_jsonl(
                self.out / EXAMPLES,
                [
                    {
                        "example_id": e.pair.id,
                        "question": e.pair.question,
                        "answer": e.pair.answer,
                        "spans": None
                        if e.pair.spans is None
                        else [[s.start, s.end, s.label] for s in e.pair.spans],
                    }
                    for e in recorded
                ],
            )

        opt = torch.optim.AdamW(
            [p for p in model.parameters() if p.requires_grad], lr=t.lr, weight_decay=t.weight_decay
        )
        sched = get_scheduler(
            t.schedule, opt, num_warmup_steps=t.warmup_steps, num_training_steps=total
        )
        # N processes draw the batches one process with N times the batch would draw, and each
        # takes its share of every batch (distributed.shard)
        forget_stream = BatchStream(len(forget), t.forget_batch_size * ranks.world, cfg.seed)
        retain_stream = (
            BatchStream(len(retain), t.retain_batch_size * ranks.world, cfg.seed + 1)
            if retain
            else None
        )
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if device.type == "cuda"
            else contextlib.nullcontext()
        )

        evaluator = (
            self.evaluator_factory(self, run.tokenizer, device)
            if (self.evaluator_factory and cfg.evaluate and writes)
            else None
        )
        weight_frames: list[pd.DataFrame] = []
        start_step = 0
        pressure = PressureTally()
        if self.resume:
            start_step, extra = load_state(
                self.out,
                model,
                opt,
                sched,
                method,
                device,
                lora=cfg.lora is not None,
                truncate=writes,
            )
            pressure = PressureTally.from_state(extra.get("pressure"))
            weight_frames = [self._existing_weights(start_step)] if writes else []
        elif writes:
            for name in (TRAIN_LOG, EVAL_LOG):
                (self.out / name).unlink(missing_ok=True)
        status.update(
            state="running",
            message=f"training on {device.type}",
            step=start_step,
            started_at=status.status.get("started_at") or utc_now(),
            pid=os.getpid(),
        )

        def checkpoint(step: int) -> None:
            trainable = [p for p in model.parameters() if p.requires_grad]
            if ranks.several and sum(p.numel() for p in trainable) <= REPLICA_CHECK_MAX:
                # the model too is one replica on every rank (hashing a large one would cost
                # more than the check is worth)
                self._check_replicas(trainable, "model", step)
            if not writes:
                return
            model.eval()
            with autocast:
                frame = self._record_weights(model, method, recorded, pad, step, device)
            weight_frames.append(frame)
            write_weights(self.out, pd.concat(weight_frames, ignore_index=True))
            if evaluator is not None:
                full = (not cfg.quick) or step in (0, total)
                status.update(message=f"evaluating step {step}")
                evaluator.evaluate(
                    model, step, frame, full=full, extra=self._loop_metrics(method, pressure)
                )
            if step > 0:
                save_state(
                    self.out,
                    model,
                    opt,
                    sched,
                    method,
                    step,
                    extra={"pressure": pressure.state_dict()},
                )
            model.train()

        if start_step == 0:
            checkpoint(0)
        bar = tqdm(
            total=total,
            initial=start_step,
            desc=f"{cfg.method}",
            unit="step",
            disable=(None if self.progress is None else not self.progress) if writes else True,
        )
        started = time.time()
        last_good = start_step
        for step in range(start_step + 1, total + 1):
            step_start = time.perf_counter()
            fb = forget_batch(
                [forget[i] for i in distributed.shard(forget_stream.indices(step - 1), ranks)],
                pad,
            ).to(device)
            rb = (
                collate(
                    [retain[i] for i in distributed.shard(retain_stream.indices(step - 1), ranks)],
                    pad,
                ).to(device)
                if retain_stream and method.uses_retain
                else None
            )
            with autocast, distributed.pooling():
                out = method.compute(model, fb, rb, step - 1)
            if not torch.isfinite(out.loss):
                raise Diverged(
                    f"diverged at step {step} (loss {float(out.loss.detach())}); "
                    f"results up to step {last_good} are kept"
                )
            with distributed.pooling():
                if out.pressure is not None and fb.token_labels is not None:
                    pressure.add(out.pressure, fb.token_labels)
                opt.zero_grad(set_to_none=True)
                out.loss.backward()
                distributed.sum_gradients(model.parameters())
            grad_norm = (
                torch.nn.utils.clip_grad_norm_(model.parameters(), t.max_grad_norm)
                if t.max_grad_norm > 0
                else torch.tensor(0.0)
            )
            if not torch.isfinite(grad_norm):
                raise Diverged(
                    f"diverged at step {step} (gradient norm {float(grad_norm)}); "
                    f"results up to step {last_good} are kept"
                )
            opt.step()
            sched.step()
            record = {
                "step": step,
                "loss": float(out.loss.detach()),
                **out.logs,
                "lr": sched.get_last_lr()[0],
                "grad_norm": float(grad_norm),
                "step_seconds": round(time.perf_counter() - step_start, 5),
                "seconds": round(time.time() - started, 3),
            }
            if ranks.several:
                record["scorer_digests"] = self._check_replicas(
                    method.replicated_tensors(), "method", step
                )
            if writes:
                append_jsonl(self.out / TRAIN_LOG, record)
            bar.update(1)
            bar.set_postfix(loss=f"{record['loss']:.3f}")
            status.update(step=step, message=f"training on {device.type}")
            if step in plan.checkpoint_steps:
                checkpoint(step)
                last_good = step
        bar.close()
        if writes:
            method.save_artifacts(self.out)
            self._save_model(run, status)
        return {
            "message": f"finished {total} steps in {time.time() - started:.1f} s",
            "steps": total,
        }

    # ------------------------------------------------------------------------------------------
    @staticmethod
    def _check_replicas(tensors, what: str, step: int) -> list[str]:
        """Every rank's digest of its replica (short); a difference stops the run."""
        found = distributed.digests(tensors)
        if len(set(found)) > 1:
            raise RunError(
                f"the processes' {what} replicas differ after step {step} (digests "
                f"{', '.join(d[:12] for d in found)}): a data-parallel bug, please report it"
            )
        return [d[:16] for d in found]

    def _save_model(self, run: Loaded, status: StatusWriter | QuietStatus) -> None:
        cfg = self.config
        save = (
            cfg.save_model
            if cfg.save_model is not None
            else (cfg.lora is not None or run.n_params < SAVE_MODEL_BELOW)
        )  # LoRA: the (small) adapter
        if not save:
            return
        status.update(message="saving model")
        tmp, final, old = self.out / ".model.partial", self.out / MODEL_DIR, self.out / ".model.old"
        shutil.rmtree(tmp, ignore_errors=True)
        run.model.save_pretrained(tmp)
        run.tokenizer.save_pretrained(tmp)
        # never a moment without a complete model on disk, at one of the two names (a kill
        # here is resumed: the state at the last step saves the model again)
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def _loop_metrics(method: Method, pressure: PressureTally) -> dict[str, Any]:
        """What the loop itself measures for the checkpoint's eval record: the pressure share
        accumulated so far (null, with the reason, when the method has no per-token pressure)."""
        if method.no_pressure_reason is not None:
            return {"pressure_share": None, "notes": {"pressure_share": method.no_pressure_reason}}
        if pressure.share is None:
            return {
                "pressure_share": None,
                "notes": {"pressure_share": "no push yet (step 0), or no labelled answer token"},
            }
        return {"pressure_share": pressure.share}

    def _recorded(self, forget: list[Example]) -> list[Example]:
        n = self.config.train.record_examples
        if len(forget) <= n:
            return forget
        idx = sorted(random.Random(f"record:{self.config.seed}").sample(range(len(forget)), n))
        return [forget[i] for i in idx]

    @torch.no_grad()
    def _record_weights(
        self,
        model,
        method,
        recorded: list[Example],
        pad: int,
        step: int,
        device: torch.device,
        batch_size: int = 64,
    ) -> pd.DataFrame:
        cols: dict[str, list] = {c: [] for c in WEIGHT_COLUMNS}
        for lo in range(0, len(recorded), batch_size):
            chunk = recorded[lo : lo + batch_size]
            weights, _, channels = method.recorded_tokens(
                model, forget_batch(chunk, pad).to(device)
            )
            weights = weights.float().cpu().numpy()
            extra = {k: v.float().cpu().numpy() for k, v in channels.items()}
            for i, e in enumerate(chunk):
                start = e.prompt_len - 1
                w = weights[i, start : start + len(e.labels)]
                n = len(e.labels)
                for name, values in extra.items():
                    cols.setdefault(name, []).extend(values[i, start : start + n].tolist())
                cols["step"] += [step] * n
                cols["example_id"] += [e.pair.id] * n
                cols["position"] += list(range(n))
                cols["token"] += e.tokens
                cols["char_start"] += [o[0] for o in e.offsets]
                cols["char_end"] += [o[1] for o in e.offsets]
                cols["weight"] += w.tolist()
                cols["label"] += e.labels
                cols["span_kind"] += e.kinds
        frame = pd.DataFrame(cols)
        return frame.astype(
            {
                "step": "int64",
                "position": "int64",
                "char_start": "int64",
                "char_end": "int64",
                "weight": "float64",
                "label": "int64",
                **{name: "float64" for name in cols if name not in WEIGHT_COLUMNS},
            }
        )

    def _write_config(self, run: Loaded, method_resolved: dict) -> None:
        plan = self.plan
        data = self.config.to_json()
        data["params"] = {**vars(plan.params)}
        data["schema_version"] = SCHEMA_VERSION
        data["created_at"] = utc_now()
        data["resolved"] = {
            "benchmark": str(plan.bench.root),
            "split": plan.split,
            "retain_split": plan.retain_split,
            "retain_heldout": plan.bench.retain_heldout_for(plan.split),
            "model": plan.model_path,
            "aux_model": plan.aux_path,
            "device": str(run.device),
            "parameters": run.n_params,
            "threads": run.threads or torch.get_num_threads(),
            "total_steps": plan.total_steps,
            "checkpoint_every": plan.checkpoint_every,
            "method": method_resolved,
        }
        data["versions"] = _versions()
        atomic_write_json(self.out / CONFIG, data)

    def _existing_weights(self, step: int) -> pd.DataFrame:
        frame = read_weights(self.out)
        return frame[frame["step"] <= step] if len(frame) else frame


def _record_failure(status: StatusWriter, cause: str) -> None:
    """Status "failed" with its cause; where even that cannot be written (the disk still full),
    say so on stderr: the stopped heartbeat then shows the run as failed in the run list."""
    try:
        status.update(state="failed", message=cause, ended_at=utc_now())
    except OSError as exc:
        print(
            f"error: {status.path}: could not record that the run failed ({exc.strerror or exc})",
            file=sys.stderr,
        )


def _raise_cancelled(signum, frame) -> None:
    raise Cancelled()


def _raise_stopped(signum, frame) -> None:
    # a multi-process launcher sends SIGTERM to every process once one of them has failed
    raise distributed.PeerLost(
        "stopped by SIGTERM: in a multi-process run the launcher sends it to every process when "
        "one of them fails (see the launcher's output) or when the launcher itself is stopped; "
        "results up to the last checkpoint are kept (--resume continues)"
    )


class QuietStatus:
    """The status writer's interface for ranks that write nothing."""

    def __init__(self, total_steps: int):
        self.status: dict[str, Any] = {"step": 0, "total_steps": total_steps}

    def update(self, **fields: Any) -> None:
        self.status.update(fields)

    def start_heartbeat(self) -> None:
        pass

    def stop_heartbeat(self) -> None:
        pass
