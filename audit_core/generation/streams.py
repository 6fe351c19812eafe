"""Decoding a schedule's batches side by side on the CPU, one onnxruntime session a stream.

Why. One session with an intra-op thread per core keeps every core busy only while it
multiplies matrices. Between those, a decoding step leaves a core idle or spinning: the
export's Concat that copies the whole KV cache at every step runs on one thread, and the
sampling between steps (models/batch_decoding.py) is numpy on one core. Two sessions of
half the threads each, each decoding its own batch in its own Python thread (onnxruntime
and numpy's large operations release the GIL), fill each other's gaps. Measured on the
demo's generation step (issue 21, 2-core EPYC VM, the same 51 batches, four alternating
runs): 9.0-10.6 s with two single-thread streams against 12.3-17.4 s with one two-thread
session, and 13.1-13.8 s with two Python threads sharing the one session.

Same answers. A row's tokens depend on its prompt and its own draws only, never on the
rows or batches beside it (models/batch_decoding.py), and onnxruntime's CPU kernels give
the same bits whatever their thread count (a thread reduces whole output elements; the
split only changes which thread does which): the six bundled plans' results are identical
with one stream or two, and tests/generation/test_streams.py checks the answers.

When (`stream_count`): the CPU provider in fp32 without I/O binding, at least two threads
and two batches, and weights small enough that two streams still pay (STREAM_WEIGHT_BYTES):
a larger model's matrix products keep every core busy on their own, and its weights are the
memory a copy would double. Measured on synthetic GPT-2 decoders (tools/bench/synthetic_lm,
1,024 tokens, 4 x 24 tokens sampled at top-p 0.95 from each of 256-600 prompts of 8-48
tokens, two alternating repeats; 2-core VM, 7 December 2026): two streams took 0.73 of
one session's time at 1.1M parameters, 0.78 at 3.7M, 0.94 at 20M and 1.06 at 51M (slower),
so the streams stop at 32M parameters, where the measured times cross. Two streams, not
one per core: that is what was measured; each stream also holds its own batch's KV cache,
which the memory check counts (kinds/memory_need.py): where the second copy and batch
would not fit, the model decodes in one session instead (`OnnxCausalLM.side_by_side`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from audit_core.models.runtime import CPU_PROVIDER

Batch = TypeVar("Batch")

STREAMS = 2
# A model past this many bytes of fp32 weights (32M parameters) decodes in its one session.
STREAM_WEIGHT_BYTES = 128 << 20
# The generation step's time in two streams against one session of both threads, by the
# model's parameter count (the measurements above; the demo's 0.9M: medians 9.6 s against
# 14.3 s, 0.67-0.70 over the runs), read in between on log10(parameters). The estimate
# prices one session's steps (kinds/estimates.py) and scales them by this.
_SIDE_BY_SIDE_TIMES = ((0.9e6, 0.68), (1.1e6, 0.73), (3.7e6, 0.78), (20e6, 0.94),
                       (STREAM_WEIGHT_BYTES / 4, 1.0))
# How often the waiting main thread relays the streams' progress and checks for a cancel.
_RELAY_EVERY = 0.1


class _Stopped(Exception):
    """Raised inside a stream's step once the run is cancelled or another stream failed."""


def stream_count(model: Any, batches: int) -> int:
    """How many streams `model` decodes `batches` batches in (1: its own session alone)."""
    if batches < 2 or not hasattr(model, "twin"):  # a test's stand-in model decodes alone
        return 1
    if (model.provider != CPU_PROVIDER or model.precision != "fp32" or model.io_binding
            or model.threads < STREAMS or not model.side_by_side):
        return 1
    return STREAMS if 4 * model.info.parameters <= STREAM_WEIGHT_BYTES else 1  # fp32 weights


def side_by_side_time(parameters: int) -> float:
    """The share of one session's decoding time that two streams take, for a model of
    `parameters` (measured points, interpolated on the logarithm of the size)."""
    sizes, times = zip(*_SIDE_BY_SIDE_TIMES, strict=True)
    return float(np.interp(np.log10(max(parameters, 1)), np.log10(sizes), times))


def stream_threads(threads: int, streams: int) -> list[int]:
    """The intra-op threads of each stream's session: `threads` shared out, none below one."""
    return [max(1, threads // streams + (1 if i < threads % streams else 0)) for i in range(streams)]


def decode_streams(models: Sequence[Any], batches: Sequence[Batch],
                   decode: Callable[[Any, Batch, Callable[[int], None]], Any],
                   advance: Callable[[int], None]) -> Iterator[tuple[Batch, Any, float]]:
    """Decode `batches` with `decode(model, batch, on_rows)`, one Python thread per model,
    each taking the next batch as it finishes one. Yields (batch, result, seconds) in the
    order they finish, in the caller's thread, which also relays the rows decoded to
    `advance` (a progress bar, whose cancel check may raise: the streams then stop at
    their next step and the exception is raised here). A stream's error is raised here too,
    after the other streams have stopped."""
    if len(models) == 1:  # one stream: in the caller's thread, as it always decoded
        for batch in batches:
            started = time.perf_counter()
            result = decode(models[0], batch, advance)
            yield batch, result, time.perf_counter() - started
        return
    pending = list(reversed(batches))
    lock = threading.Lock()
    stop = threading.Event()
    done: queue.Queue = queue.Queue()
    rows = [0]

    def on_rows(count: int) -> None:
        if stop.is_set():
            raise _Stopped
        with lock:
            rows[0] += count

    def work(model: Any) -> None:
        try:
            while not stop.is_set():
                with lock:
                    if not pending:
                        return
                    batch = pending.pop()
                started = time.perf_counter()
                result = decode(model, batch, on_rows)
                done.put((batch, result, time.perf_counter() - started, None))
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            stop.set()
            done.put((None, None, 0.0, exc))
        finally:
            done.put(None)  # this stream has ended

    threads = [threading.Thread(target=work, args=(m,), name=f"mnemoscope-decode-{i}", daemon=True)
               for i, m in enumerate(models)]
    for thread in threads:
        thread.start()
    running, relayed = len(threads), 0
    try:
        while running:
            try:
                item = done.get(timeout=_RELAY_EVERY)
            except queue.Empty:
                item = False
            with lock:
                fresh, relayed = rows[0] - relayed, rows[0]
            advance(fresh)  # also the cancel check, rows or not
            if item is None:
                running -= 1
            elif item:
                batch, result, seconds, error = item
                if error is not None:
                    raise error
                yield batch, result, seconds
    finally:
        stop.set()
        for thread in threads:
            thread.join()
