"""A cluster worker: the audited model (and the reference model) opened once, then shard
after shard of the scoring pass or the generation schedule.

Each worker opens its own onnxruntime sessions, with as many intra-op threads as CPUs Ray
gave it, from the model's files: shipped through Ray's object store into a temporary
folder on the worker ("ship"), or read from the plan's path on the worker's node
("shared_path"). Either way the files' SHA-256 must be the workstation's, or the worker
refuses to start: a node with another model at the same path would silently audit it.

Errors stay in the tool's words: a failed shard is reported by the class of its error
only (onnxruntime's messages can quote a record's token ids; a worker's log is a file on
the cluster that no one vetted for patient data). Only data travel to a worker: it looks
an operation's name up in its own table.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_core.errors import MnemoscopeError
from audit_core.generation.schedule import decode_shard
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.passes.chunk_shards import score_shard
from audit_core.version import __version__
from audit_core.work.shards import DECODE, SCORE

OPERATIONS: dict[str, Callable[[Sequence[Any], Any], Any]] = {SCORE: score_shard, DECODE: decode_shard}


@dataclass(frozen=True, slots=True)
class ModelCopy:
    """Where a worker finds one model: `path` on its node, or (shipped) the files a
    `ShippedFiles` actor of that name holds; `files`: the workstation's (name, SHA-256)."""

    path: str
    files: tuple[tuple[str, str], ...]
    store: str = ""  # the ShippedFiles actor's name; "": read `path` on the node
    shipped: tuple[str, ...] = ()  # the file names it holds
    reference: bool = False  # the reference model: plan inputs it lacks are not refused


class RunStore:
    """The run's named actor that workers ask for what they need (cluster/session.py): the
    `WorkerSpec`, and the shipped model files by name.

    Workers start while the workstation still reads the cohorts (their processes, imports
    and onnxruntime take a second or two), so their constructor gets this actor's name, not
    the spec: the spec is only known once the model and the records are read. A worker that
    Ray restarts asks again. Object refs (owned by the driver, which keeps them) never sit in
    a constructor's arguments, where Ray cannot promise them to a restart."""

    def __init__(self) -> None:
        self._refs: dict[str, list[Any]] = {}
        self._spec: WorkerSpec | None = None

    def keep(self, name: str, ref: list[Any]) -> None:
        self._refs[name] = ref  # in a list: Ray passes the ref itself, not its bytes

    def ref(self, name: str) -> list[Any]:
        return self._refs[name]

    def set_spec(self, spec: WorkerSpec) -> None:
        self._spec = spec

    def spec(self) -> WorkerSpec | None:
        return self._spec


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """Everything a worker needs to open the models as the workstation did."""

    version: str
    models: tuple[ModelCopy, ...]  # the audited model, then the reference model if any
    threads: int
    context_length: int | None
    provider: str
    precision: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    token_types: Mapping[str, int] = field(default_factory=dict)
    records: Any = None  # an object ref of (ids, events) for side inputs that look events up


class WorkerFailed(Exception):
    """A shard failed on a worker; only the class of the error travels."""


class ShardWorker:
    """The actor (cluster/pool.py makes it remote). It never raises from its constructor:
    a refusal is kept and told by `ready`, so Ray does not restart it in a loop."""

    def __init__(self, store: str) -> None:
        self._store = store  # the RunStore actor's name
        self._problem = ""
        self._models: list[OnnxCausalLM] | None = None

    def ready(self) -> str:
        """"" when the models are open, else why they are not (asked once the driver has
        put the spec in the store)."""
        self._open_models()
        return self._problem

    def run(self, operation: str, payload: Any) -> Any:
        self._open_models()  # a worker Ray restarted mid-run opens them again
        if self._problem or self._models is None:
            raise WorkerFailed("WorkerNotReady")
        try:
            return OPERATIONS[operation](self._models, payload)
        except Exception as exc:
            raise WorkerFailed(exc.__class__.__name__) from None

    def _open_models(self) -> None:
        if self._models is not None or self._problem:
            return
        import ray

        try:
            fetched: Any = ray.get(ray.get_actor(self._store).spec.remote())
            spec: WorkerSpec | None = fetched
            if spec is None:
                raise MnemoscopeError("a cluster worker was asked to work before the run was set up")
            if spec.version != __version__:
                raise MnemoscopeError(f"a cluster worker runs Mnemoscope {__version__}, this workstation "
                                      f"{spec.version}: install the same version on every node")
            models = [self._open(copy, spec) for copy in spec.models]
            if spec.records is not None:
                ids, events = ray.get(spec.records)
                for model in models:
                    model.use_records(ids, events)
            self._models = models
        except MnemoscopeError as exc:
            self._problem = str(exc)
        except Exception as exc:
            self._problem = f"a cluster worker could not open the model ({exc.__class__.__name__})"

    def _open(self, copy: ModelCopy, spec: WorkerSpec) -> OnnxCausalLM:
        path = _unpack(copy) if copy.store else Path(copy.path)
        info = inspect_model(path, spec.context_length)
        if {(f.name, f.sha256) for f in info.files} != set(copy.files):
            raise MnemoscopeError(f"the model files at {copy.path} on a cluster node are not the "
                                  "workstation's (their SHA-256 differ): with model_transfer = "
                                  "\"shared_path\" every node must see the same files; or set "
                                  "model_transfer = \"ship\"")
        return OnnxCausalLM(info, spec.threads, provider=spec.provider, precision=spec.precision,
                            inputs=spec.inputs, token_types=spec.token_types,
                            strict_inputs=not copy.reference)


def _unpack(copy: ModelCopy) -> Path:
    """The shipped files in a temporary folder of this worker, removed when it exits."""
    import ray

    store = ray.get_actor(copy.store)
    folder = Path(tempfile.mkdtemp(prefix="mnemoscope-model-"))
    atexit.register(shutil.rmtree, str(folder), True)  # a worker Ray kills leaves it in the temp folder
    for name in copy.shipped:
        held: Any = ray.get(store.ref.remote(name))
        (folder / name.rpartition("/")[2]).write_bytes(ray.get(held[0]))
    return folder / Path(copy.path).name
