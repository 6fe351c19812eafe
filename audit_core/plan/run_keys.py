"""The plan's [run] table: where an audit runs (this workstation, or a Ray cluster).

Where an audit runs is not what it is: the same plan gives the same results on the
workstation and on a cluster (docs/cluster.md). So these settings stay out of the plan
as results.json embeds it and out of the audit's fingerprint (a checkpoint written
on the cluster resumes on the workstation and the other way round); run.json records
where a run ran. The desktop's "Save plan" writes them (`run_table`).

    [run]
    cluster = "auto"              # "" (this workstation), "auto", "ray", "ray://head:10001"
    workers = 4                   # 0: as many as the cluster has CPUs for (capped)
    model_transfer = "ship"       # or "shared_path"

Only the form of the values is checked here; whether Ray is installed and the address
answers is checked when the run starts (audit_core/cluster/connection.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit_core.errors import PlanError

# "auto": a private local Ray started for this run and stopped after it; "ray": the Ray
# cluster this machine is part of (RAY_ADDRESS, or a `ray start --head` here).
LOCAL_RAY, ENVIRONMENT_RAY = "auto", "ray"
TRANSFERS = ("ship", "shared_path")
MAX_WORKERS = 1024  # past this the value is a typo (each worker holds a copy of the model)
_CLIENT_ADDRESS = re.compile(r"ray://[A-Za-z0-9.\-]+(:\d{1,5})?")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSettings:
    cluster: str = ""  # "": run here, with no cluster
    workers: int = 0  # 0: what the cluster offers (cluster/pool.py caps it)
    model_transfer: str = "ship"

    @property
    def distributed(self) -> bool:
        return bool(self.cluster)


def parse_run(raw: Any) -> RunSettings:
    """The [run] table (absent: run here)."""
    if raw is None:
        return RunSettings()
    if not isinstance(raw, Mapping):
        raise PlanError("'run' must be a table ([run])")
    unknown = sorted(set(raw) - {"cluster", "workers", "model_transfer"})
    if unknown:
        raise PlanError(f"unknown key 'run.{unknown[0]}' (known keys in [run]: cluster, "
                        "model_transfer, workers)")
    cluster = raw.get("cluster", "")
    if not isinstance(cluster, str):
        raise PlanError("'run.cluster' must be a text: \"auto\", \"ray\" or \"ray://host:port\"")
    workers = raw.get("workers", 0)
    if not isinstance(workers, int) or isinstance(workers, bool) or not 0 <= workers <= MAX_WORKERS:
        raise PlanError(f"'run.workers' must be an integer from 0 (as many as the cluster offers) "
                        f"to {MAX_WORKERS}")
    transfer = raw.get("model_transfer", "ship")
    if transfer not in TRANSFERS:
        raise PlanError("'run.model_transfer' must be \"ship\" (send the model's files to each "
                        "worker) or \"shared_path\" (each worker reads model.path itself)")
    return RunSettings(cluster=check_address(cluster, "'run.cluster'"), workers=workers,
                       model_transfer=transfer)


def check_address(address: str, where: str) -> str:
    """A cluster address as the plan or `--cluster` gives it, or a PlanError naming `where`."""
    address = address.strip()
    if address in ("", LOCAL_RAY, ENVIRONMENT_RAY) or _CLIENT_ADDRESS.fullmatch(address):
        return address
    raise PlanError(f"{where} must be \"auto\" (a local Ray for this run), \"ray\" (the Ray "
                    "cluster this machine belongs to) or \"ray://host:port\" (a Ray cluster's "
                    "client address)")


def run_table(settings: RunSettings) -> dict[str, Any]:
    """{"run": {...}} for a plan file, or {} when the plan runs here with the defaults."""
    if settings == RunSettings():
        return {}
    return {"run": {"cluster": settings.cluster, "workers": settings.workers,
                    "model_transfer": settings.model_transfer}}
