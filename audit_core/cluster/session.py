"""A run's cluster, from the plan's [run] table: joined before any model work (so a missing
Ray or an unreachable address is refused first), the workers' processes started right
then (they import the engine while the workstation reads the model and the cohorts), the
models opened in them once those are read, everything ended when the run ends.

`cluster_session` is what the runner opens; a plan without [run] cluster gets a session
that starts nothing and imports no Ray.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from audit_core.cluster.pool import WorkerPool, plan_workers
from audit_core.cluster.worker import ModelCopy, RunStore, WorkerSpec
from audit_core.data.cohort import Role
from audit_core.kinds.base import Prepared
from audit_core.models.inspection import ModelInfo
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.plan.parsing import AuditPlan
from audit_core.plan.run_keys import RunSettings
from audit_core.version import __version__
from audit_core.work.shards import Shards

log = logging.getLogger(__name__)

MAX_DEFAULT_WORKERS = 32  # without 'run.workers': one per CPU, but no more (a model copy each)


class Session:
    """Where a run's shards go. Here: nowhere (the run's loops run inline)."""

    def start(self, plan: AuditPlan, prepared: Prepared) -> Shards | None:
        return None

    def record(self) -> dict[str, Any] | None:
        """run.json's "cluster": where the run ran (None: on this workstation)."""
        return None


class RaySession(Session):
    """Joins the cluster and starts the workers' processes at once, while the workstation
    reads the model and the cohorts (a worker's process, imports and onnxruntime take a
    second or two); `start` then hands them the run's spec."""

    def __init__(self, settings: RunSettings) -> None:
        from audit_core.cluster.connection import connect

        self.settings = settings
        self.connection = connect(settings.cluster)
        self.pool: WorkerPool | None = None
        self._store: Any = None  # the RunStore actor
        self._name = f"mnemoscope-run-{secrets.token_hex(8)}"
        self._nodes = 0
        try:
            self._launch()
        except BaseException:
            self.close()
            raise

    def _launch(self) -> None:
        ray = self.connection.ray
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        self._nodes = len(nodes)
        workers, cpus = plan_workers(self.settings.workers, int(ray.cluster_resources().get("CPU", 1)),
                                     [int(n.get("Resources", {}).get("CPU", 0)) for n in nodes],
                                     MAX_DEFAULT_WORKERS)
        self._store = ray.remote(RunStore).options(name=self._name, num_cpus=0).remote()
        self.pool = WorkerPool(ray, self._name, workers, cpus)

    def start(self, plan: AuditPlan, prepared: Prepared) -> Shards | None:
        assert self.pool is not None
        if not isinstance(prepared.model, OnnxCausalLM):  # nothing of it is spread over workers
            log.warning("the cluster runs a language model's scoring and generation; this model "
                        "kind runs on this workstation")
            self.pool.close()
            self.pool = None
            return None
        ray = self.connection.ray
        store = self._name if self.settings.model_transfer == "ship" else ""
        spec = _spec(ray, plan, prepared, self._store, store, self.pool.cpus)
        ray.get(self._store.set_spec.remote(spec))
        self.pool.open(spec)
        return self.pool

    def record(self) -> dict[str, Any] | None:
        return {"address": self.settings.cluster, "workers": self.pool.workers if self.pool else 0,
                "threads_per_worker": self.pool.spec.threads if self.pool and self.pool.spec else 0,
                "nodes": self._nodes,
                "model_transfer": self.settings.model_transfer,
                "ray_version": str(getattr(self.connection.ray, "__version__", ""))}

    def close(self) -> None:
        try:
            if self.pool is not None:
                self.pool.close()
            if self._store is not None:
                self.connection.ray.kill(self._store)
        finally:
            self.connection.close()


@contextmanager
def cluster_session(settings: RunSettings) -> Iterator[Session]:
    """The run's cluster (joined here: PlanError when it cannot be), ended on leaving."""
    if not settings.distributed:
        yield Session()
        return
    session = RaySession(settings)
    try:
        yield session
    finally:
        session.close()


def _spec(ray: Any, plan: AuditPlan, prepared: Prepared, files: Any, store: str, cpus: int) -> WorkerSpec:
    infos = [prepared.model_info] + ([prepared.reference_info] if prepared.reference_info else [])
    models = tuple(_copy(ray, info, files, f"{store}/{i}" if store else "", reference=i > 0)
                   for i, info in enumerate(infos))
    records = None
    if isinstance(prepared.model, OnnxCausalLM) and prepared.model.needs_events and prepared.token_events:
        # Rows decoded without their own events look them up in the audited records.
        records = ray.put(([row for role in Role for row in prepared.token_ids[role]],
                           [e for role in Role for e in prepared.token_events[role]]))
    # The plan's model.threads when it sets one (the same count as the workstation's, for
    # kernels whose bits depend on it: docs/cluster.md), else the worker's CPUs.
    return WorkerSpec(version=__version__, models=models, threads=plan.model.threads or cpus,
                      context_length=plan.model.context_length, provider=plan.model.provider,
                      precision=plan.model.precision, inputs=dict(plan.model.inputs),
                      token_types=dict(plan.model.token_types), records=records)


def _copy(ray: Any, info: ModelInfo, files: Any, prefix: str, *, reference: bool) -> ModelCopy:
    """One model for the workers: its path, or (`prefix`: ship) its folder's own files (the
    graph, its external data, tokenizer and config), one object each, held by `files`."""
    hashes = tuple((f.name, f.sha256) for f in info.files)
    if not prefix:
        return ModelCopy(path=str(Path(info.path).resolve()), files=hashes, reference=reference)
    names = tuple(p.name for p in sorted(Path(info.folder).iterdir()) if p.is_file())
    ray.get([files.keep.remote(f"{prefix}/{name}", [ray.put((Path(info.folder) / name).read_bytes())])
             for name in names])
    return ModelCopy(path=str(info.path), files=hashes, store=prefix.rpartition("/")[0],
                     shipped=tuple(f"{prefix}/{name}" for name in names), reference=reference)
