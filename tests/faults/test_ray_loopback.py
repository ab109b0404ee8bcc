"""Nothing a sweep starts is reachable from another machine: every socket that the processes of
a project-started Ray instance listen on (the driver, GCS server, raylet, agents, workers) is on
the loopback interface."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from atwu.executor.ray_loopback import is_loopback

REPO = Path(__file__).resolve().parents[2]

# a fresh interpreter: Ray started exactly as a sweep starts it (no Ray imported before), one task
# run so that a worker (and its gRPC server) exists, then every listening socket of the driver
# and of all the processes below it
LIST_LISTENERS = """
import json, os, psutil
from atwu.executor import make_executor

executor = make_executor("ray", max_concurrent=1)
executor.start()
import ray

def pid():
    return os.getpid()

ray.get(ray.remote(num_cpus=1)(pid).remote())
me = psutil.Process()
pids = {me.pid} | {p.pid for p in me.children(recursive=True)}
found = [
    {"pid": c.pid, "name": psutil.Process(c.pid).name(), "ip": c.laddr.ip, "port": c.laddr.port}
    for c in psutil.net_connections(kind="inet")
    if c.status == psutil.CONN_LISTEN and c.pid in pids
]
executor.close()
print(json.dumps(found))
"""


def test_addresses_are_sorted_into_loopback_and_reachable():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("192.0.2.2")


@pytest.mark.slow
def test_a_local_ray_instance_listens_on_loopback_only(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "ATWU_HOME": str(tmp_path)}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [sys.executable, "-c", LIST_LISTENERS],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    listeners = json.loads(done.stdout.strip().splitlines()[-1])
    names = " ".join(sorted({entry["name"] for entry in listeners}))
    # Ray's servers were seen (an empty list would prove nothing)
    assert "gcs_server" in names and "raylet" in names, listeners
    reachable = [entry for entry in listeners if not is_loopback(entry["ip"])]
    assert reachable == [], f"listening beyond loopback: {reachable}"


@pytest.mark.slow
def test_a_running_sweep_listens_on_loopback_only(small_benchmark, tmp_path):
    """The whole sweep command, watched from outside while it runs."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("RAY_ADDRESS", None)
    command = [sys.executable, "-m", "atwu", "sweep", "--method", "graddiff", "--steps", "6"]
    command += ["--no-eval", "--grid", "alpha=0.5,1", "--out", str(tmp_path / "sweep")]
    sweep = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen: dict[tuple[str, int], str] = {}
    try:
        driver = psutil.Process(sweep.pid)
        deadline = time.monotonic() + 300
        while sweep.poll() is None and time.monotonic() < deadline:
            try:
                pids = {driver.pid} | {p.pid for p in driver.children(recursive=True)}
            except psutil.NoSuchProcess:
                break
            for c in psutil.net_connections(kind="inet"):
                if c.status == psutil.CONN_LISTEN and c.pid in pids:
                    seen[(c.laddr.ip, c.laddr.port)] = str(c.pid)
            time.sleep(0.2)
    finally:
        if sweep.poll() is None:
            sweep.kill()
        output = sweep.communicate()[0].decode(errors="replace")
    assert sweep.returncode == 0, output[-2000:]
    assert len(seen) >= 3, seen  # at least GCS, raylet and a worker were seen listening
    reachable = sorted(ip for ip, _ in seen if not is_loopback(ip))
    assert reachable == [], f"listening beyond loopback: {reachable}"
