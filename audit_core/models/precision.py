"""The optional int8 "fast screen": the audited model with its weights quantized to int8.

onnxruntime's dynamic quantization (weights int8 once, activations quantized per call)
runs the matrix multiplies on the CPU's integer units: about 3-4x the fp32 throughput
on a VNNI/AMX CPU, much less on an AVX2-only PC. Per-token log-probabilities move by a
few hundredths of a nat, well under the member/non-member gaps memorization produces,
but it is a different model: a screen for deciding where to look, never the evidence.
So fp32 stays the default, the report and results.json label int8 runs, and the run
records how well int8 ranks records like fp32 does (passes/precision_agreement.py: it
scores with both models, so it sits above the models and the token-scores pass).

The quantized copy is written to a private temporary folder; the audited files are only
ever read. The quantizer is the slow part of an int8 start (it rewrites every weight), so
a process quantizes a model once: the estimate the CLI prints, the run after it, and the
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
from pathlib import Path

from audit_core.errors import ModelError
from audit_core.fingerprint import file_sha256

PRECISIONS = ("fp32", "int8")
INT8_LABEL = "int8 fast screen (dynamic quantization; not the fp32 evidence)"

_CACHE_ENTRIES = 2  # the audited model and its reference model
_cache: OrderedDict[tuple, Path] = OrderedDict()  # source key -> folder of the quantized copy
# Held while quantizing: the desktop's estimate and its audit run on two threads, and the
# second must wait for the first's copy rather than quantize the same model again.
_cache_lock = threading.Lock()


def quantize_int8(model_path: Path, name: str) -> Path:
    """An int8 copy of `model_path` in a new temporary folder (the caller removes it).

    The folder holds links to (or copies of) this process's quantized copy of the model,
    made on first use and reused while the model's files are unchanged."""
    key = _source_key(model_path)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None or not cached.is_dir():
            cached = _quantize(model_path, name)
            _cache[key] = cached
            while len(_cache) > _CACHE_ENTRIES:
                shutil.rmtree(_cache.popitem(last=False)[1], ignore_errors=True)
        _cache.move_to_end(key)
        return _private_copy(cached)


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


def _private_copy(folder: Path) -> Path:
    """The cached copy's files linked into a new folder the caller may remove."""
    workdir = Path(tempfile.mkdtemp(prefix="mnemoscope-int8-"))
    for file in folder.iterdir():
        try:
            os.link(file, workdir / file.name)  # no copy of the weights: same disk blocks
        except OSError:  # a file system without hard links
            shutil.copy2(file, workdir / file.name)
    return workdir / "model.int8.onnx"


# A process killed outright (kill -9, a power cut) cannot remove its copies; the next
# process that quantizes removes those left for longer than any audit would hold them.
_STALE_SECONDS = 2 * 24 * 3600
_PREFIXES = ("mnemoscope-int8cache-", "mnemoscope-int8-")


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


def _quantize(model_path: Path, name: str) -> Path:
    """Quantize into a new cache folder; returns the folder."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    remove_stale_copies()
    workdir = Path(tempfile.mkdtemp(prefix="mnemoscope-int8cache-"))
    target = workdir / "model.int8.onnx"
    external = bool(_external_files(model_path))
    logging.disable(logging.WARNING)  # the quantizer logs advice meant for its developers
    try:
        # The unfused graph quantizes best: fused LayerNorm/GELU nodes are slower in int8.
        quantize_dynamic(str(model_path), str(target), weight_type=QuantType.QInt8,
                         use_external_data_format=external)
    except Exception as exc:  # the quantizer raises many types for graphs it cannot handle
        shutil.rmtree(workdir, ignore_errors=True)
        raise ModelError(f"cannot quantize {name} to int8 ({exc.__class__.__name__}): run it "
                         "with model.precision = \"fp32\"") from None
    finally:
        logging.disable(logging.NOTSET)
    return workdir
