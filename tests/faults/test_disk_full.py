"""A full disk while a checkpoint's state is saved: the error names the run's state folder and
the cause, the run's status says "failed" with that cause, no half-written ``.state.partial`` is
left, and the previous state (what --resume continues from) is untouched."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
import torch

from atwu import cli
from atwu.runs.read import read_run
from atwu.train.state import COMPLETE, OLD, PARTIAL, StateNotSaved, find_state, save_state


class FakeModel:
    def save_pretrained(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"weights")


class FakePart:
    def state_dict(self) -> dict:
        return {}


def save(out: Path, step: int) -> None:
    save_state(out, FakeModel(), FakePart(), FakePart(), FakePart(), step)


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_at_the_first_checkpoint_names_the_state_folder_and_leaves_nothing(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(StateNotSaved) as caught:
        save(tmp_path, 2)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'state'}: could not save the state of step 2")
    assert "the disk is full" in message and "--resume starts the run over" in message
    assert caught.value.errno == errno.ENOSPC
    assert not (tmp_path / PARTIAL).exists() and not (tmp_path / "state").exists()


def test_a_full_disk_at_a_later_checkpoint_keeps_the_previous_state_for_resume(
    tmp_path, monkeypatch
):
    save(tmp_path, 2)
    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(StateNotSaved, match="--resume continues from the state of step 2"):
        save(tmp_path, 4)
    assert find_state(tmp_path) == tmp_path / "state"
    assert json.loads((tmp_path / "state" / COMPLETE).read_text()) == {"step": 2}
    assert not (tmp_path / PARTIAL).exists() and not (tmp_path / OLD).exists()


def test_a_torch_writer_error_is_reported_the_same_way(tmp_path, monkeypatch):
    def stream_failed(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos 64")

    monkeypatch.setattr(torch, "save", stream_failed)
    with pytest.raises(StateNotSaved, match="unexpected pos 64"):
        save(tmp_path, 2)
    assert not (tmp_path / PARTIAL).exists()


@pytest.mark.slow
def test_a_run_whose_disk_fills_at_its_first_checkpoint_is_failed_with_the_cause(
    small_benchmark, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(torch, "save", disk_full)
    out = tmp_path / "run"
    argv = ["run", "--method", "graddiff", "--steps", "4", "--checkpoint-every", "2"]
    rc = cli.main([*argv, "--no-eval", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{out / 'state'}: could not save the state of step 2 (the disk is full)" in err
    info = read_run(out)
    assert info.state == "failed" and "the disk is full" in info.status["message"]
    assert str(out / "state") in info.status["message"]
    assert not (out / PARTIAL).exists()
