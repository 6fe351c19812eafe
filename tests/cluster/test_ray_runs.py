"""The same audit on a local Ray cluster (two workers) as on the workstation.

* Two workers (the model read from its path on the node) score the chunks and decode the
  batches (a greedy probe and a sampling one): results.json and records.csv are the same
  bits as the local run's; run.json says where it ran. (The workers run one onnxruntime thread each, the local run two: on the demo
  model the kernels give the same bits at either count, which is what this checks too.)
* A run stopped after a chunk resumes from the checkpoint of its finished shards (the
  model shipped), and a worker killed mid-run is restarted by Ray and its shards sent
  again: same bits.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from audit_core.cluster.pool import WorkerPool
from audit_core.plan.parsing import AuditPlan, load_plan
from audit_core.plan.run_keys import RunSettings
from audit_core.results.result import AuditResult
from audit_core.run.outputs import records_csv
from audit_core.run.runner import run_audit
from audit_core.work.checkpoints import CheckpointRequest
from audit_core.work.progress import CancelToken
from tests.conftest import write_plan, write_small_cohorts

# A scoring probe, a greedy generating one (extraction) and a sampling one (trajectory).
_PROBES = ("[probes.loss]\n[probes.min_k]\n[probes.extraction]\nprefix_tokens = 24\n"
           "suffix_tokens = 16\n[probes.trajectory]\nmax_records = 6\n")


@pytest.fixture(scope="module")
def small(tmp_path_factory, ground_truth: dict) -> tuple[AuditPlan, AuditResult]:
    """The plan (48 records a cohort in batches of 4: two scoring chunks each) and its
    local result."""
    folder = tmp_path_factory.mktemp("cluster")
    members, non_members = write_small_cohorts(folder, ground_truth)
    for cohort in (members, non_members):
        cohort.write_text("".join(cohort.read_text().splitlines(keepends=True)[:49]))
    path = write_plan(folder, model=Path("resources/demo/model").resolve(), members=members,
                      non_members=non_members, probes=_PROBES)
    path.write_text(path.read_text().replace("batch_size = 32", "batch_size = 4"))
    plan = load_plan(path)
    return plan, run_audit(plan)


def _on_ray(plan: AuditPlan, **settings: Any) -> AuditPlan:
    return replace(plan, run=RunSettings(cluster="auto", **{"workers": 2, **settings}))


def _assert_same(local: AuditResult, distributed: AuditResult) -> None:
    assert json.dumps(distributed.as_dict()) == json.dumps(local.as_dict())
    assert records_csv(distributed) == records_csv(local)


def test_two_workers_give_the_local_results(ray_cluster, small) -> None:
    plan, local = small
    distributed = run_audit(_on_ray(plan, model_transfer="shared_path"))
    _assert_same(local, distributed)
    assert local.run_dict().get("cluster") is None
    assert distributed.run_dict()["cluster"] == {
        "address": "auto", "workers": 2, "threads_per_worker": 1, "nodes": 1,
        "model_transfer": "shared_path", "ray_version": ray_cluster.__version__}
    # Both loops went through the workers: the generation counts are the local run's (but
    # the time, and the streams side by side on this machine: the workers decoded instead).
    assert distributed.generation == {**local.generation, "seconds": distributed.generation["seconds"],
                                      "seconds_by_probe": distributed.generation["seconds_by_probe"],
                                      "streams": 1}


def test_a_stopped_run_resumes_and_a_killed_worker_is_restarted(ray_cluster, small, tmp_path: Path,
                                                                monkeypatch) -> None:
    """Stopped after its first chunk, then resumed with one worker killed while a shard is
    in flight on it: Ray restarts it (it fetches the shipped model again) and sends the
    shard again. (One test for both: each Ray run costs seconds of the suite.)"""
    plan, local = small
    on_ray = _on_ray(plan)  # the model shipped: a restarted worker fetches its files again
    cancel = CancelToken()
    chunks: list[float] = []

    def stop_after_a_chunk(fraction: float, message: str) -> None:
        if message.endswith("scoring tokens"):  # one message per chunk that arrived
            chunks.append(fraction)
            cancel.cancel()

    stopped = run_audit(on_ray, on_progress=stop_after_a_chunk, cancel=cancel,
                        checkpoint=CheckpointRequest(tmp_path))
    assert stopped.cancelled and chunks

    mapped = WorkerPool.map
    killed: list[str] = []

    def map_then_kill(pool: WorkerPool, operation: str, payloads: Any):
        def watched():
            for number, payload in enumerate(payloads):
                if number == 1 and not killed:  # the first shard was just sent to worker 0
                    ray_cluster.kill(pool.actors[0], no_restart=False)
                    killed.append(operation)
                yield payload
        return mapped(pool, operation, watched())

    monkeypatch.setattr(WorkerPool, "map", map_then_kill)
    resumed = run_audit(on_ray, checkpoint=CheckpointRequest(tmp_path, resume=True))
    assert killed
    assert 0 < resumed.resumed < 4  # some of the four chunks were read back, not all
    _assert_same(local, resumed)


def test_a_tabular_model_runs_here_and_the_early_workers_are_let_go(ray_cluster) -> None:
    """Workers start when the cluster is joined, before the model is read; a model kind the
    cluster does not run (a tabular classifier) ends them and runs on the workstation."""
    plan = load_plan(Path("resources/examples/tabular/plan.toml").resolve())
    local = run_audit(plan)
    distributed = run_audit(replace(plan, run=RunSettings(cluster="auto", workers=1)))
    assert json.dumps(distributed.as_dict()) == json.dumps(local.as_dict())
    assert distributed.run_dict()["cluster"]["workers"] == 0
    assert not [a for a in ray_cluster.util.list_named_actors() if a.startswith("mnemoscope-run-")]
