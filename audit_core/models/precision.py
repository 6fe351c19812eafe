"""The labelled precisions: the int8 "fast screen" (weights quantized to int8) and fp16
(weights and activations in half precision, for a GPU). Neither is ever the default.

onnxruntime's dynamic quantization (weights int8 once, activations quantized per call)
runs the matrix multiplies on the CPU's integer units: about 3-4x the fp32 throughput
on a VNNI/AMX CPU, much less on an AVX2-only PC. Per-token log-probabilities move by a
few hundredths of a nat, well under the member/non-member gaps memorization produces,
but it is a different model: a screen for deciding where to look, never the evidence.
So fp32 stays the default, the report and results.json label int8 runs, and the run
records how well int8 ranks records like fp32 does (passes/precision_agreement.py: it
scores with both models, so it sits above the models and the token-scores pass).

fp16 (onnxruntime's bundled converter, `_half`) halves the weights' memory and runs a GPU's
tensor cores; logits move by about 1e-2 on the demo model (measured: 0.0096 at most),
again a different model, labelled the same way with its agreement against fp32. The
graph's inputs and outputs stay float32 (keep_io_types): the engine feeds float32 ids,
masks and KV cache and reads float32 logits exactly as for fp32, and casts at the graph's
edges do the rest. So the cache a GPU holds between steps stays float32 (twice an fp16
cache's memory, which the batch-size rule counts: models/device_memory.py).

The converted copy is written to a private temporary folder; the audited files are only
ever read. The conversion is the slow part of an int8 start (it rewrites every weight), so
a process converts a model once: the estimate the CLI prints, the run after it, and the
desktop's estimate then audit all open the same copy, found by the model's content
(`_source_key`). The cache holds the last two models (the audited one and its reference)
and is removed when the process exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

from audit_core.errors import ModelError
from audit_core.fingerprint import file_sha256

PRECISIONS = ("fp32", "int8", "fp16")
INT8_LABEL = "int8 fast screen (dynamic quantization; not the fp32 evidence)"
FP16_LABEL = "fp16 (half-precision weights and activations; not the fp32 evidence)"
LABELS = {"int8": INT8_LABEL, "fp16": FP16_LABEL}

_CACHE_ENTRIES = 2  # the audited model and its reference model
_cache: OrderedDict[tuple, Path] = OrderedDict()  # (precision, source key) -> folder of the copy
# Held while quantizing: the desktop's estimate and its audit run on two threads, and the
# second must wait for the first's copy rather than quantize the same model again.
_cache_lock = threading.Lock()


def quantize_int8(model_path: Path, name: str) -> Path:
    """An int8 copy of `model_path` in a new temporary folder (the caller removes it)."""
    return converted_copy(model_path, name, "int8")


def converted_copy(model_path: Path, name: str, precision: str) -> Path:
    """An int8 or fp16 copy of `model_path` in a new temporary folder (the caller removes it).

    The folder holds links to (or copies of) this process's converted copy of the model,
    made on first use and reused while the model's files are unchanged."""
    key = (precision, *_source_key(model_path))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None or not cached.is_dir():
            cached = _quantize(model_path, name) if precision == "int8" else _half(model_path, name)
            _cache[key] = cached
            while len(_cache) > _CACHE_ENTRIES:
                shutil.rmtree(_cache.popitem(last=False)[1], ignore_errors=True)
        _cache.move_to_end(key)
        return _private_copy(cached, precision)


def clear_int8_cache() -> None:
    """Remove every quantized copy this process keeps (at exit, and for tests)."""
    with _cache_lock:
        while _cache:
            shutil.rmtree(_cache.popitem()[1], ignore_errors=True)


atexit.register(clear_int8_cache)


def _source_key(model_path: Path) -> tuple:
    """What the quantized copy is a function of: the graph file's content (a re-export
    differs there) and, for external weights, each file's name, size and modification
    time (hashing gigabytes of weights at every start would cost seconds)."""
    external = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in _external_files(model_path))
    return (str(model_path.resolve()), file_sha256(model_path), tuple(external))


def _external_files(model_path: Path) -> list[Path]:
    # Regular files only: a pipe of that name would block the copy forever (the graph's own
    # weight files were checked by inspection; these are only the folder's other .data files).
    return [p for p in model_path.parent.iterdir()
            if p != model_path and (p.suffix == ".data" or p.name.endswith(".onnx_data"))
            and p.is_file()]


def _private_copy(folder: Path, precision: str) -> Path:
    """The cached copy's files linked into a new folder the caller may remove."""
    workdir = Path(tempfile.mkdtemp(prefix=f"mnemoscope-{precision}-"))
    for file in folder.iterdir():
        try:
            os.link(file, workdir / file.name)  # no copy of the weights: same disk blocks
        except OSError:  # a file system without hard links
            shutil.copy2(file, workdir / file.name)
    return workdir / f"model.{precision}.onnx"


# A process killed outright (kill -9, a power cut) cannot remove its copies; the next
# process that quantizes removes those left for longer than any audit would hold them.
_STALE_SECONDS = 2 * 24 * 3600
_PREFIXES = ("mnemoscope-int8cache-", "mnemoscope-int8-", "mnemoscope-fp16cache-", "mnemoscope-fp16-")


def remove_stale_copies(folder: Path | None = None, now: float | None = None) -> int:
    """Remove quantized copies older than `_STALE_SECONDS` from the temporary folder;
    returns how many. A live process's copy is recent, or already loaded by onnxruntime
    (which reads the model once, at session start) and rebuilt if asked for again."""
    import time

    folder = Path(folder or tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = 0
    for prefix in _PREFIXES:
        for path in folder.glob(prefix + "*"):
            try:
                if path.is_dir() and now - path.stat().st_mtime > _STALE_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
                    removed += 1
            except OSError:  # another process removed it first, or it is not ours
                continue
    return removed


@contextmanager
def _new_copy(name: str, precision: str, verb: str):
    """A new cache folder for a converted copy of `name`, removed again when the converter
    fails (told in the tool's words: the converters raise many types for graphs they
    cannot handle); their log lines are advice meant for their developers."""
    remove_stale_copies()
    workdir = Path(tempfile.mkdtemp(prefix=f"mnemoscope-{precision}cache-"))
    logging.disable(logging.WARNING)
    try:
        yield workdir
    except Exception as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise ModelError(f"cannot {verb} {name} to {precision} ({exc.__class__.__name__}): run it "
                         "with model.precision = \"fp32\"") from None
    finally:
        logging.disable(logging.NOTSET)


def _quantize(model_path: Path, name: str) -> Path:
    """Quantize into a new cache folder; returns the folder."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    external = bool(_external_files(model_path))
    with _new_copy(name, "int8", "quantize") as workdir:
        # The unfused graph quantizes best: fused LayerNorm/GELU nodes are slower in int8.
        quantize_dynamic(str(model_path), str(workdir / "model.int8.onnx"), weight_type=QuantType.QInt8,
                         use_external_data_format=external)
    return workdir


def _half(model_path: Path, name: str) -> Path:
    """Convert to fp16 into a new cache folder (float32 inputs and outputs); returns it.
    The converter warns about values it clamps to fp16's range (silenced with the rest)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    external = bool(_external_files(model_path))
    with _new_copy(name, "fp16", "convert") as workdir:
        graph = onnx.load(str(model_path))  # with its external weights
        half = convert_float_to_float16(graph, keep_io_types=True, disable_shape_infer=external)
        del graph
        # Past 2 GB even at half size: external data, as the source had (protobuf's limit).
        onnx.save(half, str(workdir / "model.fp16.onnx"), save_as_external_data=external,
                  all_tensors_to_one_file=True, location="model.fp16.onnx.data")
    return workdir
