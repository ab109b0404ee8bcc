"""The run directory: the contract between the engine (writer) and the app (reader).

    config.json            everything needed to reproduce (schema_version, method, params, data,
                           model, training settings, seed, tags) and what was resolved from it
    status.json            state (queued | running | done | failed | cancelled), message, pid,
                           started_at, ended_at, heartbeat_at (UTC ISO 8601), step, total_steps
    train_log.jsonl        one line per optimiser step: step, loss, the method's logs, lr, seconds
    examples.jsonl         the recorded forget examples: example_id, question, answer, spans
    weights.parquet        per checkpoint × recorded example × answer token: step, example_id,
                           position, token, char_start, char_end, weight, label, span_kind
    eval.jsonl             one line per evaluated checkpoint (atwu.evaluate.checkpoint)
    eval_examples.parquet  one row per (step, split, example)
    scorer.safetensors     ATWU's final learned scorer
    model/                 the final model (--save-model; default on under 100M parameters)
    state/                 the latest resumable state (replaced at each checkpoint)

Every file is written atomically (atwu.io). Readers are in :mod:`atwu.runs.read`, the live status
in :mod:`atwu.runs.status`.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
STATES = ("queued", "running", "done", "failed", "cancelled")

CONFIG = "config.json"
STATUS = "status.json"
TRAIN_LOG = "train_log.jsonl"
OLD_TRAIN_LOG = "metrics.jsonl"  # its name before schema 1.1; still read
EXAMPLES = "examples.jsonl"
WEIGHTS = "weights.parquet"
EVAL_LOG = "eval.jsonl"
EVAL_EXAMPLES = "eval_examples.parquet"
SCORER = "scorer.safetensors"
SUPPORT = "support.safetensors"  # the support bank (and contrast head) of a run that kept one
MODEL_DIR = "model"
STATE_DIR = "state"

WEIGHT_COLUMNS = [
    "step",
    "example_id",
    "position",
    "token",
    "char_start",
    "char_end",
    "weight",
    "label",
    "span_kind",
]
#: per-token signals a method may record beside the weights (:meth:`Method.recorded_tokens`),
#: present in ``weights.parquet`` only for methods that have them: ``support`` is the retain
#: support S_t (METHOD.md §1) of ATWU with its support bank on and of ``static_support``
CHANNEL_COLUMNS = ["support"]
