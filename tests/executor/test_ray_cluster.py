"""A sweep joins an existing Ray cluster (``--ray-address``) and runs across its nodes: here two
nodes simulated on this machine with Ray's own test utility."""

from __future__ import annotations

import pytest

from atwu import cli
from atwu.io import read_json


@pytest.mark.slow
def test_a_sweep_runs_across_both_nodes_of_a_two_node_cluster(small_benchmark, tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    if ray.is_initialized():  # another test's Ray: this one joins the cluster instead
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        out = tmp_path / "sweep"
        command = ["sweep", "--method", "graddiff", "--steps", "6", "--no-eval"]
        command += ["--grid", "alpha=0.5,1", "--seeds", "2", "--out", str(out)]
        assert cli.main([*command, "--ray-address", cluster.address]) == 0
    finally:
        ray.shutdown()
        cluster.shutdown()
    record = read_json(out / "sweep.json")
    assert record["counts"]["done"] == 4
    assert len({run["node"] for run in record["runs"]}) == 2
