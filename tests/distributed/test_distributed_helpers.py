"""atwu.distributed: which rank is which, how a batch is split, and (with two real gloo processes)
that a pooled step on half a batch each computes the whole batch's loss and gradient."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from atwu import distributed
from atwu.distributed import Ranks

ROOT = Path(__file__).resolve().parents[2]


def test_ranks_come_from_the_launchers_variables():
    assert distributed.ranks_from_env({}) == Ranks(0, 1, 0)
    two = distributed.ranks_from_env({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})
    assert (two.rank, two.world, two.several, two.writes) == (1, 2, True, False)
    assert distributed.ranks_from_env({"RANK": "0", "WORLD_SIZE": "2"}).writes
    with pytest.raises(ValueError, match="not a rank of WORLD_SIZE 2"):
        distributed.ranks_from_env({"RANK": "2", "WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match="must be integers"):
        distributed.ranks_from_env({"RANK": "x", "WORLD_SIZE": "2"})


def test_shards_are_contiguous_in_rank_order_and_cover_the_batch():
    batch = [10, 11, 12, 13, 14]
    parts = [distributed.shard(batch, Ranks(r, 2)) for r in range(2)]
    assert parts == [[10, 11], [12, 13, 14]]
    assert distributed.shard(batch, Ranks()) == batch  # one process: the whole batch
    thirds = [distributed.shard(list(range(7)), Ranks(r, 3)) for r in range(3)]
    assert thirds == [[0, 1], [2, 3], [4, 5, 6]]


def test_every_rank_needs_an_example_of_every_batch():
    # 20 examples in global batches of 16: 16, then 4
    assert distributed.smallest_batch(20, 16) == 4
    assert distributed.smallest_batch(20, 32) == 20  # a batch larger than the set is the set
    distributed.check_shardable("forget split", 20, 8, Ranks(0, 2))  # 8 × 2: last batch 4 ≥ 2
    with pytest.raises(ValueError, match="last batch of each pass over the 21 examples holds 1"):
        distributed.check_shardable("forget split", 21, 10, Ranks(0, 2))  # 20, then 1
    distributed.check_shardable("forget split", 21, 10, Ranks())  # one process: anything goes


def test_collective_timeout_is_read_from_the_environment():
    assert distributed.timeout_seconds({}) == distributed.DEFAULT_TIMEOUT_S
    assert distributed.timeout_seconds({distributed.TIMEOUT_ENV: "12.5"}) == 12.5
    with pytest.raises(ValueError, match="positive number of seconds"):
        distributed.timeout_seconds({distributed.TIMEOUT_ENV: "0"})


def test_outside_a_process_group_every_helper_returns_its_input():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    with distributed.pooling():  # no process group: nothing to pool over
        assert not distributed.active()
        assert distributed.total(t) is t and distributed.pooled(t) is t
        assert distributed.replicated(t) is t and distributed.gather_rows(t) is t
    assert distributed.digests([t]) == [distributed.digest([t])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # two interpreters loading torch: ~10 s alone, ~30 s on a busy machine
def test_two_processes_on_half_a_batch_compute_the_whole_batchs_loss_and_gradient(tmp_path):
    port = str(free_port())
    procs = []
    for rank in range(2):
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
            "RANK": str(rank),
            "WORLD_SIZE": "2",
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": port,
            distributed.TIMEOUT_ENV: "60",
        }
        worker = Path(__file__).with_name("pool_worker.py")
        procs.append(
            subprocess.Popen(
                [sys.executable, str(worker), str(tmp_path)],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    for r in results:
        # float32 sums in another order: equal to a few ulps
        assert r["loss_diff"] < 1e-6 and r["grad_diff"] < 1e-6, r
        assert r["conflict_diff"] < 1e-5, r
        assert r["rows_equal"] and r["ids"] == [0, 1, 2, 3, 4, 5]
        assert r["outside_pooling_is_identity"]
    # both ranks hold bit-equal summed gradients and banks
    assert results[0]["digests"] == results[1]["digests"]
    assert len(set(results[0]["digests"])) == 1


def test_a_multi_process_launch_refuses_what_it_cannot_split_before_writing(
    small_benchmark, monkeypatch, tmp_path
):
    from atwu.config import RunConfig, TrainSettings
    from atwu.train.errors import RunError
    from atwu.train.loop import Trainer

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    out = tmp_path / "run"
    with pytest.raises(RunError, match="npo has a loss that is not yet split exactly"):
        Trainer(RunConfig(method="npo", evaluate=False), out)
    with pytest.raises(RunError, match="scorer_design=contrast_head"):
        Trainer(RunConfig(method="atwu", params={"scorer_design": "contrast_head"}), out)
    # forget10 of the 20-author benchmark holds 20 pairs: 3 processes × 6 = 18 per batch leave a
    # last batch of 2, one pair short of a pair per process
    monkeypatch.setenv("WORLD_SIZE", "3")
    with pytest.raises(RunError, match="the last batch of each pass over the 20 examples holds 2"):
        Trainer(RunConfig(method="graddiff", train=TrainSettings(forget_batch_size=6)), out)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    with pytest.raises(RunError, match=r"does not shard the model \(FSDP launch\)"):
        Trainer(RunConfig(method="atwu"), out)
    assert not out.exists()  # refused before anything was written
