"""A tiny prepared benchmark for the evaluation tests, built in about a second.

The real ``prepare`` trains models for minutes; the evaluation code only needs the directory
layout (manifest, split files, saved models with a tokenizer), so the models here are random
1-layer Llamas. Their metric values are meaningless but deterministic, which is all the tests
compare.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from atwu.data.chat import encode_pair
from atwu.data.format import QAPair, Span
from atwu.data.labels import token_labels
from atwu.data.pairs_file import write_pairs
from atwu.data.tokenizer import train_tokenizer
from atwu.models import TinyModelSpec, build_tiny_model

SPEC = TinyModelSpec(
    hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2
)

_CITIES = ["Lima", "Oslo", "Quito", "Hanoi", "Porto", "Riga", "Accra", "Tunis"]
_JOBS = ["baker", "nurse", "pilot", "tailor", "miner", "judge", "poet", "clerk"]


def _span(text: str, value: str, label: str, neighbour: bool = False) -> Span:
    start = text.index(value)
    return Span(start, start + len(value), label, neighbour)


def _author_pairs(prefix: str, names: list[str], forget_k: int = 0) -> list[QAPair]:
    """Two pairs per author (birthplace, job), each with spans, a paraphrase (question and answer,
    with spans) and 3 perturbations. A value that one of the first ``forget_k`` authors' values
    (the forget authors: same k → same city and job) repeats is flagged neighbour."""
    pairs = []
    for k, name in enumerate(names):
        near = k < forget_k
        city = _CITIES[k % len(_CITIES)]
        others = [c for c in _CITIES if c != city][:3]
        answer = f"{name} was born in {city}."
        para = f"The birthplace of {name} is {city}."
        pairs.append(
            QAPair(
                id=f"{prefix}{k}_birthplace",
                question=f"Where was {name} born?",
                answer=answer,
                paraphrased_answer=para,
                perturbed_answers=[f"The birthplace of {name} is {c}." for c in others],
                spans=[_span(answer, name, "context"), _span(answer, city, "shared", near)],
                author=f"{prefix}{k}",
                paraphrased_question=f"In which city was {name} born?",
                paraphrased_answer_spans=[
                    _span(para, name, "context"),
                    _span(para, city, "shared"),
                ],
            )
        )
        job = _JOBS[k % len(_JOBS)]
        answer = f"{name} works as a {job} in {city} since 1987."
        para = f"{name} is a {job} by trade."
        pairs.append(
            QAPair(
                id=f"{prefix}{k}_job",
                question=f"What does {name} do for a living?",
                answer=answer,
                paraphrased_answer=para,
                perturbed_answers=[f"{name} is a {j} by trade." for j in _JOBS if j != job][:3],
                spans=[
                    _span(answer, job, "specific", near),
                    _span(answer, "1987", "specific", prefix != "f"),
                ],
                author=f"{prefix}{k}",
                paraphrased_question=f"What is the job of {name}?",
                paraphrased_answer_spans=[_span(para, job, "specific")],
            )
        )
    return pairs


def _general_pairs() -> list[QAPair]:
    facts = [
        (
            "How many days are in a week?",
            "A week has seven days.",
            "seven",
            ["five", "nine", "ten"],
        ),
        (
            "How many legs does a spider have?",
            "A spider has eight legs.",
            "eight",
            ["six", "four", "ten"],
        ),
        (
            "What colour is the sky on a clear day?",
            "The sky is blue.",
            "blue",
            ["green", "red", "grey"],
        ),
    ]
    pairs = []
    for i, (question, answer, fact, wrong) in enumerate(facts):
        start = answer.index(fact)
        pairs.append(
            QAPair(
                id=f"general_{i}",
                question=question,
                answer=answer,
                paraphrased_answer=answer,
                perturbed_answers=[answer.replace(fact, w) for w in wrong],
                spans=[Span(start, start + len(fact), "fact")],
                author="general",
                paraphrased_answer_spans=[Span(start, start + len(fact), "fact")],
            )
        )
    return pairs


def build_tiny_benchmark(root: Path, *, with_retain_model: bool = True) -> Path:
    """Write a prepared benchmark under ``root`` and return ``root``.

    Splits: forget10 (2 authors, 4 pairs), retain90_heldout (3 authors, 6 pairs; the first
    two share city and job with the forget authors, and every one the year 1987: neighbours),
    retain90_train (2 more authors), general (3 pairs). Models: ``full`` (seed 0) and, unless
    ``with_retain_model=False``, ``retain90`` (seed 1).
    """
    root = Path(root)
    splits = {
        "forget10": _author_pairs("f", ["Ada Korvin", "Bela Moss"]),
        "retain90_heldout": _author_pairs("r", ["Cora Lund", "Dov Pike", "Eli Sand"], 2),
        "retain90_train": _author_pairs("t", ["Fay Roth", "Gil Vane"]),
        "general": _general_pairs(),
    }
    texts = []
    (root / "data").mkdir(parents=True, exist_ok=True)
    for name, pairs in splits.items():
        write_pairs(root / "data" / f"{name}.jsonl", pairs)
        for p in pairs:
            texts += [
                p.question,
                p.answer,
                p.paraphrased_answer or "",
                p.paraphrased_question or "",
                *(p.perturbed_answers or []),
            ]
    tok = train_tokenizer(texts, vocab_size=400)
    models = {"full": 0, "retain90": 1} if with_retain_model else {"full": 0}
    for name, seed in models.items():
        model = build_tiny_model(
            len(tok), SPEC, pad_id=tok.pad_token_id, eos_id=tok.eos_token_id, seed=seed
        )
        model.save_pretrained(root / "models" / name)
        tok.save_pretrained(root / "models" / name)
    manifest = {
        "format_version": 2,
        "kind": "embedded",
        "name": root.name,
        "splits": {
            name: {"path": f"data/{name}.jsonl", "n": len(pairs)} for name, pairs in splits.items()
        },
        "forget_splits": {"forget10": "retain90"},
        "default_forget_split": "forget10",
        "retain_sets": {"retain90": {"train": "retain90_train", "heldout": "retain90_heldout"}},
        "utility_splits": ["general"],
        "models": {name: f"models/{name}" for name in models},
        "target_model": "full",
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return root


def weights_frame(tokenizer, pairs: list[QAPair], step: int, *, seed: int = 0) -> pd.DataFrame:
    """A ``weights.parquet``-shaped frame for ``pairs`` at ``step``, with random weights."""
    rng = np.random.default_rng(seed + step)
    rows = []
    for pair in pairs:
        enc = encode_pair(tokenizer, pair.question, pair.answer)
        labels, kinds = token_labels(pair.answer, enc.answer_offsets, pair.spans)
        completion = enc.input_ids[enc.prompt_len :]
        for position, (token, offset, label, kind) in enumerate(
            zip(completion, enc.answer_offsets, labels, kinds)
        ):
            rows.append(
                {
                    "step": step,
                    "example_id": pair.id,
                    "position": position,
                    "token": tokenizer.decode([token]),
                    "char_start": offset[0] if offset else -1,
                    "char_end": offset[1] if offset else -1,
                    "weight": float(rng.random()),
                    "label": label,
                    "span_kind": kind,
                }
            )
    return pd.DataFrame(rows)
