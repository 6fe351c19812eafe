"""Connecting to the Ray cluster a plan names, refused in the tool's words when it cannot be.

Ray is optional (the [cluster] extra): without it, a plan that asks for a cluster is
refused before any model work. An address that does not answer is refused after a short
TCP check, not after Ray's own minute of retries and a traceback.

Nothing leaves the hospital's machines: a local Ray started here runs with usage
statistics off and without its dashboard; on a cluster the hospital runs, the head's own
settings apply (docs/cluster.md says which to set).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from audit_core.errors import PlanError
from audit_core.plan.run_keys import ENVIRONMENT_RAY, LOCAL_RAY

_CONNECT_SECONDS = 5.0
_CLIENT_PORT = 10001  # Ray Client's default port on the head node
INSTALL_HINT = ("install the [cluster] extra (pip install 'mnemoscope[cluster]'), or remove "
                "[run] cluster from the plan to run on this workstation")


@dataclass(slots=True)
class Connection:
    """This process's Ray session: the module, where it points, and whether this run
    started it (and so stops it)."""

    ray: Any
    address: str
    owned: bool

    def close(self) -> None:
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()


def import_ray() -> ModuleType:
    """The ray module, or a PlanError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise PlanError(f"'run.cluster' asks for a Ray cluster but Ray is not installed: {INSTALL_HINT}") from None
    return ray


def check_cluster(address: str) -> None:
    """What `connect` would refuse, said before the run without joining the cluster (the
    desktop's Run step asks while it estimates): Ray missing (looked up, not imported) or
    a ray:// address that does not answer."""
    if importlib.util.find_spec("ray") is None:
        raise PlanError(f"'run.cluster' asks for a Ray cluster but Ray is not installed: {INSTALL_HINT}")
    if address not in (LOCAL_RAY, ENVIRONMENT_RAY):
        _check_reachable(address)


def connect(address: str) -> Connection:
    """Join (or, for "auto", start) the Ray cluster at `address`."""
    ray = import_ray()
    if address not in (LOCAL_RAY, ENVIRONMENT_RAY):
        _check_reachable(address)
    if ray.is_initialized():  # the caller's own session (a notebook, a test): used as it is
        return Connection(ray, address, owned=False)
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    try:
        if address == LOCAL_RAY:
            os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # nothing reported to anyone
            ray.init(address="local", include_dashboard=False, **quiet)
        elif address == ENVIRONMENT_RAY:
            ray.init(address="auto", **quiet)
        else:
            ray.init(address=address, **quiet)
    except PlanError:
        raise
    except Exception as exc:  # ConnectionError, RuntimeError, Ray's own types
        where = ("the Ray cluster of this machine (RAY_ADDRESS, or `ray start --head` here)"
                 if address == ENVIRONMENT_RAY else f"the Ray cluster at {address}")
        raise PlanError(f"cannot connect to {where} ({exc.__class__.__name__}): check that it is "
                        "running and that this machine may reach it, or set 'run.cluster' to "
                        "\"auto\" for a local Ray") from None
    return Connection(ray, address, owned=True)


def _check_reachable(address: str) -> None:
    """A ray://host:port that does not accept a TCP connection, refused in seconds."""
    host, _, port = address.removeprefix("ray://").partition(":")
    try:
        with socket.create_connection((host, int(port or _CLIENT_PORT)), timeout=_CONNECT_SECONDS):
            pass
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise PlanError(f"cannot reach the Ray cluster at {address} ({reason}): check that its head "
                        "node runs the Ray Client server and that this machine may reach it") from None
