"""The canary files: the secret seed file, the manifest, and the records to insert.

`mnemoscope canaries` writes, for a hospital to use before training:

* the seed file (32 random bytes in hex, mode 0600, never overwritten): with it anyone
  can rebuild the secrets, so it stays with the auditor;
* `manifest.json`: the set's description (kind, alphabet, lengths, how many times each
  canary must be inserted) and a check value of the seed, but no secret;
* `canaries.csv` (mode 0600): the canary records in the cohort's columns with a
  `repeats` column; each row goes into the training data that many times.

After training, the `canary_exposure` probe reads the manifest and the seed file and
rebuilds the canaries; the records file is not needed again.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from audit_core.canaries.design import (
    DIGITS,
    KINDS,
    TEXT_LEAD,
    TEXT_PREFIX_WORDS,
    Canary,
    CanarySet,
    draw_canaries,
    render,
    seed_fingerprint,
)
from audit_core.errors import DataError, PlanError

FORMAT = "mnemoscope-canaries/1"
MANIFEST = "manifest.json"
RECORDS = "canaries.csv"
DEFAULT_REPEATS = (1, 4, 16, 64)
_MIN_CODE_COUNT = 5  # alphabet codes occur this often, so every tokenizer of the cohort knows them


def design_set(kind: str, count: int, *, repeats: tuple[int, ...] = DEFAULT_REPEATS,
               secret_length: int = 4, alphabet_size: int = 10, prefix_length: int = 6,
               cohort_tokens: list[str] | None = None, seed: bytes) -> CanarySet:
    """A canary set for a cohort of `kind`; codes canaries draw from the cohort's codes."""
    if kind not in KINDS:
        raise PlanError(f"canary kind must be one of {', '.join(KINDS)} (got '{kind}')")
    if count < 1 or secret_length < 1 or prefix_length < 1 or alphabet_size < 2:
        raise PlanError("canaries need count >= 1, secret and prefix length >= 1 and an "
                        "alphabet of at least 2 symbols")
    if not repeats or min(repeats) < 1:
        raise PlanError("every repeat count must be a positive integer")
    per_canary = tuple(repeats[i % len(repeats)] for i in range(count))
    if kind == "text":
        alphabet = DIGITS[:alphabet_size] if alphabet_size <= len(DIGITS) else None
        if alphabet is None:
            raise PlanError(f"text canaries use digits: the alphabet size is at most {len(DIGITS)}")
        return CanarySet(kind=kind, repeats=per_canary, alphabet=alphabet,
                         secret_length=secret_length, prefix_pool=TEXT_PREFIX_WORDS,
                         prefix_length=prefix_length, lead=TEXT_LEAD)
    counts = Counter(cohort_tokens or ())
    eligible = sorted(token for token, n in counts.items() if n >= _MIN_CODE_COUNT)
    if len(eligible) < max(alphabet_size, 2):
        raise DataError(f"the cohort has {len(eligible)} codes seen at least {_MIN_CODE_COUNT} "
                        f"times; the alphabet needs {alphabet_size}")
    words = np.frombuffer(seed_fingerprint(seed).encode(), dtype=np.uint8)
    rng = np.random.default_rng([int(w) for w in words])
    alphabet = tuple(eligible[i] for i in sorted(rng.choice(len(eligible), alphabet_size, replace=False)))
    pool = tuple(t for t in eligible if t not in alphabet)
    return CanarySet(kind=kind, repeats=per_canary, alphabet=alphabet, secret_length=secret_length,
                     prefix_pool=pool, prefix_length=prefix_length)


def write_secret_file(path: Path, seed: bytes) -> None:
    """The seed, readable by its owner only; an existing file is never replaced."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PlanError(f"{path} already exists: a canary seed file is never overwritten "
                        "(choose another path, or delete it if its canaries were never used)") from None
    except OSError as exc:
        raise PlanError(f"cannot create the seed file {path}: {exc.strerror}") from None
    with os.fdopen(handle, "w") as out:
        out.write(seed.hex() + "\n")


def write_canary_set(out_dir: Path, seed_file: Path, canary_set: CanarySet, seed: bytes, *,
                     id_column: str, sequence_column: str) -> dict[str, Any]:
    """Write the seed file, manifest.json and canaries.csv; return the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / MANIFEST).exists():
        raise PlanError(f"{out_dir / MANIFEST} already exists: write a new canary set into an empty folder")
    write_secret_file(seed_file, seed)
    canaries = draw_canaries(canary_set, seed)
    records = out_dir / RECORDS
    handle = os.open(records, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([id_column, sequence_column, "repeats"])
        for canary in canaries:
            writer.writerow([canary.id, render(canary_set, canary.prefix, canary.secret), canary.repeats])
    manifest = manifest_of(canary_set, seed, canaries, seed_file=_relative(seed_file, out_dir),
                           columns={"id": id_column, "sequence": sequence_column})
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def manifest_of(canary_set: CanarySet, seed: bytes, canaries: list[Canary], *, seed_file: str,
                columns: dict[str, str]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "kind": canary_set.kind,
        "seed_file": seed_file,
        "seed_check": seed_fingerprint(seed),
        "records_file": RECORDS,
        "columns": columns,
        "instructions": "Insert each row of the records file into the training data as many "
                        "times as its 'repeats' column says, at random positions, then train. "
                        "Keep the seed file secret and away from the training data.",
        "space_size": canary_set.space_size,
        "space_bits": round(canary_set.space_bits, 3),
        "alphabet": list(canary_set.alphabet),
        "secret_length": canary_set.secret_length,
        "prefix_pool": list(canary_set.prefix_pool),
        "prefix_length": canary_set.prefix_length,
        "lead": list(canary_set.lead),
        "canaries": [{"id": c.id, "repeats": c.repeats} for c in canaries],
    }


def load_canary_set(manifest_path: Path) -> tuple[CanarySet, list[Canary]]:
    """Rebuild the canaries from a manifest and the seed file it names."""
    where = f"canary manifest {manifest_path}"
    if not manifest_path.is_file():
        raise PlanError(f"{where} not found")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise PlanError(f"{where} is not readable JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PlanError(f"{where}: not a Mnemoscope canary manifest (format '{FORMAT}')")
    try:
        canary_set = CanarySet(
            kind=str(manifest["kind"]), repeats=tuple(int(c["repeats"]) for c in manifest["canaries"]),
            alphabet=tuple(str(a) for a in manifest["alphabet"]),
            secret_length=int(manifest["secret_length"]),
            prefix_pool=tuple(str(p) for p in manifest["prefix_pool"]),
            prefix_length=int(manifest["prefix_length"]), lead=tuple(str(w) for w in manifest["lead"]))
        seed_file = Path(str(manifest["seed_file"]))
        check = str(manifest["seed_check"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"{where}: missing or malformed entry ({exc.__class__.__name__}: "
                        f"{str(exc)[:60]})") from None
    if canary_set.kind not in KINDS or len(canary_set.alphabet) < 2 or not canary_set.repeats:
        raise PlanError(f"{where}: kind, alphabet or canaries are not usable")
    if not seed_file.is_absolute():
        seed_file = manifest_path.parent / seed_file
    try:
        seed = bytes.fromhex(seed_file.read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        raise PlanError(f"{where}: its seed file {seed_file} is missing") from None
    except (OSError, ValueError):
        raise PlanError(f"{where}: the seed file {seed_file} is unreadable or not hex") from None
    if seed_fingerprint(seed) != check:
        raise PlanError(f"{where}: the seed file {seed_file} does not belong to this manifest")
    return canary_set, draw_canaries(canary_set, seed)


def new_seed() -> bytes:
    return secrets.token_bytes(32)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())
