"""What a canary set is, and how its canaries are drawn from the secret seed.

A canary is `prefix + lead + secret`: a prefix of `prefix_length` tokens drawn from a
pool (so canaries differ from each other and from real records), fixed lead words, and a
secret of `secret_length` symbols drawn uniformly, with replacement, from an alphabet.
The randomness space R is alphabet^secret_length (Carlini et al. 2019, section 3): the
exposure of a canary is measured against the other members of R with the same prefix.

Everything follows from the seed bytes and the set's description, so the manifest can be
public while the seed file stays secret: without the seed, the manifest says which
alphabet the secrets use but not which secrets were inserted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

KINDS = ("codes", "text")
# Neutral words for the prefixes of text canaries: no clinical meaning, no identifiers.
TEXT_PREFIX_WORDS = ("amber", "basalt", "cobalt", "delta", "ember", "fjord", "garnet", "harbor",
                     "indigo", "jasper", "kestrel", "lagoon", "meadow", "nimbus", "orchid",
                     "pewter", "quartz", "russet", "saffron", "tundra", "umber", "velvet",
                     "willow", "zephyr")
TEXT_LEAD = ("reference", "number", "is")
DIGITS = tuple("0123456789")


@dataclass(frozen=True, slots=True, kw_only=True)
class CanarySet:
    kind: str  # "codes" or "text": the cohort's record kind
    repeats: tuple[int, ...]  # insertions into the training data, one per canary
    alphabet: tuple[str, ...]  # secret symbols (codes of the cohort, or digits)
    secret_length: int
    prefix_pool: tuple[str, ...]
    prefix_length: int
    lead: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.repeats)

    @property
    def space_size(self) -> int:
        return len(self.alphabet) ** self.secret_length

    @property
    def space_bits(self) -> float:
        return self.secret_length * float(np.log2(len(self.alphabet)))


@dataclass(frozen=True, slots=True)
class Canary:
    id: str
    repeats: int
    prefix: tuple[str, ...]
    secret: tuple[int, ...]  # positions in the alphabet; never logged or reported


def render(canary_set: CanarySet, prefix: tuple[str, ...], secret: tuple[int, ...]) -> str:
    """The record text of a canary (or of a candidate with another secret)."""
    words = (*prefix, *canary_set.lead, *(canary_set.alphabet[i] for i in secret))
    return " ".join(words)


def seed_fingerprint(seed: bytes) -> str:
    """A check value for the manifest: tells a wrong seed file apart, reveals nothing."""
    return hashlib.sha256(b"mnemoscope canary seed check\0" + seed).hexdigest()[:16]


def draw_canaries(canary_set: CanarySet, seed: bytes) -> list[Canary]:
    """The canaries of the set, the same for the same seed on every machine."""
    words = np.frombuffer(hashlib.sha256(b"mnemoscope canaries\0" + seed).digest(), dtype=np.uint32)
    rng = np.random.default_rng(np.random.SeedSequence([int(w) for w in words]))
    canaries: list[Canary] = []
    prefixes: set[tuple[str, ...]] = set()
    for index, repeats in enumerate(canary_set.repeats):
        # Distinct prefixes: two canaries sharing one would compete for the same context.
        while True:
            picks = rng.integers(0, len(canary_set.prefix_pool), size=canary_set.prefix_length)
            prefix = tuple(canary_set.prefix_pool[i] for i in picks)
            if prefix not in prefixes or len(prefixes) >= len(canary_set.prefix_pool) ** canary_set.prefix_length:
                break
        prefixes.add(prefix)
        secret = tuple(int(i) for i in rng.integers(0, len(canary_set.alphabet),
                                                     size=canary_set.secret_length))
        canaries.append(Canary(f"CANARY-{index + 1:03d}", int(repeats), prefix, secret))
    return canaries
