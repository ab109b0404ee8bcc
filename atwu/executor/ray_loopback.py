"""Start Ray on this machine so that nothing it opens is reachable from another machine.

A Ray instance started by ``ray.init()`` listens wherever its node address points: the GCS
server, the raylet (node manager and object manager), the runtime-env agent, the driver's and
every worker's gRPC server. On Linux Ray picks the machine's outward address as the node address
(and turns an explicit ``_node_ip_address="127.0.0.1"`` back into it), so its servers accept
connections from the network. With the node address kept at 127.0.0.1, Ray's servers bind the
loopback interface only.

Ray decides between the two in ``ray._private.services.get_node_ip_address``, which returns the
loopback address when ``ray_constants.ENABLE_RAY_CLUSTER`` is false (its value on macOS and
Windows, for the same reason). That flag is held false only while the local instance starts, and
the node address is checked afterwards: should a future Ray ignore the flag, the sweep stops with
a clear line instead of listening on the network. Joining a cluster (``--ray-address``) does not
pass through here.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from atwu.errors import InputError

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IPv4, IPv6 or IPv4-mapped IPv6 address) is a loopback address."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host == "localhost"
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


@contextmanager
def _node_address_on_loopback() -> Iterator[None]:
    from ray._private import ray_constants

    before = getattr(ray_constants, "ENABLE_RAY_CLUSTER", True)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = before


def init_on_loopback(**options: Any) -> None:
    """``ray.init`` a new instance on this machine whose servers listen on 127.0.0.1 only.

    Raises :class:`InputError` when Ray came up with a non-loopback node address (it is shut
    down first), so that no sweep runs while its instance is reachable from the network.
    """
    import ray

    with _node_address_on_loopback():
        ray.init(address="local", _node_ip_address=LOOPBACK, include_dashboard=False, **options)
    node_ip = ray.util.get_node_ip_address()
    if not is_loopback(node_ip):
        ray.shutdown()
        raise InputError(
            f"Ray started on {node_ip}, not on 127.0.0.1, so it would accept connections from "
            "the network; this Ray version ignores the loopback setting: use --executor local, "
            "or run a cluster with token authentication and pass --ray-address"
        )
    logging.getLogger(__name__).debug("Ray listens on %s only", node_ip)
