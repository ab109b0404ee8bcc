"""The Ray backend: one Ray task per run, on this machine or a cluster.

By default Ray is started inside this process (``ray.init``: no server to install or start); with
``address`` (``--ray-address``, or ``RAY_ADDRESS``) the runs go to an existing cluster made with
``ray start --head`` and ``ray start --address=HEAD:6379``, whose nodes must share ``$ATWU_HOME``
(or the sweep's ``--out``).

Each task asks for one CPU (and runs torch on one thread) or, where the cluster has GPUs, one GPU;
at most ``max_concurrent`` tasks (default: what the cluster has) are in flight. A task whose
worker process or node dies is retried up to ``max_retries`` times, and the retry resumes the run
from its last checkpoint (:func:`~atwu.executor.one_run.run_one` finds the saved state; the dead
run's lease is stale). A Ray started here listens on 127.0.0.1 only (:mod:`.ray_loopback`):
nothing of it is reachable from another machine. Quiet: no dashboard, no usage statistics,
workers' output stays in Ray's session logs (``/tmp/ray/session_latest/logs``) instead of the
terminal.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

from atwu.errors import InputError
from atwu.executor.base import Executor, OnOutcome
from atwu.executor.one_run import run_one
from atwu.executor.ray_loopback import init_on_loopback
from atwu.executor.spec import RunOutcome, RunSpec
from atwu.paths import atwu_home

PROBE_TIMEOUT_S = 3.0
CANCEL_WAIT_S = 30.0
# Ray's settings from the environment (a user's own values win). No usage statistics. For an
# instance started here: workers at the priority of a plain run (Ray's default, nice 15, gives
# every other process on the machine precedence over a sweep's runs), and token authentication
# (Ray's default for a new local instance) chosen explicitly, so that Ray does not warn about it;
# that one is read when ray is imported: set after, the driver and its instance would disagree.
QUIET_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}
LOCAL_ENV = {"RAY_worker_niceness": "0"}
LOCAL_ENV_AT_IMPORT = {"RAY_AUTH_MODE": "token"}
# the driver's settings a worker on another node must share (paths resolve against them)
FORWARDED_ENV = ("ATWU_HOME", "ATWU_ALLOW_HUB", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def _host_port(address: str) -> tuple[str, int]:
    rest = address.split("://", 1)[-1]
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(
            f"--ray-address {address!r}: expected HOST:PORT (the head node's address printed "
            "by `ray start --head`, e.g. 10.0.0.1:6379), 'auto' or 'local'"
        )
    return host.strip("[]"), int(port)


def check_reachable(address: str) -> None:
    """Raise :class:`InputError` within seconds when nothing listens at ``address`` (Ray itself
    would keep retrying for minutes)."""
    if address in ("auto", "local"):
        return  # Ray finds (or refuses at once) the cluster of this machine's `ray start`
    host, port = _host_port(address)
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            f"--ray-address {address}: no Ray cluster answers there ({reason}); start one with "
            "`ray start --head` or check the address"
        ) from None


def _task(spec: RunSpec, env: dict[str, str]) -> RunOutcome:
    """What a Ray worker runs for one spec."""
    import ray
    import torch

    os.environ.update(env)
    torch.set_num_threads(1)  # the task holds one CPU
    outcome = run_one(spec)
    outcome.node = ray.get_runtime_context().get_node_id()
    return outcome


def _own_sigterm_handler() -> Any:
    """The Python SIGTERM handler in force now (None: the default, or not the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    handler = signal.getsignal(signal.SIGTERM)
    return handler if callable(handler) else None


class RayExecutor(Executor):
    kind = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        max_concurrent: int | None = None,
        max_retries: int = 2,
    ):
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        if self.address:
            check_reachable(self.address)
        self.max_concurrent, self.max_retries = max_concurrent, max_retries
        self._started_ray = False

    def start(self) -> None:
        env = dict(QUIET_ENV)
        if not self.address:
            env.update(LOCAL_ENV)
            if "ray" not in sys.modules:
                env.update(LOCAL_ENV_AT_IMPORT)
        for key, value in env.items():
            os.environ.setdefault(key, value)
        import ray

        if ray.is_initialized():
            return  # started before, or the caller's Ray (a test, the app): leave it running
        quiet: dict[str, Any] = dict(
            log_to_driver=False, logging_level=logging.WARNING, namespace="atwu"
        )
        # ray.init replaces the SIGTERM handler with sys.exit: the command's own (SIGTERM as
        # Ctrl-C, so that the runs in flight are cancelled and say so) is put back after it
        on_sigterm = _own_sigterm_handler()
        try:
            if self.address:
                ray.init(address=self.address, include_dashboard=False, **quiet)
            else:  # a new instance, never a stray cluster found by chance, on loopback only
                init_on_loopback(**quiet)
            if on_sigterm is not None:
                signal.signal(signal.SIGTERM, on_sigterm)
        except (ConnectionError, ValueError) as exc:
            where = self.address or "this machine"
            raise InputError(f"could not start or join Ray at {where}: {exc}") from None
        self._started_ray = True

    def close(self) -> None:
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False

    def slots(self) -> int:
        """Runs in flight at once: ``max_concurrent``, else the cluster's GPUs or CPUs."""
        import ray

        resources = ray.cluster_resources()
        have = int(resources.get("GPU", 0)) or int(resources.get("CPU", 1))
        return self.max_concurrent or max(have, 1)

    def _execute(self, specs: Sequence[RunSpec], on_outcome: OnOutcome | None) -> list[RunOutcome]:
        import ray

        gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
        task = ray.remote(
            num_cpus=1, num_gpus=gpus, max_retries=self.max_retries, retry_exceptions=False
        )(_task)
        env = {k: os.environ[k] for k in FORWARDED_ENV if os.environ.get(k)}
        env["ATWU_HOME"] = str(atwu_home())
        limit = self.slots()
        waiting = deque(range(len(specs)))
        running: dict[Any, int] = {}  # object ref → index in specs
        outcomes: dict[int, RunOutcome] = {}
        try:
            while waiting or running:
                while waiting and len(running) < limit:
                    i = waiting.popleft()
                    running[task.options(name=specs[i].out.name).remote(specs[i], env)] = i
                # a timeout, so that Ctrl-C is seen between waits
                ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
                for ref in ready:
                    i = running.pop(ref)
                    outcomes[i] = self._outcome(ref, specs[i])
                    if on_outcome:
                        on_outcome(outcomes[i])
        except KeyboardInterrupt:
            self._cancel(running, specs, on_outcome)
            raise
        return [outcomes[i] for i in range(len(specs))]

    def _outcome(self, ref: Any, spec: RunSpec) -> RunOutcome:
        import ray
        from ray.exceptions import RayError, TaskCancelledError

        try:
            return ray.get(ref)
        except TaskCancelledError:
            return RunOutcome(spec.out, "cancelled", 130, 0.0, "cancelled")
        except RayError as exc:  # the worker or node died more often than retries allow
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return RunOutcome(
                spec.out,
                "failed",
                1,
                0.0,
                f"{type(exc).__name__} after {self.max_retries} retries: {first}",
            )

    def _cancel(self, running: dict[Any, int], specs: Sequence[RunSpec], on_outcome) -> None:
        """Ctrl-C: interrupt the runs in flight (each writes "cancelled") and report them."""
        import ray

        if not running:
            return
        for ref in running:
            ray.cancel(ref)
        ended, _ = ray.wait(list(running), num_returns=len(running), timeout=CANCEL_WAIT_S)
        for ref, i in running.items():
            if ref in ended:
                outcome = self._outcome(ref, specs[i])
            else:
                outcome = RunOutcome(specs[i].out, "cancelled", 130, 0.0, "cancelled (no reply)")
            if on_outcome:
                on_outcome(outcome)
