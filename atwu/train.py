"""The one unlearning loop for every method, writing a run directory (see :mod:`atwu.runs`).

    python -m atwu run --method atwu            # embedded forget10, defaults, under $ATWU_HOME/runs

Per step: a forget batch and a retain batch, the method's loss, AdamW with warm-up and schedule,
gradient clipping. At every checkpoint (step 0 included): record the recorded examples' token
weights, evaluate, and replace the resumable state. CUDA with bf16 autocast when present, CPU
float32 otherwise.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import random
import shutil
import signal
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

from atwu.benchmark import Benchmark
from atwu.config import CHECKPOINTS_PER_RUN, EMBEDDED, RunConfig
from atwu.data.batching import collate
from atwu.data.chat import encode_pair, warn_if_plain
from atwu.data.format import QAPair
from atwu.data.labels import token_labels
from atwu.io import append_jsonl, atomic_write_json, write_jsonl
from atwu.methods.base import ForgetBatch, MethodContext
from atwu.methods.registry import build_params, get_method
from atwu.models import (
    apply_lora, count_parameters, enable_gradient_checkpointing, load_model, load_tokenizer,
    parse_dtype, resolve_device,
)
from atwu.paths import default_benchmark_dir
from atwu.runs import SCHEMA_VERSION, WEIGHT_COLUMNS, StatusWriter, utc_now, write_weights

SAVE_MODEL_BELOW = 100_000_000
TINY_MODEL_PARAMS = 5_000_000


class RunError(ValueError):
    """Bad input found before training starts (exit code 2, no run directory claiming success)."""


class Cancelled(Exception):
    pass


class Diverged(Exception):
    pass


@dataclass
class Example:
    """A forget pair encoded once: ids, per-token labels, and the static columns of its weight rows."""

    pair: QAPair
    input_ids: list[int]
    prompt_len: int
    labels: list[int]               # per completion token
    kinds: list[str | None]
    tokens: list[str]
    offsets: list[tuple[int, int]]


REAL_BENCHMARKS = ("tofu", "rwku")


def resolve_benchmark(name: str, options: dict | None = None, *,
                      split: str | None = None) -> Benchmark:
    """``embedded``, a prepared benchmark directory, or ``tofu`` / ``rwku``: the hub dataset (or
    ``options["data_dir"]``) converted on first use under ``$ATWU_HOME/benchmarks`` (see
    :mod:`atwu.data.tofu`, :mod:`atwu.data.rwku`); ``options`` are ``RunConfig.benchmark_options``.
    """
    options = {k: v for k, v in (options or {}).items() if v not in (None, "", False)}
    if name in REAL_BENCHMARKS:
        try:
            if name == "tofu":
                from atwu.data.tofu import TofuOptions, ensure_tofu
                return Benchmark.load(ensure_tofu(TofuOptions.from_dict(options, split)))
            from atwu.data.rwku import RwkuOptions, ensure_rwku
            return Benchmark.load(ensure_rwku(RwkuOptions.from_dict(options)))
        except ValueError as exc:
            raise RunError(str(exc)) from exc
    if options:
        raise RunError(f"{', '.join(sorted(options))}: only for --benchmark tofu or rwku")
    path = default_benchmark_dir() if name == EMBEDDED else Path(name).expanduser()
    if name == EMBEDDED and not (path / "manifest.json").is_file():
        raise RunError(f"the embedded benchmark is not prepared yet at {path}; "
                       "run `python -m atwu prepare` first")
    try:
        return Benchmark.load(path)
    except ValueError as exc:
        raise RunError(str(exc)) from exc


def encode_example(tokenizer, pair: QAPair) -> Example:
    enc = encode_pair(tokenizer, pair.question, pair.answer)
    labels, kinds = token_labels(pair.answer, enc.answer_offsets, pair.spans)
    completion = enc.input_ids[enc.prompt_len:]
    tokens, offsets = [], []
    for tid, off in zip(completion, enc.answer_offsets):
        if off is None:
            tokens.append(tokenizer.convert_ids_to_tokens(tid))
            offsets.append((-1, -1))
        else:
            tokens.append(pair.answer[off[0]:off[1]])
            offsets.append(off)
    return Example(pair, enc.input_ids, enc.prompt_len, labels, kinds, tokens, offsets)


def forget_batch(examples: list[Example], pad_id: int) -> ForgetBatch:
    """Collate and add per-target token labels aligned with ``logits[:, :-1]``."""
    from atwu.data.chat import EncodedPair
    base = collate([EncodedPair(e.input_ids, e.prompt_len, []) for e in examples], pad_id)
    labels = torch.full((len(examples), base.input_ids.shape[1] - 1), -1, dtype=torch.long)
    for i, e in enumerate(examples):
        # completion token j sits at input position prompt_len + j, i.e. target index prompt_len + j - 1
        start = e.prompt_len - 1
        labels[i, start:start + len(e.labels)] = torch.tensor(e.labels)
    return ForgetBatch(base.input_ids, base.attention_mask, base.labels, labels)


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
        return order[k * self.batch_size:(k + 1) * self.batch_size]


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _versions() -> dict[str, str]:
    import transformers
    return {"torch": torch.__version__, "transformers": transformers.__version__}


class Trainer:
    def __init__(self, config: RunConfig, out: Path, *, resume: bool = False, overwrite: bool = False,
                 evaluator_factory: Any = None, step0_cache: dict | None = None,
                 progress: bool | None = None):
        self.config, self.out, self.resume, self.overwrite = config, Path(out), resume, overwrite
        self.evaluator_factory = evaluator_factory
        # None: a progress bar only on a terminal (a log file would fill with redrawn bars; the
        # app follows runs through status.json)
        self.progress = progress
        self.method_cls = get_method(config.method)
        self.params = build_params(self.method_cls, config.params)
        self.bench = resolve_benchmark(config.benchmark, config.benchmark_options,
                                       split=config.split)
        self.split = config.split or self.bench.default_forget_split
        self.retain_split = self.bench.retain_for(self.split) if self.split in self.bench.forget_splits \
            else None
        if self.split not in self.bench.splits:
            raise RunError(f"split {self.split!r} is not in {self.bench.root} "
                           f"(forget splits: {', '.join(self.bench.forget_splits)})")
        if self.retain_split is None:
            from atwu.data.embedded import RETAIN_OF
            if self.bench.manifest.get("kind") == "embedded" and self.split in RETAIN_OF:
                raise RunError(self._missing_retain_message(RETAIN_OF[self.split]))
            raise RunError(f"{self.split!r} is not a forget split of {self.bench.root} "
                           f"(forget splits: {', '.join(self.bench.forget_splits)})")
        self.model_path = config.model or str(self.bench.target_model)
        if not config.model and not Path(self.model_path).is_dir():
            raise RunError(f"the benchmark's target model is missing at {self.model_path}")
        # a hub id is "name" or "namespace/name": anything else that is no local directory is a
        # missing path (e.g. runs/x/model), not something to look up on the hub
        if config.model and not Path(config.model).expanduser().is_dir() and (
                config.model.startswith((".", "/", "~")) or config.model.count("/") > 1):
            raise RunError(f"model path {config.model} does not exist")
        self.aux_path = None
        if self.method_cls.needs_aux:
            self.aux_path = config.aux_model or (str(self.bench.model_path(self.bench.manifest["aux_model"]))
                                                 if "aux_model" in self.bench.manifest else None)
            if self.aux_path is None:
                raise RunError("method aux needs an auxiliary model: prepare the benchmark with a "
                               "holdout set or pass --aux-model PATH")
        if self.method_cls.name == "oracle" and any(p.spans is None for p in self.bench.pairs(self.split)):
            raise RunError(f"oracle needs ground-truth spans, and some pairs of {self.split} have none")
        # bad --steps/--epochs/--checkpoint-every: refuse before touching the output directory
        self._checkpoint_every(self._total_steps())
        self._check_out()

    def _missing_retain_message(self, needed: str) -> str:
        """forget05/forget01 on an embedded benchmark prepared without their retain model."""
        from atwu.paths import default_benchmark_dir
        splits = ",".join([needed] + sorted(set(self.bench.forget_splits.values()) - {needed}))
        command = f"python -m atwu prepare --retain-splits {splits}"
        options = self.bench.manifest.get("options", {})
        for flag, key, default in (("--authors", "authors", 200), ("--seed", "seed", 0)):
            if options.get(key, default) != default:
                command += f" {flag} {options[key]}"
        if self.bench.root.resolve() != default_benchmark_dir().resolve():
            command += f" --out {self.bench.root}"
        return (f"{self.split} needs the retain model {needed}, which was not prepared in "
                f"{self.bench.root}; rebuild the benchmark with it: `{command} --overwrite`")

    def _check_out(self) -> None:
        status = self.out / "status.json"
        if self.resume:
            if not (self.out / "state").is_dir():
                raise RunError(f"--resume: {self.out} has no saved state to resume from")
            return
        if self.out.exists() and any(self.out.iterdir()):
            from atwu.io import read_json
            finished = status.is_file() and read_json(status).get("state") == "done"
            if not self.overwrite:
                what = "a finished run" if finished else "files"
                raise RunError(f"{self.out} already holds {what}; pass --overwrite to replace it "
                               "or choose another --out")

    # ------------------------------------------------------------------------------------------
    def run(self) -> dict:
        cfg = self.config
        if not self.resume and self.out.exists():
            shutil.rmtree(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        steps = self._total_steps()
        status = StatusWriter(self.out, steps)
        if self.resume:
            from atwu.io import read_json
            previous = read_json(self.out / "status.json") if (self.out / "status.json").is_file() else {}
            status.status.update({k: previous[k] for k in ("started_at",) if k in previous})
        status.update(state="queued", message="loading model")
        previous_handler = signal.signal(signal.SIGTERM, _raise_cancelled)
        status.start_heartbeat()
        try:
            result = self._run(status, steps)
            status.update(state="done", message=result.get("message", "finished"), ended_at=utc_now())
            return result
        except (Cancelled, KeyboardInterrupt):
            status.update(state="cancelled", message=f"cancelled at step {status.status['step']}",
                          ended_at=utc_now())
            raise
        except Diverged as exc:
            status.update(state="failed", message=str(exc), ended_at=utc_now())
            raise
        except Exception as exc:
            status.update(state="failed", message=f"{type(exc).__name__}: {exc}", ended_at=utc_now())
            raise
        finally:
            status.stop_heartbeat()
            signal.signal(signal.SIGTERM, previous_handler)

    def _total_steps(self) -> int:
        try:
            return self.config.train.total_steps(len(self.bench.pairs(self.split)))
        except ValueError as exc:
            raise RunError(str(exc)) from None

    def _checkpoint_every(self, total: int) -> int:
        every = self.config.train.checkpoint_every
        if every is None:
            return max(1, math.ceil(total / CHECKPOINTS_PER_RUN))
        if every < 1:
            raise RunError("--checkpoint-every must be a positive integer")
        return every

    def _run(self, status: StatusWriter, total: int) -> dict:
        cfg, t = self.config, self.config.train
        hf_logging.disable_progress_bar()  # "Writing model shards" bars would bury our own
        set_seed(cfg.seed)
        device = resolve_device(cfg.device)
        tokenizer = load_tokenizer(self.model_path, trust_remote_code=cfg.trust_remote_code)
        warn_if_plain(tokenizer, self.model_path)
        dtype = parse_dtype(cfg.dtype)
        model = load_model(self.model_path, device=device, dtype=dtype,
                           trust_remote_code=cfg.trust_remote_code)
        n_params = count_parameters(model)
        threads = cfg.threads or (1 if device.type == "cpu" and n_params < TINY_MODEL_PARAMS else None)
        if threads:
            torch.set_num_threads(threads)
        ref = None
        if self.method_cls.requires_reference(self.params):
            ref = copy.deepcopy(model).eval().requires_grad_(False)
        aux = load_model(self.aux_path, device=device, dtype=dtype).eval().requires_grad_(False) \
            if self.aux_path else None
        if cfg.gradient_checkpointing:
            enable_gradient_checkpointing(model)
        if cfg.lora is not None:  # after the reference copy: the reference stays the plain model
            model = apply_lora(model, cfg.lora)
        ctx = MethodContext(device=device, reference_model=ref, aux_model=aux,
                            hidden_size=model.config.hidden_size,
                            num_layers=getattr(model.config, "num_hidden_layers", 0),
                            total_steps=total)
        method = self.method_cls(self.params, ctx)
        model.train()
        if hasattr(model, "config"):
            model.config.use_cache = False

        forget_pairs = self.bench.pairs(self.split)
        retain_pairs = self.bench.pairs(self.retain_split)
        forget = [encode_example(tokenizer, p) for p in forget_pairs]
        retain = [encode_pair(tokenizer, p.question, p.answer) for p in retain_pairs]
        if not forget:
            raise RunError(f"forget split {self.split} is empty")
        recorded = self._recorded(forget)
        pad = tokenizer.pad_token_id

        every = self._checkpoint_every(total)
        self._write_config(device, n_params, threads, total, every, method.resolved())
        if not self.resume:
            write_jsonl(self.out / "examples.jsonl", [
                {"example_id": e.pair.id, "question": e.pair.question, "answer": e.pair.answer,
                 "spans": None if e.pair.spans is None else [[s.start, s.end, s.label] for s in e.pair.spans]}
                for e in recorded])

        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=t.lr,
                                weight_decay=t.weight_decay)
        sched = get_scheduler(t.schedule, opt, num_warmup_steps=t.warmup_steps, num_training_steps=total)
        forget_stream = BatchStream(len(forget), t.forget_batch_size, cfg.seed)
        retain_stream = BatchStream(len(retain), t.retain_batch_size, cfg.seed + 1) if retain else None
        autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                    else contextlib.nullcontext())

        evaluator = self.evaluator_factory(self, tokenizer, device) if (self.evaluator_factory and cfg.evaluate) else None
        weight_frames: list[pd.DataFrame] = []
        start_step = 0
        if self.resume:
            start_step = self._load_state(model, opt, sched, method, device)
            weight_frames = [self._existing_weights(start_step)]
        else:
            for f in ("metrics.jsonl", "eval.jsonl"):
                (self.out / f).unlink(missing_ok=True)
        status.update(state="running", message=f"training on {device.type}", step=start_step,
                      started_at=status.status.get("started_at") or utc_now(), pid=os.getpid())

        def checkpoint(step: int) -> None:
            model.eval()
            with autocast:
                frame = self._record_weights(model, method, recorded, pad, step, device)
            weight_frames.append(frame)
            write_weights(self.out, pd.concat(weight_frames, ignore_index=True))
            if evaluator is not None:
                full = (not cfg.quick) or step in (0, total)
                status.update(message=f"evaluating step {step}")
                evaluator.evaluate(model, step, frame, full=full)
            if step > 0:
                self._save_state(model, opt, sched, method, step)
            model.train()

        if start_step == 0:
            checkpoint(0)
        bar = tqdm(total=total, initial=start_step, desc=f"{cfg.method}", unit="step",
                   disable=None if self.progress is None else not self.progress)
        started = time.time()
        last_good = start_step
        for step in range(start_step + 1, total + 1):
            step_start = time.perf_counter()
            fb = forget_batch([forget[i] for i in forget_stream.indices(step - 1)], pad).to(device)
            rb = collate([retain[i] for i in retain_stream.indices(step - 1)], pad).to(device) \
                if retain_stream and method.uses_retain else None
            with autocast:
                out = method.compute(model, fb, rb, step - 1)
            if not torch.isfinite(out.loss):
                raise Diverged(f"diverged at step {step} (loss {float(out.loss.detach())}); "
                               f"results up to step {last_good} are kept")
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            grad_norm = (torch.nn.utils.clip_grad_norm_(model.parameters(), t.max_grad_norm)
                         if t.max_grad_norm > 0 else torch.tensor(0.0))
            if not torch.isfinite(grad_norm):
                raise Diverged(f"diverged at step {step} (gradient norm {float(grad_norm)}); "
                               f"results up to step {last_good} are kept")
            opt.step()
            sched.step()
            record = {"step": step, "loss": float(out.loss.detach()), **out.logs,
                      "lr": sched.get_last_lr()[0], "grad_norm": float(grad_norm),
                      "step_seconds": round(time.perf_counter() - step_start, 5),
                      "seconds": round(time.time() - started, 3)}
            append_jsonl(self.out / "metrics.jsonl", record)
            bar.update(1)
            bar.set_postfix(loss=f"{record['loss']:.3f}")
            status.update(step=step, message=f"training on {device.type}")
            if step % every == 0 or step == total:
                checkpoint(step)
                last_good = step
        bar.close()
        method.save_artifacts(self.out)
        save = cfg.save_model if cfg.save_model is not None else \
            (cfg.lora is not None or n_params < SAVE_MODEL_BELOW)  # LoRA: the (small) adapter
        if save:
            status.update(message="saving model")
            tmp = self.out / ".model.partial"
            shutil.rmtree(tmp, ignore_errors=True)
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            shutil.rmtree(self.out / "model", ignore_errors=True)
            os.replace(tmp, self.out / "model")
        return {"message": f"finished {total} steps in {time.time() - started:.1f} s", "steps": total}

    # ------------------------------------------------------------------------------------------
    def _recorded(self, forget: list[Example]) -> list[Example]:
        n = self.config.train.record_examples
        if len(forget) <= n:
            return forget
        idx = sorted(random.Random(f"record:{self.config.seed}").sample(range(len(forget)), n))
        return [forget[i] for i in idx]

    @torch.no_grad()
    def _record_weights(self, model, method, recorded: list[Example], pad: int, step: int,
                        device: torch.device, batch_size: int = 64) -> pd.DataFrame:
        cols: dict[str, list] = {c: [] for c in WEIGHT_COLUMNS}
        for lo in range(0, len(recorded), batch_size):
            chunk = recorded[lo:lo + batch_size]
            weights, _ = method.token_weights(model, forget_batch(chunk, pad).to(device))
            weights = weights.float().cpu().numpy()
            for i, e in enumerate(chunk):
                start = e.prompt_len - 1
                w = weights[i, start:start + len(e.labels)]
                n = len(e.labels)
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
        return frame.astype({"step": "int64", "position": "int64", "char_start": "int64",
                             "char_end": "int64", "weight": "float64", "label": "int64"})

    def _write_config(self, device, n_params: int, threads, total: int, every: int,
                      method_resolved: dict) -> None:
        data = self.config.to_json()
        data["params"] = {**vars(self.params)}
        data["schema_version"] = SCHEMA_VERSION
        data["created_at"] = utc_now()
        data["resolved"] = {"benchmark": str(self.bench.root), "split": self.split,
                            "retain_split": self.retain_split, "model": self.model_path,
                            "aux_model": self.aux_path, "device": str(device), "parameters": n_params,
                            "threads": threads or torch.get_num_threads(), "total_steps": total,
                            "checkpoint_every": every, "method": method_resolved}
        data["versions"] = _versions()
        atomic_write_json(self.out / "config.json", data)

    def _save_state(self, model, opt, sched, method, step: int) -> None:
        tmp = self.out / ".state.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        model.save_pretrained(tmp / "model")
        torch.save({"optimiser": opt.state_dict(), "scheduler": sched.state_dict(),
                    "method": method.state_dict(), "step": step,
                    "torch_rng": torch.get_rng_state()}, tmp / "trainer.pt")
        old = self.out / ".state.old"
        shutil.rmtree(old, ignore_errors=True)
        if (self.out / "state").exists():
            os.replace(self.out / "state", old)
        os.replace(tmp, self.out / "state")
        shutil.rmtree(old, ignore_errors=True)

    def _load_state(self, model, opt, sched, method, device) -> int:
        from safetensors.torch import load_file
        state_dir = self.out / "state"
        weights = load_file(str(next((state_dir / "model").glob("*.safetensors"))), device=str(device))
        if self.config.lora is not None:  # the state holds adapter weights under peft's names
            from peft import set_peft_model_state_dict
            set_peft_model_state_dict(model, weights)
        else:
            model.load_state_dict(weights, strict=False)
        # weights_only: our own checkpoint of tensors and plain containers, never arbitrary pickles
        state = torch.load(state_dir / "trainer.pt", map_location=device, weights_only=True)
        opt.load_state_dict(state["optimiser"])
        sched.load_state_dict(state["scheduler"])
        method.load_state_dict(state["method"])
        torch.set_rng_state(state["torch_rng"].cpu())
        self._truncate_logs(state["step"])
        return int(state["step"])

    def _truncate_logs(self, step: int) -> None:
        """Drop what a killed run logged after its last checkpoint, so a resumed run's logs match."""
        from atwu.io import read_jsonl
        for name in ("metrics.jsonl", "eval.jsonl"):
            path = self.out / name
            if path.is_file():
                write_jsonl(path, [r for r in read_jsonl(path) if r.get("step", 0) <= step])

    def _existing_weights(self, step: int) -> pd.DataFrame:
        from atwu.runs import read_weights
        frame = read_weights(self.out)
        return frame[frame["step"] <= step] if len(frame) else frame


def _raise_cancelled(signum, frame) -> None:
    raise Cancelled()
