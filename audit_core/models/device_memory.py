"""Free GPU memory, and how many rows of a batch the GPU holds.

Read without torch: the CUDA runtime's `cudaMemGetInfo` through ctypes (it shares the
primary context onnxruntime's CUDA provider uses, so asking costs no extra device memory),
else NVML's `nvmlDeviceGetMemoryInfo` (shipped with every driver); None when there is
neither, i.e. no GPU. Both are read for device 0 of what the process sees, the device
onnxruntime's CUDA provider runs on by default.

The rule (`rows_that_fit`): a batch row needs, at its longest sequence of L tokens, its
KV cache twice (the step's past and its presents are alive together), its logits, one
layer's attention scores and a few hidden activations (`row_bytes`), all float32 (an fp16
copy keeps float32 inputs and outputs: models/precision.py). A batch takes HEADROOM of the
free memory measured once the model's weights are on the device; the rest is left to
onnxruntime's workspace and fragmentation. The plan's batch size and the generation
schedule's batch rows are capped to it (`DeviceBudget.cap`), logged, and recorded in
run.json. The cap only ever lowers a batch that would not have fitted, so a run that fits
batches exactly as its plan says; on the CPU nothing is measured and nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

HEADROOM = 0.8  # the share of free device memory batches may take
_FLOAT = 4  # bytes: activations, logits and cache are float32 at the graph's edges
# Hidden activations alive per token and layer width: the residual stream, the attention
# projections and a 4x MLP (about 16 vectors of the model's width at the peak).
_HIDDEN_VECTORS = 16


@dataclass(frozen=True, slots=True)
class DeviceMemory:
    free: int  # bytes
    total: int


def free_device_memory() -> DeviceMemory | None:
    """Free and total memory of the GPU this process uses, or None without a GPU."""
    for reader in (_cuda_runtime, _nvml):
        try:
            found = reader()
        except (OSError, AttributeError, ValueError):  # a library without the symbol
            found = None
        if found is not None:
            return found
    return None


def row_bytes(past_shapes: Mapping[str, tuple[int, int]], vocab_size: int, length: int) -> int:
    """Device bytes one batch row needs at `length` tokens (see the module's rule).
    `past_shapes`: each past input's (heads, head_dim); empty for a graph without a KV
    cache, whose width is unknown: its logits are counted twice instead."""
    per_token = sum(heads * dim for heads, dim in past_shapes.values())
    if not per_token:
        return 2 * vocab_size * length * _FLOAT
    layers = max(1, len(past_shapes) // 2)  # a key and a value input per layer
    width = per_token // (2 * layers)
    heads = max(h for h, _ in past_shapes.values())
    cache = 2 * per_token * length
    activations = heads * length * length + _HIDDEN_VECTORS * width * length
    return (cache + vocab_size * length + activations) * _FLOAT


def rows_that_fit(free: int, per_row: int, weights: int = 0, headroom: float = HEADROOM) -> int:
    """Rows a batch may have: HEADROOM of the free memory, less the weights when they are
    not on the device yet (0 when `free` was measured after loading), over `per_row`."""
    return max(0, int((free * headroom - weights) // max(per_row, 1)))


@dataclass(slots=True)
class DeviceBudget:
    """One model's share of its GPU: free memory measured after its weights were loaded,
    and the caps applied to its batches (for run.json)."""

    memory: DeviceMemory
    past_shapes: Mapping[str, tuple[int, int]]
    vocab_size: int
    caps: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def measure(cls, model: Any) -> DeviceBudget | None:
        memory = free_device_memory()
        if memory is None:
            return None
        return cls(memory, dict(model._past_shapes), int(model.vocab_size))

    def rows(self, length: int) -> int:
        return rows_that_fit(self.memory.free, row_bytes(self.past_shapes, self.vocab_size, length))

    def cap(self, what: str, asked: int, length: int) -> int:
        """`asked` rows at `length` tokens, capped to what the device holds (at least 1:
        a run whose single row does not fit fails on the device with onnxruntime's message)."""
        fit = self.rows(length)
        used = max(1, min(asked, fit))
        if used < asked:
            seen = self.caps.get(what)
            if seen is None or used < seen["rows"]:
                self.caps[what] = {"asked": asked, "rows": used, "tokens": length}
                log.info("%s batches capped from %d to %d rows at %d tokens: %.1f GiB of device "
                         "memory free", what, asked, used, length, self.memory.free / 2 ** 30)
        return used

    def as_dict(self) -> dict[str, Any]:
        """run.json's record of the device and the caps the run applied."""
        return {"free_bytes": self.memory.free, "total_bytes": self.memory.total,
                "headroom": HEADROOM, "capped": {k: dict(v) for k, v in sorted(self.caps.items())}}


def _load(names: list[str]) -> Any:
    """The first of `names` ctypes can load, or None."""
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def _cudart_names() -> list[str]:
    names = [n for n in (ctypes.util.find_library("cudart"),) if n]
    names += ["libcudart.so", "libcudart.so.12", "libcudart.so.11.0"]
    # onnxruntime-gpu's CUDA libraries may come as pip wheels (nvidia-cuda-runtime-cu12).
    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations or []) if spec is not None else []:
        names += sorted(str(p) for p in Path(root, "cuda_runtime", "lib").glob("libcudart.so*"))
    return names


def _cuda_runtime() -> DeviceMemory | None:
    lib = _load(_cudart_names())
    if lib is None:
        return None
    free, total = ctypes.c_size_t(), ctypes.c_size_t()
    if lib.cudaMemGetInfo(ctypes.byref(free), ctypes.byref(total)) != 0:  # no device, no driver
        return None
    return DeviceMemory(int(free.value), int(total.value))


class _NvmlMemory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


def _nvml() -> DeviceMemory | None:
    lib = _load(["libnvidia-ml.so.1", "libnvidia-ml.so"])
    if lib is None or lib.nvmlInit_v2() != 0:
        return None
    try:
        handle = ctypes.c_void_p()
        # NVML counts every GPU; CUDA_VISIBLE_DEVICES names the one this process sees first.
        first = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0].strip() or "0"
        if first.isdigit():
            found = lib.nvmlDeviceGetHandleByIndex_v2(int(first), ctypes.byref(handle))
        else:
            found = lib.nvmlDeviceGetHandleByUUID(first.encode(), ctypes.byref(handle))
        memory = _NvmlMemory()
        if found != 0 or lib.nvmlDeviceGetMemoryInfo(handle, ctypes.byref(memory)) != 0:
            return None
        return DeviceMemory(int(memory.free), int(memory.total))
    finally:
        lib.nvmlShutdown()
