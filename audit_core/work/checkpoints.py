"""Checkpoints: finished work of a long audit, kept in the output folder so a rerun resumes.

One SQLite file (`checkpoint.sqlite`) in the output folder, in WAL mode with a full sync
per commit, one commit per unit of work (a chunk of the shared scoring pass, a probe's
outcome): after a crash, a `kill -9` or a reboot it holds exactly the units that finished.
It is keyed by the audit's fingerprint (the plan, the SHA-256 of every input file and of
the model, the tool version), so changed inputs never resume stale work.

A checkpoint is only read back when asked (`--resume`, or the desktop's offer). Without
that, a checkpoint already in the folder is refused rather than overwritten or quietly
reused: it may hold hours of work, and the user should say which of the two they want.
It is removed once the audit's files are written for a completed run.

What the key is made of (run/fingerprint.py) and whether the folder's other files belong
to the same audit (results/output_folder.py) are the run's to know: the run checks the
folder before it opens the checkpoint, and hands in the key as a `CheckpointKey`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from audit_core.errors import OutputFolderError, PlanError

CHECKPOINT_FILE = "checkpoint.sqlite"
# Part of every key (run/fingerprint.py): a checkpoint of another format is never resumed.
CHECKPOINT_FORMAT = "mnemoscope.checkpoint/1"
# Which fingerprint part names what, for the message when a checkpoint does not match.
_PART_NAMES = {"plan": "the plan", "model": "the model files", "reference": "the reference model",
               "members": "the members file", "non_members": "the non-members file",
               "tool": "the Mnemoscope version", "format": "the checkpoint format"}


class CheckpointError(PlanError):
    """A checkpoint in the output folder that cannot be used as asked.

    Its message is the CLI's (it names --resume and --restart); `problem` is the same
    without that advice and `situation` (FOUND, DIFFERENT, DAMAGED) says which case it is,
    so the desktop app can say what to do with its own buttons.
    """

    FOUND = "found"  # a checkpoint is there and the run was not asked to resume it
    DIFFERENT = "different"  # asked to resume, but it belongs to another plan or inputs
    DAMAGED = "damaged"  # unreadable: it can only be discarded

    def __init__(self, problem: str, cli_advice: str, situation: str) -> None:
        super().__init__(f"{problem}; {cli_advice}")
        self.problem = problem
        self.situation = situation


class CheckpointKey(Protocol):
    """What a checkpoint is keyed by: the audit's fingerprint (run/fingerprint.py), part by
    part (to say which part changed) and as one digest."""

    @property
    def parts(self) -> Mapping[str, str]: ...

    @property
    def digest(self) -> str: ...


class NoCheckpoint:
    """Stands in when a run keeps no checkpoint (tests, validation, a plain library call)."""

    resumed = 0

    def load(self, unit: str) -> bytes | None:
        return None

    def has(self, unit: str) -> bool:
        return False

    def names(self, prefix: str) -> list[str]:
        return []

    def save(self, unit: str, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


class Checkpoint:
    """An open checkpoint file. One thread (the run's) uses it."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self.resumed = 0  # units read back rather than recomputed

    def load(self, unit: str) -> bytes | None:
        row = self._db.execute("SELECT data, sha256 FROM units WHERE name = ?", (unit,)).fetchone()
        if row is None:
            return None
        data, digest = bytes(row[0]), row[1]
        if hashlib.sha256(data).hexdigest() != digest:  # a damaged unit is recomputed
            return None
        self.resumed += 1
        return data

    def has(self, unit: str) -> bool:
        """Whether `unit` was saved (not read, not counted as resumed): a cluster run sends
        only the missing units out (cluster/), and reads the others back when it reaches them."""
        return self._db.execute("SELECT 1 FROM units WHERE name = ?", (unit,)).fetchone() is not None

    def names(self, prefix: str) -> list[str]:
        """The saved units whose names start with `prefix`, in name order (the generation
        step finds its saved batches by their content, not by a position in the run)."""
        rows = self._db.execute("SELECT name FROM units WHERE substr(name, 1, ?) = ? ORDER BY name",
                                (len(prefix), prefix)).fetchall()
        return [str(row[0]) for row in rows]

    def save(self, unit: str, data: bytes) -> None:
        try:
            with self._db:  # one transaction, committed (and synced) per unit of work
                self._db.execute("INSERT OR REPLACE INTO units (name, data, sha256, saved_utc) "
                                 "VALUES (?, ?, ?, ?)",
                                 (unit, data, hashlib.sha256(data).hexdigest(), _now()))
        except sqlite3.Error as exc:  # a full disk, most often: the user's to fix, not a bug
            raise PlanError(f"cannot save finished work in {self.path} ({exc}); free some room "
                            "and resume the audit (--resume; the app offers it at Start)") from None

    def close(self) -> None:
        self._db.close()


# What a run writes its units of work to: a checkpoint file, or nothing.
OpenCheckpoint = Checkpoint | NoCheckpoint


@dataclass(frozen=True, slots=True)
class CheckpointRequest:
    """Where to keep a run's checkpoint and whether to continue the one found there
    (`resume`) or discard it (`restart`: once the audit is known to be the folder's own)."""

    folder: Path
    resume: bool = False
    restart: bool = False

    @property
    def path(self) -> Path:
        return self.folder / CHECKPOINT_FILE

    def open(self, fingerprint: CheckpointKey) -> Checkpoint:
        """Open (or create) the checkpoint; PlanError when one is there and may not be used.

        The caller has checked that the folder's other files are this audit's (the runner
        does, with results/output_folder.py): a restart discards the checkpoint here, and
        another audit's folder keeps its checkpoint too."""
        if self.restart:
            self.discard()
        found = describe_checkpoint(self.folder)
        if found is not None and not self.resume:
            raise CheckpointError(f"{self.folder} holds the checkpoint of an interrupted audit "
                                  f"({found.units} units of work finished, last on {found.saved_utc})",
                                  "add --resume to continue it, or --restart to discard it and start "
                                  "again (the desktop app asks which)", CheckpointError.FOUND)
        if found is not None:
            _check_same_audit(found, fingerprint, self.path)
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            db = _connect(self.path)
            with db:
                db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('fingerprint', ?)",
                           (json.dumps(dict(fingerprint.parts), sort_keys=True),))
                db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('digest', ?)",
                           (fingerprint.digest,))
        except sqlite3.Error as exc:
            raise PlanError(f"cannot keep a checkpoint in {self.path} ({exc}); choose a writable "
                            "output folder on a local disk") from None
        return Checkpoint(self.path, db)

    def discard(self) -> None:
        """Remove the checkpoint (its WAL and shared-memory files too)."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class FoundCheckpoint:
    parts: dict[str, str]
    digest: str
    units: int
    saved_utc: str


def describe_checkpoint(folder: Path) -> FoundCheckpoint | None:
    """The checkpoint in `folder`, if any (for the CLI's and the desktop's questions)."""
    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    check_checkpoint_is_ours(folder)
    try:
        db = _connect(path)
        try:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            units, last = db.execute("SELECT count(*), max(saved_utc) FROM units").fetchone()
        finally:
            db.close()
        parts = json.loads(meta["fingerprint"])
    except (sqlite3.Error, KeyError, ValueError, TypeError):
        raise CheckpointError(f"{path} is damaged and cannot be resumed",
                              "run with --restart to discard it and start again",
                              CheckpointError.DAMAGED) from None
    return FoundCheckpoint(parts=parts, digest=meta.get("digest", ""), units=int(units),
                           saved_utc=last or "never")


def check_checkpoint_is_ours(folder: Path) -> None:
    """A checkpoint.sqlite that another program wrote (an SQLite database without this
    format's tables) is never opened for writing, replaced or removed. A file that is no
    SQLite database is taken for Mnemoscope's own, damaged: --restart discards it."""
    path = Path(folder) / CHECKPOINT_FILE
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return
    except OSError:
        return
    try:
        # immutable: reads the file as it is, creating no -wal or -shm beside it. Tables
        # still only in a crashed run's WAL read as none: taken for Mnemoscope's own.
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            db.close()
    except sqlite3.Error:
        return  # a damaged checkpoint: describe_checkpoint says so
    if tables and not {"meta", "units"} <= tables:
        raise _foreign(path)


def _foreign(path: Path) -> Exception:
    return OutputFolderError(f"{path} is not a Mnemoscope checkpoint; it is never replaced: move "
                             "it away or choose another output folder")


def _check_same_audit(found: FoundCheckpoint, fingerprint: CheckpointKey, path: Path) -> None:
    if found.parts == dict(fingerprint.parts):
        return
    changed = sorted(set(found.parts) | set(fingerprint.parts))
    changed = [k for k in changed if found.parts.get(k) != fingerprint.parts.get(k)]
    what = ", ".join(_PART_NAMES.get(k, k) for k in changed)
    raise CheckpointError(f"the checkpoint in {path} belongs to a different audit ({what} changed "
                          "since it was made), so its work cannot be reused",
                          "run with --restart to discard it and start again, or choose another "
                          "output folder", CheckpointError.DIFFERENT)


def _connect(path: Path) -> sqlite3.Connection:
    _private(path)
    db = sqlite3.connect(path, timeout=30.0)
    # WAL: a commit is one append; FULL: synced at each commit, so a reboot keeps it too.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS units (name TEXT PRIMARY KEY, data BLOB NOT NULL, "
               "sha256 TEXT NOT NULL, saved_utc TEXT NOT NULL)")
    return db


def _private(path: Path) -> None:
    """The checkpoint holds per-record scores: owner-only (0600), like records.csv. SQLite
    gives its -wal and -shm files the database file's mode, so creating that file 0600
    (and narrowing one an older version left 0644) covers all three."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
    except FileExistsError:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                if not os.path.islink(f"{path}{suffix}"):
                    os.chmod(f"{path}{suffix}", 0o600)
    except OSError:  # sqlite3.connect says what is wrong with the folder
        pass


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
