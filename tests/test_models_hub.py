"""Any causal LM as the starting model: chat templates or none, remote code, dtype, LoRA,
gradient checkpointing. Tiny random Llamas with locally trained tokenizers stand in for hub
models (``tests/fixtures/tiny_llama.py``); no hub id is ever contacted (HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from atwu.data.chat import PLAIN_PROMPT, encode_pair, has_chat_template, prompt_text
from atwu.data.spans_rules import SpanRuleWarning
from atwu.models import (
    apply_lora,
    enable_gradient_checkpointing,
    load_model,
    load_tokenizer,
    parse_dtype,
)
from atwu.runs.read import read_train_log

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOFU = FIXTURES / "tofu"
sys.path.insert(0, str(FIXTURES))
from tiny_llama import build_tiny_llama  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "llama3": build_tiny_llama(root / "llama3", chat_template="llama3"),
        "plain": build_tiny_llama(root / "plain", chat_template=None, seed=1),
    }


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ATWU_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _run(args: list[str]) -> int:
    from atwu.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpanRuleWarning)
        return main(["run", "--benchmark", "tofu", "--data-dir", str(TOFU), "--no-eval", *args])


def test_llama3_like_chat_template_masks_the_prompt(models):
    tok = load_tokenizer(models["llama3"])
    assert has_chat_template(tok)
    prompt = prompt_text(tok, "Where was Ada born?")
    assert prompt.startswith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>")
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    enc = encode_pair(tok, "Where was Ada born?", "Ada was born in Oslo.")
    completion = enc.input_ids[enc.prompt_len :]
    assert tok.decode(completion) == "Ada was born in Oslo.<|eot_id|>"
    assert enc.answer_offsets[-1] is None  # the end-of-turn token is not answer text
    assert tok.decode(enc.input_ids[: enc.prompt_len]) == prompt


def test_no_chat_template_falls_back_to_plain_format_with_a_notice(models, home, tmp_path, capsys):
    tok = load_tokenizer(models["plain"])
    assert not has_chat_template(tok)
    assert prompt_text(tok, "Q?") == PLAIN_PROMPT.format(question="Q?")
    code = _run(
        [
            "--method",
            "ga",
            "--model",
            str(models["plain"]),
            "--steps",
            "2",
            "--out",
            f"{tmp_path}/run",
        ]
    )
    assert code == 0
    # the CLI prints the project's warnings as one line each, naming the model
    notice = [line for line in capsys.readouterr().err.splitlines() if "no chat template" in line]
    assert len(notice) == 1 and notice[0].startswith(f"warning: {models['plain']} has no chat")
    assert "using the plain format" in notice[0]


def test_model_needing_remote_code_is_refused_clearly(models, tmp_path, home, capsys):
    custom = tmp_path / "custom"
    shutil.copytree(models["llama3"], custom)
    config = json.loads((custom / "config.json").read_text())
    config.update(
        model_type="tinycustom",
        architectures=["TinyForCausalLM"],
        auto_map={
            "AutoConfig": "configuration_tiny.TinyConfig",
            "AutoModelForCausalLM": "modeling_tiny.TinyForCausalLM",
        },
    )
    (custom / "config.json").write_text(json.dumps(config))
    (custom / "configuration_tiny.py").write_text("raise RuntimeError('remote code ran')\n")
    with pytest.raises(
        ValueError, match="needs custom code from its repository; rerun with --trust-remote-code"
    ):
        load_model(custom)
    assert (
        _run(
            [
                "--method",
                "ga",
                "--model",
                str(custom),
                "--steps",
                "1",
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 2
    )
    assert "--trust-remote-code if you trust it" in capsys.readouterr().err


def test_dtype(models):
    assert parse_dtype(None) is None and parse_dtype("bfloat16") is torch.bfloat16
    with pytest.raises(ValueError, match="choose from float32, bfloat16, float16"):
        parse_dtype("int8")
    model = load_model(models["llama3"], dtype=torch.bfloat16)
    assert next(model.parameters()).dtype is torch.bfloat16


def test_gradient_checkpointing_is_switched_on(models):
    model = load_model(models["llama3"])
    enable_gradient_checkpointing(model)
    assert model.is_activation_checkpointing and model.config.use_cache is False
    model.train()
    ids = torch.tensor([[1, 2, 3, 4]])
    model(input_ids=ids, labels=ids).loss.backward()  # still trains
    assert model.model.embed_tokens.weight.grad is not None


def test_lora_wraps_only_adapters_trainable(models):
    model = apply_lora(load_model(models["llama3"]), {"r": 2, "target_modules": "q_proj,v_proj"})
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert any("q_proj" in n for n in trainable) and not any("o_proj" in n for n in trainable)
    with pytest.raises(ValueError, match="unknown LoRA option"):
        apply_lora(load_model(models["llama3"]), {"rank": 2})


def test_lora_run_saves_an_adapter_and_resumes(models, home, tmp_path):
    out = tmp_path / "lora"
    base = models["llama3"]
    assert (
        _run(
            [
                "--method",
                "npo",
                "--model",
                str(base),
                "--lora",
                "--lora-r",
                "4",
                "--gradient-checkpointing",
                "--dtype",
                "float32",
                "--steps",
                "2",
                "--checkpoint-every",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    saved = out / "model"
    assert (saved / "adapter_config.json").is_file()
    assert not (saved / "model.safetensors").exists()  # the adapter only
    adapter = load_file(str(saved / "adapter_model.safetensors"))
    assert adapter and all("lora_" in k for k in adapter)
    assert json.loads((saved / "adapter_config.json").read_text())["r"] == 4
    config = json.loads((out / "config.json").read_text())
    assert config["lora"]["r"] == 4 and config["lora"]["target_modules"] == "all-linear"
    assert config["gradient_checkpointing"] is True

    merged, original = load_model(saved), load_model(base)  # base + adapter, merged
    assert type(merged).__name__ == "LlamaForCausalLM"
    diffs = [(a - b).abs().max().item() for a, b in zip(merged.parameters(), original.parameters())]
    assert max(diffs) > 0

    from atwu.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpanRuleWarning)
        assert main(["run", "--resume", "--out", str(out), "--steps", "4"]) == 0
    assert list(read_train_log(out)["step"]) == [1, 2, 3, 4]


def test_lora_options_need_lora(home, models, capsys):
    assert _run(["--method", "ga", "--model", str(models["llama3"]), "--lora-r", "4"]) == 2
    assert "need --lora" in capsys.readouterr().err
