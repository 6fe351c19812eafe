"""The audit's one generation schedule: every generating probe's requests, decoded together.

Before the generating probes run, the runner asks each for the requests it will make
(`Probe.generation`) and decodes them all in one pass (`run`): requests are grouped by
what a batch must share (prompt length, left-padded to a multiple of 8 where the model
allows it; temperature, top-p, stop tokens, watched sets), whatever probe, tier or cohort
they come from, and cut into batches of `batch_rows` continuations (fewer when a big
model's KV cache would pass KV_BUDGET_BYTES); a request asked for several times (a prompt
seeded by its content, ProbeContext.prompt_seed: patients who share a prompt, or probes
that ask the same question of it) is decoded once, and a prompt is run once per batch with
its KV cache shared by all its rows. Each probe
then asks for its answers (`generate`); one it did not declare, or that depends on an
earlier answer (T5 perturbs the patients its screen flagged), is decoded there and then,
with the same code. The answers are the same either way (models/batch_decoding.py: a row's
tokens depend on its prompt and its own draws only), and whether the batches are decoded in
turn, two side by side on the CPU (generation/streams.py) or on a cluster's workers.

`counts` says what was decoded (rows, row-steps, model calls, prompts run, on-the-spot
requests): run.json reports it, and the estimate counts the same things ahead of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from audit_core.generation import saved_batches
from audit_core.generation.requests import Generated, Request
from audit_core.generation.saved_batches import SavedBatches
from audit_core.generation.streams import decode_streams, stream_count, stream_threads
from audit_core.models.batch_decoding import RowSettings, decode_rows
from audit_core.models.onnx_causal_lm import watched_ids
from audit_core.work.checkpoints import OpenCheckpoint
from audit_core.work.progress import Progress, ignore_progress
from audit_core.work.shards import DECODE, Shards

DEFAULT_BATCH_ROWS = 256
# The KV cache of one batch at its longest stays under this (onnxruntime also holds a copy
# of it as the step's present outputs).
KV_BUDGET_BYTES = 1 << 30
# Prompts are left-padded to a multiple of this (when the model allows it): prompts of
# lengths 9 to 16 share batches, for at most 7 masked positions each.
PAD_TO = 8
_SHOW_EVERY = 0.25  # seconds between progress messages


@dataclass(slots=True)
class Counts:
    """What a schedule decoded (summed over its runs and on-the-spot requests)."""

    requests: int = 0
    rows: int = 0  # continuations
    row_steps: int = 0  # tokens decoded
    calls: int = 0  # model calls (prefills and steps)
    prefills: int = 0  # distinct prompts run
    on_the_spot: int = 0  # requests decoded outside the merged run
    streams: int = 1  # the most batches decoded side by side on this machine (generation/streams.py)
    seconds: float = 0.0
    # Seconds of the merged run by declaring probe, shared in proportion to their tokens
    # (a probe's on-the-spot decoding is timed inside its own run).
    by_probe: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"requests": self.requests, "continuations": self.rows, "tokens": self.row_steps,
                "model_calls": self.calls, "prompts_run": self.prefills,
                "on_the_spot": self.on_the_spot, "streams": self.streams,
                "seconds": round(self.seconds, 3),
                "seconds_by_probe": {k: round(v, 3) for k, v in sorted(self.by_probe.items())}}


class GenerationSchedule:
    def __init__(self, model, *, batch_rows: int = DEFAULT_BATCH_ROWS, shards: Shards | None = None,
                 checkpoint: OpenCheckpoint | None = None) -> None:
        """`shards`: decode the batches on a cluster's workers (each holds its own copy of
        the model; the answers are the same: a row depends on its prompt and draws only).
        `checkpoint`: the run's; finished batches are kept there and a resumed run reads
        them back (generation/saved_batches.py)."""
        self.model = model
        self._saved = SavedBatches(checkpoint) if checkpoint is not None else None
        self.batch_rows = max(1, int(batch_rows))
        self.shards = shards
        self.counts = Counts()
        self._declared: dict[str, tuple[str, Request]] = {}
        self._answers: dict[str, Generated] = {}
        self._wanted: dict[str, int] = {}  # declared askers not yet answered, by request
        self._twins: list = []  # the model's stream sessions, once several batches decode

    def declare(self, probe_id: str, requests: Iterable[Request]) -> None:
        """Requests `probe_id` will make; decoded by the next `run`. A request declared
        several times (two probes, or two patients with the same prompt) is decoded once
        and kept until it has been asked for as many times."""
        for request in requests:  # each time it will be asked for
            self._wanted[request.key] = self._wanted.get(request.key, 0) + 1
            if request.key not in self._answers:
                self._declared.setdefault(request.key, (probe_id, request))

    def run(self, progress: Progress) -> None:
        """Decode every declared request (one merged pass)."""
        declared = list(self._declared.values())
        self._declared.clear()
        answers = self._decode([r for _, r in declared], progress, owners=[p for p, _ in declared])
        self._answers.update(answers)

    def generate(self, requests: Sequence[Request], progress: Progress | None = None) -> list[Generated]:
        """The answers to `requests`, in order: from the merged run, or decoded now. An
        answer is kept until every probe that declared it has asked (a finished probe's
        samples are not kept)."""
        missing = {r.key: r for r in requests if r.key not in self._answers}
        if missing:
            fresh = list(missing.values())
            self.counts.on_the_spot += len(fresh)
            self._answers.update(self._decode(fresh, progress or Progress(ignore_progress)))
        out = [self._answers[r.key] for r in requests]
        for r in requests:  # let go of what no probe will ask for again
            left = self._wanted.get(r.key, 1) - 1
            if left > 0:
                self._wanted[r.key] = left
            else:
                self._wanted.pop(r.key, None)
                self._answers.pop(r.key, None)
        return out

    def _decode(self, requests: list[Request], progress: Progress,
                owners: list[str] | None = None) -> dict[str, Generated]:
        """`owners`: the declaring probe of each request (the merged run), whose seconds
        get their share; None on the spot (inside the asking probe's own time)."""
        started = time.perf_counter()
        total = max(1, sum(r.n * r.steps for r in requests))
        # One message for the whole step (the bar moves; a log is not flooded with counts).
        words = f"decoding {len(requests):,} requests, up to {total:,} tokens"
        done = [0]
        shown = [started]

        def advance(rows: int) -> None:
            # Told every step (a few ms); shown a few times a second, cancel checked always.
            done[0] += rows
            now = time.perf_counter()
            if now - shown[0] >= _SHOW_EVERY:
                shown[0] = now
                progress.advance(min(1.0, done[0] / total), words)
            else:
                progress.check()

        answers: dict[str, Generated] = {}
        if not hasattr(self.model, "_run"):  # a test's stand-in model that only samples
            for request in requests:
                answers[request.key] = _stand_in(self.model, request)
                advance(request.n * request.steps)
        else:
            if self._saved is not None:  # a resumed run: what the checkpoint holds is not decoded again
                answers.update(self._saved.find(requests))
                advance(sum(r.n * r.steps for r in requests if r.key in answers))
            todo = [r for r in requests if r.key not in answers]
            batches = list(batches_of(self, todo))
            if self.shards is not None:  # in order, each batch's work counted as it arrives
                last = time.perf_counter()
                for batch, (part, work) in zip(batches, self.shards.map(DECODE, batches), strict=True):
                    answers.update(part)
                    self._count(work)
                    advance(sum(r.n * r.steps for r in batch))
                    now = time.perf_counter()
                    self._keep(part, now - last)
                    last = now
            else:  # side by side on the CPU where that pays (generation/streams.py)
                for _, (part, work), seconds in decode_streams(self._streams(len(batches)), batches,
                                                               decode_batch, advance):
                    answers.update(part)
                    self._count(work)
                    self._keep(part, seconds)
        elapsed = time.perf_counter() - started
        self.counts.seconds += elapsed
        self.counts.requests += len(requests)
        for owner, request in zip(owners or (), requests, strict=False):
            share = elapsed * request.n * request.steps / total
            self.counts.by_probe[owner] = self.counts.by_probe.get(owner, 0.0) + share
        return answers

    def _keep(self, part: dict[str, Generated], seconds: float) -> None:
        """Save a batch that took long enough to be worth a synced commit."""
        if self._saved is not None and seconds >= saved_batches.SAVE_AFTER_SECONDS:
            self._saved.save(part)

    def _streams(self, batches: int) -> list:
        """The models that decode `batches` batches side by side: the audited one alone, or
        its twins, opened once per audit (generation/streams.py)."""
        count = stream_count(self.model, batches)
        self.counts.streams = max(self.counts.streams, count)
        if count == 1:
            return [self.model]
        if len(self._twins) != count:
            self._twins = [self.model.twin(t) for t in stream_threads(self.model.threads, count)]
        return self._twins

    def _count(self, work: BatchWork) -> None:
        self.counts.rows += work.rows
        self.counts.row_steps += work.row_steps
        self.counts.calls += work.calls
        self.counts.prefills += work.prefills


@dataclass(frozen=True, slots=True)
class BatchWork:
    """What decoding one batch took (Counts adds them up)."""

    rows: int
    row_steps: int
    calls: int
    prefills: int


def decode_batch(model, batch: list[Request],
                 advance: Callable[[int], None]) -> tuple[dict[str, Generated], BatchWork]:
    """One batch's answers (by request key) and what it took: on the driver, or on a
    cluster's worker with its own copy of the model (`decode_shard`)."""
    first = batch[0]
    # Each distinct prompt once (its first request stands for it), rows pointing at it.
    heads: dict[str, Request] = {}
    for request in batch:
        heads.setdefault(request.prompt_key, request)
    prompts = {key: index for index, key in enumerate(heads)}
    first_of = list(heads.values())
    events = [r.events for r in first_of]
    owner = np.concatenate([np.full(r.n, prompts[r.prompt_key]) for r in batch])
    steps = np.concatenate([np.full(r.n, r.steps) for r in batch])
    draws = None
    if not first.greedy:
        width = int(steps.max())
        draws = np.zeros((len(owner), width))
        row = 0
        for r in batch:
            drawn = r.draws()
            assert drawn is not None
            draws[row:row + r.n, :r.steps] = drawn
            row += r.n
    settings = RowSettings(temperature=first.temperature, top_p=first.top_p,
                           stops=np.asarray(first.stops, dtype=np.int64),
                           watch=(watched_ids(first.watch.sets, model.vocab_size)
                                  if first.watch is not None else None))
    calls = [0]

    def on_step(rows: int) -> None:
        calls[0] += 1
        advance(rows)

    width = padded_length(model, first)
    lengths = np.array([len(r.prompt) for r in first_of])
    padded = np.zeros((len(first_of), width), dtype=np.int64)
    for row, r in enumerate(first_of):
        padded[row, width - len(r.prompt):] = r.prompt
    tokens, mass = decode_rows(model, padded,
                               None if all(e is None for e in events) else events,
                               owner, steps, draws, settings, on_step=on_step,
                               lengths=lengths if getattr(model, "left_padding", False) else None)
    answers: dict[str, Generated] = {}
    row = 0
    for r in batch:
        answers[r.key] = Generated(tokens=tokens[row:row + r.n, :r.steps].copy(),
                                   mass=mass[row:row + r.n, :r.steps].copy())
        row += r.n
    return answers, BatchWork(rows=len(owner), row_steps=int(steps.sum()), calls=calls[0],
                              prefills=len(first_of))


def decode_shard(models: Sequence[object], batch: list[Request]) -> tuple[dict[str, Generated], BatchWork]:
    """On a worker: a batch decoded by its copy of the audited model (models[0])."""
    return decode_batch(models[0], batch, lambda rows: None)


def batches_of(schedule: GenerationSchedule, requests: list[Request]) -> Iterable[list[Request]]:
    """The batches `schedule` decodes `requests` in (the estimate counts the same ones)."""
    for group in _groups(schedule.model, requests):
        rows = _rows_in_memory(schedule.model, group, schedule.batch_rows)
        yield from _batches(group, rows)


def padded_length(model, request: Request) -> int:
    """The length `request`'s prompt is decoded at: its own, or (a model that allows left
    padding) the next multiple of PAD_TO that leaves room for its continuation. A function
    of the request alone, so its bits are the same in any batch (models/batch_decoding.py)."""
    length = len(request.prompt)
    if not getattr(model, "left_padding", False):
        return length
    padded = -(-length // PAD_TO) * PAD_TO
    return padded if padded + request.steps <= model.context_length else length


def _groups(model, requests: list[Request]) -> list[list[Request]]:
    """Requests a batch can hold together, groups in a fixed order (their content)."""
    groups: dict[tuple, list[Request]] = {}
    for r in requests:
        key = (padded_length(model, r), r.temperature, r.top_p, r.stops, r.watch.key if r.watch else "")
        groups.setdefault(key, []).append(r)
    # Rows sharing a prompt sit together, so that their prompt is run once per batch.
    return [sorted(groups[key], key=lambda r: (r.prompt_key, r.key))
            for key in sorted(groups, key=repr)]


def _rows_in_memory(model, group: list[Request], asked: int) -> int:
    """At most `asked` continuations, fewer when their KV cache would pass KV_BUDGET_BYTES
    at the group's longest sequence (a big model's cache is what bounds a batch; a tiny
    one's never does) or, on a GPU, when the device would not hold them
    (models/device_memory.py)."""
    shapes = getattr(model, "_past_shapes", {})
    longest = max(padded_length(model, r) + r.steps for r in group)
    per_row = sum(heads * dim for heads, dim in shapes.values()) * 4 * longest
    rows = min(asked, max(1, KV_BUDGET_BYTES // per_row) if per_row else asked)
    budget = getattr(model, "device_budget", None)
    return rows if budget is None else budget.cap("generation", rows, longest)


def _batches(group: list[Request], rows: int) -> Iterable[list[Request]]:
    batch: list[Request] = []
    size = 0
    for request in group:
        if batch and size + request.n > rows:
            yield batch
            batch, size = [], 0
        batch.append(request)
        size += request.n
    if batch:
        yield batch


def _stand_in(model, request: Request) -> Generated:
    """A test's stand-in model (it samples planted text): asked once per request, with a
    generator from the request's seed."""
    rng = np.random.default_rng(list(request.seed))
    if request.greedy and hasattr(model, "greedy"):
        kwargs = {} if request.events is None else {"events": [request.events]}
        tokens = np.asarray(model.greedy(request.prompt[None, :], request.steps, **kwargs))
        tokens = tokens.reshape(1, 1, -1)
        return Generated(tokens=tokens[0], mass=np.zeros((1, tokens.shape[-1], 0)))
    extra: dict = {}
    if request.watch is not None:
        extra["watch"] = list(request.watch.sets)
    if request.events is not None:
        extra["events"] = [request.events]
    drawn = model.sample([request.prompt], request.steps, n=request.n, rng=rng,
                         temperature=request.temperature, top_p=request.top_p,
                         stop_ids=request.stops, **extra)
    mass = drawn.mass[0] if getattr(drawn, "mass", None) is not None else np.zeros(
        drawn.tokens[0].shape + (0,))
    return Generated(tokens=drawn.tokens[0], mass=mass)
