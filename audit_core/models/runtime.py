"""How onnxruntime runs the audited model on this machine: threads, graph optimisation,
memory arena, and the execution provider (CPU, or CUDA when onnxruntime-gpu and a GPU
are present).

Threads: one intra-op thread per *physical* core the process may use. Hyper-threads
share a core's vector units, so a second thread per core adds contention to the matrix
multiplies that dominate a forward pass instead of speed. Inter-op parallelism stays at
one thread: a decoder's graph is a chain of layers with little to run side by side, and
a second pool would only compete with the first.
"""

from __future__ import annotations

import os
from pathlib import Path

from audit_core.errors import ModelError

PROVIDERS = ("auto", "cpu", "cuda")
CPU_PROVIDER = "CPUExecutionProvider"
_ORT_NAMES = {"cpu": CPU_PROVIDER, "cuda": "CUDAExecutionProvider"}


def physical_cores() -> int:
    """Cores this process may run on, counting a core's hyper-threads once."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux: no affinity or topology files to read
        return max(1, (os.cpu_count() or 2) // 2)
    cores = set()
    for cpu in allowed:
        siblings = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list")
        try:
            cores.add(siblings.read_text().strip())
        except OSError:
            cores.add(str(cpu))
    return max(1, len(cores))


def intra_op_threads(threads: int = 0) -> int:
    """The plan's thread count on this machine: 0 is one per physical core, and a count
    past the logical cores is capped to them. onnxruntime's threads spin while they wait,
    so more threads than cores only take turns (slower, never faster); the plan may come
    from a larger machine, and runs here as well as this machine allows."""
    return min(threads, os.cpu_count() or 1) if threads else physical_cores()


def session_options(threads: int = 0):
    """SessionOptions sized to the machine; `threads` 0 means one per physical core."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # The arena keeps freed blocks for the next batch (shapes repeat across batches of a
    # length bucket) instead of returning them to the system allocator every call.
    options.enable_cpu_mem_arena = True
    options.enable_mem_pattern = True
    # Denormal weights or activations (tiny values in trained weights) take a slow path
    # on x86; flushing them to zero changes results far below the 1e-4 parity tolerance.
    options.add_session_config_entry("session.set_denormal_as_zero", "1")
    # Fatal only. onnxruntime's own log lines go straight to stderr, in colour, and its
    # errors can quote the values a kernel choked on (a token id past a position table is
    # a record's content); the tool reports each failure in its own words instead.
    options.log_severity_level = 4
    return options


def open_session(path: Path, name: str, threads: int = 0,
                 providers: list[str] | None = None, *, fall_back_to_cpu: bool = False):
    """An onnxruntime session for `path`, or a ModelError naming the model (never
    onnxruntime's own exception). `fall_back_to_cpu`: "auto" found CUDA in onnxruntime but
    it would not start, so run on the CPU instead."""
    import onnxruntime as ort

    providers = providers or [_ORT_NAMES["cpu"]]
    options = session_options(threads)
    # The CUDA arena grows by what a call asks for, not to the next power of two: the batch
    # sizes chosen from free device memory (models/device_memory.py) leave no room for
    # doubling.
    chosen = [(p, {"arena_extend_strategy": "kSameAsRequested"}) if p == _ORT_NAMES["cuda"] else p
              for p in providers]
    try:
        try:
            return ort.InferenceSession(str(path), options, providers=chosen)
        except Exception:
            if providers == [_ORT_NAMES["cpu"]]:
                raise
            # CUDA would not start (no usable device or driver): the CPU tells whether the
            # export itself loads, so the message blames the right one.
            session = ort.InferenceSession(str(path), options, providers=[_ORT_NAMES["cpu"]])
            if fall_back_to_cpu:
                return session
            raise ModelError(f"'model.provider' is \"cuda\" but onnxruntime could not start CUDA "
                             f"for {name} (no usable GPU or driver): set provider = \"auto\" or "
                             "\"cpu\"") from None
    except ModelError:
        raise
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelError(f"onnxruntime cannot load {name} ({exc.__class__.__name__}): the export "
                         "is broken or uses operators this runtime lacks") from None


def runtime_errors() -> tuple[type[BaseException], ...]:
    """The exception types onnxruntime raises from a session (Fail, InvalidArgument, ...)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    return tuple(t for t in vars(state).values()
                 if isinstance(t, type) and issubclass(t, Exception))


def resolve_provider(choice: str) -> list[str]:
    """onnxruntime provider list for the plan's `model.provider`; refuses what is missing."""
    import onnxruntime as ort

    if choice not in PROVIDERS:
        raise ModelError(f"'model.provider' must be one of {', '.join(PROVIDERS)} (got '{choice}')")
    available = ort.get_available_providers()
    if choice == "cuda" and _ORT_NAMES["cuda"] not in available:
        raise ModelError("'model.provider' is \"cuda\" but this onnxruntime has no CUDA support "
                         f"(it offers {', '.join(available)}): install onnxruntime-gpu, or set "
                         "provider = \"auto\" or \"cpu\"")
    if choice == "cuda" or (choice == "auto" and _ORT_NAMES["cuda"] in available):
        return [_ORT_NAMES["cuda"], _ORT_NAMES["cpu"]]
    return [_ORT_NAMES["cpu"]]


def check_provider(choice: str, session, name: str) -> str:
    """The provider the session really runs on; an explicit "cuda" that fell back is refused."""
    used = session.get_providers()[0]
    if choice == "cuda" and used != _ORT_NAMES["cuda"]:
        raise ModelError(f"'model.provider' is \"cuda\" but onnxruntime could not start CUDA for "
                         f"{name} (no usable GPU or driver): set provider = \"auto\" or \"cpu\"")
    return used
