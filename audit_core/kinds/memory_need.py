"""The memory a language-model audit needs, said by the estimate and checked before the run
scores anything, against what the machine has.

Each part is an upper estimate from the files and the plan, in bytes:

- weights: the model's graph and external-data files, held once by onnxruntime (1.01x the
  weights for a 1 GB external-data model, benchmarks/big_model_memory.py). An int8 plan
  quantizes first, which peaks at about 3x the fp32 weights (3.04x measured) before the
  cohorts are read: that start-up peak is a need of its own.
- the reference model's weights, when the plan has one (it is open beside the model).
- the cohorts: each record's token ids (int64), its array's header, and its text.
- the scoring batch: its logits (passes/token_scores.py bounds them), the
  statistics' temporaries, and the graph's activations at the window's length (attention
  scores, the per-layer keys and values a KV export computes, the hidden states).
- generation: the schedule's batch of continuations at the context length, its KV cache
  bounded by `KV_BUDGET_BYTES` (twice: onnxruntime holds the step's present outputs
  beside the cache), the batch's logits, and the answers kept until the probes ask.

What the machine has is what this process holds now (its resident set: the model already
open is part of its budget) plus what the system can still give (MemAvailable, or a
container's limit). On a GPU, the weights are checked against the device's free memory
(models/device_memory.py, or a probe given to `set_device_memory_probe`); the batches are
capped to what is left there by models/device_memory.py, so they are not refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.parquet_reading import available_memory, format_size, resident_bytes
from audit_core.errors import PlanError
from audit_core.generation.schedule import DEFAULT_BATCH_ROWS, KV_BUDGET_BYTES
from audit_core.generation.streams import stream_count
from audit_core.models.inspection import resolve_model_path
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.packed_ids import PackedIds
from audit_core.passes.token_scores import _MAX_LOGIT_FLOATS as MAX_LOGIT_FLOATS  # the pass's bounds
from audit_core.passes.token_scores import _STATS_FLOATS as STATS_FLOATS
from audit_core.plan.parsing import AuditPlan
from audit_core.probes.base import Probe
from audit_core.probes.generating import batch_rows

# Measured (benchmarks/big_model_memory.py, 1 GB of external-data weights): a session holds
# the weights once; the int8 quantizer peaks at three times them.
SESSION_FACTOR = 1.05
INT8_START_FACTOR = 3.1
ARRAY_HEADER_BYTES = 112  # a numpy array object beside its data (one per record)
TEXT_OVERHEAD_BYTES = 56  # a Python str object beside its characters (one per record)
_WEIGHT_SUFFIXES = (".onnx", ".data", ".onnx_data", ".bin")
CUDA = "CUDAExecutionProvider"

_device_probe: Callable[[], int | None] | None = None


def set_device_memory_probe(probe: Callable[[], int | None] | None) -> None:
    """Register the function that says the GPU's free bytes (None: unknown)."""
    global _device_probe
    _device_probe = probe


@dataclass(frozen=True, slots=True)
class MemoryNeed:
    """(part, bytes) the run holds at once on the host, and on the device (a GPU run)."""

    host: tuple[tuple[str, int], ...]
    device: tuple[tuple[str, int], ...] = ()
    startup: int = 0  # a peak before the cohorts are read (the int8 quantizer), host side

    @property
    def host_bytes(self) -> int:
        return max(sum(b for _, b in self.host), self.startup)

    @property
    def device_bytes(self) -> int:
        return sum(b for _, b in self.device)


@dataclass(frozen=True, slots=True)
class Available:
    host: int | None
    device: int | None = None


def weight_bytes(files: Sequence[tuple[str, int]]) -> int:
    """The weights of a model from its inspected files' (name, bytes)."""
    return sum(size for name, size in files if name.endswith(_WEIGHT_SUFFIXES))


def language_model_need(model: OnnxCausalLM, token_ids: Mapping[Role, Sequence[np.ndarray]], *,
                        batch_size: int, text_bytes: int = 0, reference_files: Sequence[tuple[str, int]] = (),
                        generating: bool = False, generation_rows: int = DEFAULT_BATCH_ROWS,
                        kept_bytes: int = 0, precision: str = "fp32", reducers: int = 8) -> MemoryNeed:
    """`model`: the opened OnnxCausalLM (its files, vocabulary, context, KV shapes);
    `token_ids`: each cohort's encoded records; `text_bytes`: the records' text."""
    files = [(f.name, f.bytes) for f in model.info.files]
    weights = weight_bytes(files)
    held = int(SESSION_FACTOR * weights)
    if precision == "int8":  # the int8 session, and the fp32 one its agreement sample opens
        held = int(SESSION_FACTOR * weights * 1.25)
    lengths = [_lengths(ids) for ids in token_ids.values()]
    records = sum(len(x) for x in lengths)
    tokens = int(sum(int(x.sum()) for x in lengths))
    longest = max((int(x.max()) for x in lengths if len(x)), default=1)
    # A cohort's ids packed in one int32 buffer (models/packed_ids.py), or an array a record.
    packed = all(isinstance(ids, PackedIds) for ids in token_ids.values())
    per_token, per_record = (4, 8) if packed else (8, ARRAY_HEADER_BYTES)
    context = int(model.context_length or longest)
    window = max(1, min(longest, context))
    vocab = int(model.vocab_size)
    per_token_kv = _kv_floats_per_token(model)  # keys and values of every layer, one position
    heads, width = _heads_and_width(model)

    # The scoring batch (passes/token_scores.py): rows of the window's length.
    rows = max(1, min(batch_size, MAX_LOGIT_FLOATS // max(window * vocab, 1)))
    logits = rows * window * vocab * 4 * 2  # onnxruntime's output and its arena block
    stats = STATS_FLOATS * 4 * 3
    activations = rows * window * 4 * (heads * window * 2 + per_token_kv + 8 * width)
    scoring = logits + stats + activations

    parts = [("model weights", held)]
    if reference_files:
        parts.append(("reference model", int(SESSION_FACTOR * weight_bytes(reference_files))))
    parts.append(("cohorts' tokens", tokens * per_token + text_bytes
                  + records * (per_record + TEXT_OVERHEAD_BYTES + 8 * reducers)))
    working = [("scoring batch", scoring)]
    if generating:
        kv_rows = generation_rows * per_token_kv * 4 * context
        decode = 2 * min(KV_BUDGET_BYTES, kv_rows) + generation_rows * vocab * 4 * 3
        # Small models decode two batches side by side, each stream with a session of its
        # own (generation/streams.py): their weights and batches are held at once.
        streams = stream_count(model, 2)
        if streams > 1:
            parts.append(("model copies for side-by-side decoding", streams * held))
            working.append((f"generation batches ({streams} side by side)", streams * decode + kept_bytes))
        else:
            working.append(("generation batch", decode + kept_bytes))
    biggest = max(working, key=lambda part: part[1])
    startup = int(INT8_START_FACTOR * weights) if precision == "int8" else 0
    if getattr(model, "provider", "") == CUDA:
        # On the device: the weights (the batches are capped to the free memory left once
        # they are there: models/device_memory.py); the host keeps the cohorts and a copy
        # of the weights while the session is built.
        return MemoryNeed(host=tuple(parts), device=(("model weights", weights),), startup=startup)
    return MemoryNeed(host=(*parts, biggest), startup=startup)


def audit_need(plan: AuditPlan, model: OnnxCausalLM, cohorts: Mapping[Role, Cohort],
               token_ids: Mapping[Role, Sequence[np.ndarray]],
               selected: Sequence[tuple[Probe, object]], *, kept_bytes: int = 0) -> MemoryNeed:
    """The need of `plan`'s audit with `model` open and the cohorts read and encoded (the
    estimate and the run's check alike); `kept_bytes`: the answers the generation step
    keeps at once, where the estimate has counted them."""
    reference: list[tuple[str, int]] = []
    if plan.model.reference is not None:
        folder = resolve_model_path(plan.model.reference).parent
        reference = [(p.name, p.stat().st_size) for p in folder.iterdir() if p.is_file()]
    text = sum(text_bytes_of(c.sequences) for c in cohorts.values())
    return language_model_need(
        model, token_ids, batch_size=plan.model.batch_size, text_bytes=text, reference_files=reference,
        generating=any(p.needs.generation for p, _ in selected),
        generation_rows=batch_rows(selected), kept_bytes=kept_bytes,
        precision=plan.model.precision, reducers=len(selected))


def startup_need(files: Sequence[tuple[str, int]], precision: str) -> MemoryNeed:
    """What opening the model needs, checked before it is opened (its weights; the int8
    quantizer's peak)."""
    weights = weight_bytes(files)
    return MemoryNeed(host=(("model weights", int(SESSION_FACTOR * weights)),),
                      startup=int(INT8_START_FACTOR * weights) if precision == "int8" else 0)


def available_now(device: bool = False) -> Available:
    """What the process may use: its own resident set plus what the system can give, and
    (`device`) the GPU's free memory: the registered probe's, else models/device_memory.py's."""
    free = available_memory()
    host = None if free is None else free + resident_bytes()
    return Available(host, _device_free() if device else None)


def _device_free() -> int | None:
    if _device_probe is not None:
        return _device_probe()
    from audit_core.models.device_memory import free_device_memory

    found = free_device_memory()
    return None if found is None else found.free


def describe_memory(need: MemoryNeed, available: Available | None = None) -> str:
    """One line for the estimate (CLI and desktop): "memory about 1.2 GB of 20.3 GB available"."""
    available = available or available_now(device=bool(need.device))
    text = f"memory about {format_size(need.host_bytes)}"
    if available.host is not None:
        text += f" of {format_size(available.host)} available"
    if need.device:
        text += f"; GPU memory about {format_size(need.device_bytes)}"
        if available.device is not None:
            text += f" of {format_size(available.device)} free"
    return text


def check_memory(need: MemoryNeed, available: Available | None = None, *, where: str = "the audit") -> None:
    """PlanError when `need` cannot fit, naming the largest parts and what to lower."""
    available = available or available_now(device=bool(need.device))
    for side, parts, total, room in _sides(need, available):
        if room is None or total <= room:
            continue
        listed = sorted(parts, key=lambda p: -p[1])
        if need.startup > sum(b for _, b in parts) and side == "memory":
            listed = [("int8 quantization (start-up)", need.startup)]
        detail = ", ".join(f"{name} {format_size(size)}" for name, size in listed[:3])
        raise PlanError(f"{where} needs about {format_size(total)} of {side} ({detail}), more than "
                        f"the {format_size(room)} available: {_advice(listed[0][0])}")


def _sides(need: MemoryNeed, available: Available) -> tuple[tuple[str, tuple, int, int | None], ...]:
    return (("memory", need.host, need.host_bytes, available.host),
            ("GPU memory", need.device, need.device_bytes, available.device))


def _fits(need: MemoryNeed, available: Available) -> bool:
    return all(room is None or total <= room for _, _, total, room in _sides(need, available))


def fitting_need(plan: AuditPlan, model: OnnxCausalLM, cohorts: Mapping[Role, Cohort],
                 token_ids: Mapping[Role, Sequence[np.ndarray]],
                 selected: Sequence[tuple[Probe, object]], *, kept_bytes: int = 0) -> MemoryNeed:
    """`audit_need` as the run will have it: with two decoding streams (a second copy of the
    weights and a second batch) where they fit beside the rest, else with one, the model's
    `side_by_side` switched off (the same answers, slower) instead of a refused run."""
    need = audit_need(plan, model, cohorts, token_ids, selected, kept_bytes=kept_bytes)
    if stream_count(model, 2) == 1 or _fits(need, available_now(device=bool(need.device))):
        return need
    model.side_by_side = False
    return audit_need(plan, model, cohorts, token_ids, selected, kept_bytes=kept_bytes)


def _advice(largest: str) -> str:
    if largest.startswith("generation batches"):  # "generation batches (2 side by side)"
        largest = "generation batch"
    return {
        "scoring batch": "lower 'model.batch_size'",
        "generation batch": "lower the generating probes' 'batch_size' (continuations per "
                            "model call) or 'max_records' (fewer kept answers)",
        "cohorts' tokens": "audit a smaller cohort (split the members and non-members files)",
        "reference model": "use a smaller reference model, or none",
        "int8 quantization (start-up)": "set model.precision = \"fp32\", or quantize the model "
                                        "before the audit on a larger machine",
    }.get(largest, "use a machine with more memory, or a smaller model "
                   "(set 'model.provider' to the device with more memory)")


def _lengths(ids: Sequence[np.ndarray]) -> np.ndarray:
    if isinstance(ids, PackedIds):
        return np.asarray(ids.lengths)
    return np.array([len(x) for x in ids], dtype=np.int64)


def _kv_floats_per_token(model: OnnxCausalLM) -> int:
    shapes = getattr(model, "_past_shapes", {}) or {}
    return int(sum(heads * dim for heads, dim in shapes.values()))


def _heads_and_width(model: OnnxCausalLM) -> tuple[int, int]:
    """One layer's attention heads and hidden width, from the KV inputs' shapes; a graph
    without a KV cache gives no shapes: a width guessed from the weights (12 d^2 per layer)."""
    shapes = list((getattr(model, "_past_shapes", {}) or {}).values())
    if shapes:
        heads, dim = shapes[0]
        return int(heads), int(heads * dim)
    parameters = int(getattr(model.info, "parameters", 0) or 0)
    return 16, max(64, int((parameters / 12) ** 0.5))


def text_bytes_of(sequences: Sequence[object]) -> int:
    """The records' text as Python holds it (one byte a character for ASCII text)."""
    return int(sum(len(s) if isinstance(s, str) else 64 for s in sequences))
