"""What a generating probe asks of the model: a prompt, how many continuations, how long,
how they are drawn, which token sets to watch, and the seed of its own draws.

A request is a value: two requests with the same content are the same request (`key`), so
the schedule decodes it once and a probe finds its answer whether the runner decoded it
ahead with every other probe's requests or the probe asks for it on the spot. Its draws
come from its own seed (the audit's seed, the probe, and the probe's name for the request:
tier, cohort, patient), never from a generator shared with other requests, so the answer
does not depend on what else is decoded, or in which order.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from audit_core.data.events import EventFeatures


@dataclass(frozen=True, slots=True, eq=False)
class Watch:
    """Token-id sets whose probability each step records (a sensitive category's codes)."""

    sets: tuple[np.ndarray, ...]
    key: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.blake2b(digest_size=12)
        for ids in self.sets:
            digest.update(np.asarray(sorted(set(int(i) for i in ids)), dtype=np.int64).tobytes())
            digest.update(b"|")
        object.__setattr__(self, "key", digest.hexdigest())

    @classmethod
    def of(cls, sets: Sequence[np.ndarray]) -> Watch:
        return cls(tuple(np.asarray(s, dtype=np.int64) for s in sets))


@dataclass(frozen=True, slots=True, eq=False)
class Request:
    """`n` continuations of up to `steps` tokens after `prompt` (1-D ids, start token first).

    `temperature` 0 is greedy decoding (then n is 1: every draw would be the same);
    `stops` end a continuation (the stop token is kept); `events` feed an EHR model's side
    inputs (None: looked up in the audited records, or none needed); `seed`: the request's
    own draws (generation.seeds.request_seed)."""

    prompt: np.ndarray
    steps: int
    seed: tuple[int, ...]
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    stops: tuple[int, ...] = ()
    watch: Watch | None = None
    events: EventFeatures | None = None
    key: str = field(init=False)

    def __post_init__(self) -> None:
        prompt = np.asarray(self.prompt, dtype=np.int64).ravel()
        object.__setattr__(self, "prompt", prompt)
        object.__setattr__(self, "stops", tuple(sorted(set(int(s) for s in self.stops))))
        if self.temperature == 0:
            object.__setattr__(self, "n", 1)
        object.__setattr__(self, "key", _key(self))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    @property
    def prompt_key(self) -> str:
        """Requests with the same prompt key share one prefill (the same prompt and events)."""
        return _digest(self.prompt.tobytes(), _events_bytes(self.events))

    def draws(self) -> np.ndarray | None:
        """(n, steps) uniforms from the request's own seed; None when greedy."""
        if self.greedy:
            return None
        return np.random.default_rng(list(self.seed)).random((self.n, self.steps))


@dataclass(frozen=True, slots=True)
class Generated:
    """One request's answer: tokens (n, steps), -1 after a stop token (kept) and past the
    horizon; mass (n, steps, K), each watched set's probability per step (K = 0 unwatched)."""

    tokens: np.ndarray
    mass: np.ndarray

    def continuations(self) -> list[np.ndarray]:
        """Each continuation without its -1 fill."""
        return [row[row >= 0] for row in self.tokens]


def seed_of(base: Sequence[int], *name: int | str) -> tuple[int, ...]:
    """A request's seed: the probe's (`base`: the audit's seed and the probe) and the
    probe's name for the request (tier, cohort, patient; words are hashed)."""
    return tuple(int(b) for b in base) + tuple(
        part if isinstance(part, int) else zlib.crc32(part.encode()) for part in name)


def _key(request: Request) -> str:
    settings = (f"{request.steps}|{request.n}|{request.temperature!r}|{request.top_p!r}|"
                f"{request.stops}|{request.watch.key if request.watch else ''}|{request.seed}")
    return _digest(request.prompt.tobytes(), _events_bytes(request.events), settings.encode())


def _events_bytes(events: EventFeatures | None) -> bytes:
    if events is None:
        return b"-"
    return b"".join(np.ascontiguousarray(a).tobytes()
                    for a in (events.time_days, events.age_years, events.visit))


def _digest(*parts: bytes) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()
