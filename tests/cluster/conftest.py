"""One local Ray cluster for the distributed-run tests (two CPUs: two one-thread workers),
started once and shut down after them, with Ray's token authentication on (Ray 2.60 asks
for it) and a token of its own: nothing is written to ~/.ray, nothing reported anywhere."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

_ENVIRONMENT = {"RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture(scope="package")
def ray_cluster() -> Iterator[Any]:
    # Ray turns token authentication on for a new local cluster (and sets RAY_AUTH_MODE);
    # the token is this session's own, from the environment, so ~/.ray is left alone.
    saved = {key: os.environ.get(key) for key in (*_ENVIRONMENT, "RAY_AUTH_TOKEN", "RAY_AUTH_MODE")}
    os.environ.update(_ENVIRONMENT, RAY_AUTH_TOKEN=secrets.token_hex(32))
    ray = pytest.importorskip("ray", reason="the [cluster] extra is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        yield ray
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
