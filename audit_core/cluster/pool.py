"""The workers of a cluster run, and the ordered, bounded map the run's loops use (`Shards`).

Workers are Ray actors, each holding the models once (cluster/worker.py). Shards go to the
least busy worker, at most `IN_FLIGHT_PER_WORKER` per worker counting results that wait
for an earlier shard: memory on the driver and in the object store stays flat however
long the cohort. Results are handed back in the order the shards were given.

Faults: an actor that dies (its process killed, its node lost) is restarted by Ray up to
`RESTARTS` times, and the shards it held are sent to it again (max_task_retries); each
shard is a pure function of its payload, so a retried shard gives the same bits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from audit_core.cluster.worker import ShardWorker, WorkerFailed, WorkerSpec
from audit_core.errors import ModelError, PlanError
from audit_core.work.shards import SCORE

IN_FLIGHT_PER_WORKER = 2  # one running, one waiting: a worker never idles between shards
RESTARTS = 4
START_SECONDS = 600.0  # a big model shipped to many nodes takes a while; none takes this long
_WHAT = {SCORE: "scoring records"}


class WorkerPool:
    """`Shards` on Ray actors; `close` ends them."""

    def __init__(self, ray: Any, store: str, workers: int, cpus: int) -> None:
        """Starts the workers' processes (they import the engine meanwhile); `open` then
        hands them the run's spec through the `store` actor and waits until they are ready."""
        self._ray = ray
        self.spec: WorkerSpec | None = None  # what the workers opened (run.json reads its threads)
        self.cpus = cpus
        remote = ray.remote(ShardWorker)
        self.actors = [remote.options(num_cpus=cpus, max_restarts=RESTARTS, max_task_retries=RESTARTS)
                       .remote(store) for _ in range(workers)]

    def open(self, spec: WorkerSpec) -> None:
        """Wait until every worker has opened the models of `spec` (already in the store)."""
        self.spec = spec
        try:
            self._wait_ready(len(self.actors), self.cpus)
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        return len(self.actors)

    def map(self, operation: str, payloads: Iterable[Any]) -> Iterator[Any]:
        ray = self._ray
        source = iter(payloads)
        limit = IN_FLIGHT_PER_WORKER * len(self.actors)
        busy = [0] * len(self.actors)
        running: dict[Any, tuple[int, int]] = {}  # object ref -> (shard number, actor)
        done: dict[int, Any] = {}  # results waiting for an earlier shard
        sent = handed = 0
        exhausted = False
        try:
            while True:
                while not exhausted and len(running) + len(done) < limit:
                    payload = next(source, _END)
                    if payload is _END:
                        exhausted = True
                        break
                    actor = busy.index(min(busy))
                    running[self.actors[actor].run.remote(operation, payload)] = (sent, actor)
                    busy[actor] += 1
                    sent += 1
                if handed in done:
                    yield done.pop(handed)
                    handed += 1
                    continue
                if not running:
                    return
                finished, _ = ray.wait(list(running), num_returns=1)
                for ref in finished:
                    number, actor = running.pop(ref)
                    busy[actor] -= 1
                    done[number] = self._get(ref, operation)
        finally:
            for ref in running:  # a cancelled run or a failed shard: the rest is not needed
                ray.cancel(ref)

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []

    def _get(self, ref: Any, operation: str) -> Any:
        ray = self._ray
        what = _WHAT.get(operation, "decoding")
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(getattr(exc, "cause", None), WorkerFailed) else exc
            raise ModelError(f"a cluster worker failed while {what} ({cause}); the same audit on "
                             "this workstation shows whether the model or the cluster is at fault") from None
        except ray.exceptions.RayError as exc:  # a worker lost more often than Ray restarts it
            raise ModelError(f"the cluster lost its workers while {what} ({exc.__class__.__name__}); "
                             "finished work is in the checkpoint: resume the audit (--resume)") from None

    def _wait_ready(self, workers: int, cpus: int) -> None:
        ray = self._ray
        refs = [actor.ready.remote() for actor in self.actors]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=START_SECONDS)
        if len(ready) < len(refs):
            raise PlanError(f"the Ray cluster did not start {workers} worker(s) of {cpus} CPU(s) "
                            f"within {START_SECONDS:.0f} s: it may not have that many CPUs free "
                            "(set 'run.workers' lower)")
        try:
            problems = [p for p in ray.get(refs) if p]
        except ray.exceptions.RayError as exc:
            raise PlanError(f"a cluster worker could not start ({exc.__class__.__name__}): check that "
                            "Mnemoscope and its [cluster] extra are installed on every node") from None
        if problems:
            raise PlanError(problems[0])


def plan_workers(asked: int, total_cpus: int, node_cpus: Sequence[int], cap: int) -> tuple[int, int]:
    """(workers, CPUs each): `asked` (0: one per CPU of the cluster, at most `cap`), each
    with an equal share of the CPUs that still fits on the largest node."""
    total = max(1, total_cpus)
    if asked > total:
        raise PlanError(f"'run.workers' asks for {asked} workers but the Ray cluster has {total} "
                        "CPU(s): each worker needs one at least")
    workers = asked or min(total, cap)
    return workers, max(1, min(total // workers, max(node_cpus or [1])))


_END = object()
