"""The output folder: what an audit may write there, checked before any model work.

The rules (docs/plan-reference.md, "What is written, and what is never overwritten", states
them for users):

* The folder must be a folder that exists or can be created, that this user can write
  into, on a disk with room for what the audit writes (estimated from the plan's cohorts).
* No file the audit writes (report.pdf, results.json, records.csv, run.json, plan.toml,
  the checkpoint, the error log) may be one of the plan's inputs: the plan file, the
  members and non-members files, the model's and the reference model's files, the canary
  manifest and the files it names.
* A file is replaced only when a Mnemoscope run wrote it: run.json records the SHA-256 of
  each file the run wrote, and a file whose bytes differ (written by something else,
  edited, or signed since with `mnemoscope sign`) is never overwritten.
* The files of another audit (another audit id: another plan, other inputs or another
  Mnemoscope version) are not replaced: they may be the evidence someone filed, so the
  user chooses another folder or moves them away. A rerun of the same audit replaces
  its own files, as a resumed or repeated run must.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_core.errors import OutputFolderError
from audit_core.fingerprint import file_sha256

RESULTS_FILE = "results.json"
RUN_FILE = "run.json"
RECORDS_FILE = "records.csv"
REPORT_FILE = "report.pdf"
PLAN_FILE = "plan.toml"  # the desktop app saves the plan beside the outputs
ERROR_LOG = "mnemoscope-error.log"
CHECKPOINT_FILES = ("checkpoint.sqlite", "checkpoint.sqlite-wal", "checkpoint.sqlite-shm")
AUDIT_FILES = (REPORT_FILE, RECORDS_FILE, RUN_FILE, RESULTS_FILE)  # what every run writes
# Written by a language-model audit that localised memorized spans (run/memorized_spans.py):
# local like records.csv.
SPANS_FILE = "memorized_spans.json"
OUTPUT_NAMES = (*AUDIT_FILES, PLAN_FILE, SPANS_FILE)  # the files run.json may record
RECORD_KEY = "outputs_sha256"  # in run.json: file name -> SHA-256 of the bytes this run wrote
_RUN_SCHEMA_PREFIX = "mnemoscope.run/"
_RUN_FILE_LIMIT = 16 * 2**20

# Room the outputs need: the report and run files, a row of records.csv and results.json
# per record, and the checkpoint's per-token scores (three 8-byte numbers per token, at
# least one token per 8 bytes of cohort file). A floor, not a forecast: a disk that
# cannot hold even this fails hours later, so it is refused before the run.
_FIXED_ROOM = 16 * 2**20
_ROOM_PER_RECORD = 256
_ROOM_PER_COHORT_BYTE = 3


def pending_name(name: str) -> str:
    """Where a file is written in full before it is renamed into place."""
    return f".{name}.pending"


@dataclass(frozen=True, slots=True)
class FolderRecord:
    """What earlier Mnemoscope runs recorded about the folder (run.json, and the record of
    a write a crash interrupted)."""

    audit_id: str | None = None
    hashes: dict[str, set[str]] = field(default_factory=dict)
    run_file_ours: bool = False

    def owns(self, folder: Path, name: str) -> bool:
        path = folder / name
        if name == RUN_FILE:
            return self.run_file_ours
        if not path.is_file() or name not in self.hashes:
            return False
        try:
            return file_sha256(path) in self.hashes[name]
        except OSError:
            return False


def read_record(folder: Path) -> FolderRecord:
    audit_id, run_ours = None, False
    hashes: dict[str, set[str]] = {}
    for path in (folder / RUN_FILE, folder / pending_name(RUN_FILE)):
        document = _run_document(path)
        if document is None:
            continue
        run_ours |= path.name == RUN_FILE
        audit_id = audit_id or (str(document["audit_id"]) if document.get("audit_id") else None)
        recorded = document.get(RECORD_KEY)
        for name, digest in (recorded.items() if isinstance(recorded, dict) else ()):
            if name in OUTPUT_NAMES and isinstance(digest, str):
                hashes.setdefault(name, set()).add(digest)
    return FolderRecord(audit_id=audit_id, hashes=hashes, run_file_ours=run_ours)


def check_output_folder(folder: Path, plan: Any, writes: Iterable[str] = (*AUDIT_FILES, SPANS_FILE)) -> None:
    """Everything about the folder that can be known before the run; OutputFolderError if
    the audit may not write there. Leaves nothing behind. `writes` holds memorized_spans.json
    although not every audit writes it: a foreign one is refused now, not after the run."""
    folder = Path(folder)
    _check_location(folder)
    record = read_record(folder) if folder.is_dir() else FolderRecord()
    _check_inputs(folder, plan, record, writes)
    check_ownership(folder, writes, record)
    if folder.is_dir():
        from audit_core.work.checkpoints import check_checkpoint_is_ours

        check_checkpoint_is_ours(folder)
    _check_room(folder, plan)


def check_ownership(folder: Path, writes: Iterable[str], record: FolderRecord | None = None,
                    audit_id: str | None = None) -> dict[str, str]:
    """Refuse a file about to be replaced that no Mnemoscope run wrote, and (given the
    audit id) the files of another audit. Returns the recorded files that stay, by name."""
    record = record if record is not None else read_record(folder)
    for name in writes:
        path = folder / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise OutputFolderError(f"{path} is not a plain file Mnemoscope wrote; it is never "
                                    "replaced: move it away or choose another output folder")
        if not path.exists() or record.owns(folder, name):
            continue
        if record.run_file_ours and not record.hashes:
            raise OutputFolderError(
                f"{path} is from a run of an earlier Mnemoscope version, which did not record "
                "the files it wrote; it is never overwritten: move the folder's files away or "
                "choose another output folder")
        raise OutputFolderError(
            f"{path} was not written by Mnemoscope, or was changed since (edited, or signed); "
            "it is never overwritten: move it away or choose another output folder")
    if audit_id is not None:
        check_same_audit(folder, audit_id, record)
    return {name: file_sha256(folder / name) for name in OUTPUT_NAMES
            if name not in writes and name != RUN_FILE and record.owns(folder, name)}


def check_same_audit(folder: Path, audit_id: str, record: FolderRecord | None = None) -> None:
    """The folder's own files belong to this audit, or there are none."""
    record = record if record is not None else read_record(folder)
    kept = [name for name in OUTPUT_NAMES if (folder / name).exists()]
    if record.audit_id is None or record.audit_id == audit_id or not kept:
        return
    raise OutputFolderError(
        f"{folder} holds the results of another audit ({record.audit_id}); they are kept as "
        f"they are: choose another output folder, or move {', '.join(kept)} away first")


def output_room_needed(plan: Any) -> int:
    """Bytes the audit's files need at least, from the cohorts' record counts and sizes."""
    records = cohort_bytes = 0
    for path in (plan.data.members, plan.data.non_members):
        try:
            cohort_bytes += Path(path).stat().st_size
        except OSError:  # missing: the run refuses it with its own message
            continue
        records += _count_records(Path(path))
    return _FIXED_ROOM + _ROOM_PER_RECORD * records + _ROOM_PER_COHORT_BYTE * cohort_bytes


def describe_bytes(count: int | float) -> str:
    return f"{count / 1e6:,.0f} MB" if count >= 1e6 else f"{count / 1e3:,.1f} kB"


def _check_location(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(f"the output folder {folder} is a file, not a folder: choose a folder")
    if folder.is_dir():
        try:
            handle, probe = tempfile.mkstemp(prefix=".mnemoscope-probe-", dir=folder)
            os.close(handle)
            os.unlink(probe)
        except OSError as exc:
            raise OutputFolderError(f"cannot write into the output folder {folder} "
                                    f"({exc.strerror or exc.__class__.__name__}): choose a "
                                    "folder you can write into") from None
        return
    parent = _existing_ancestor(folder)
    if not parent.is_dir():
        raise OutputFolderError(f"the output folder {folder} cannot be created: {parent} is "
                                "not a folder")
    try:  # a folder made and removed at once: the honest test that the path can be created
        os.rmdir(tempfile.mkdtemp(prefix=".mnemoscope-probe-", dir=parent))
    except OSError as exc:
        raise OutputFolderError(f"the output folder {folder} cannot be created in {parent} "
                                f"({exc.strerror or exc.__class__.__name__}): choose a "
                                "folder you can write into") from None


def _check_inputs(folder: Path, plan: Any, record: FolderRecord, writes: Iterable[str]) -> None:
    targets = [folder / name for name in (*writes, *CHECKPOINT_FILES, ERROR_LOG)]
    targets = [t for t in targets if t.is_file()]
    if not targets:
        return
    named = list(_named_inputs(plan))
    in_model_folders = [(label, p) for label, f in _model_folders(plan) for p in _files_in(f)]
    for target in targets:
        # A model folder's files are inputs, except what Mnemoscope itself wrote there (the
        # output folder may be the model folder): its recorded outputs, checkpoint and log.
        ours = target.name not in OUTPUT_NAMES or record.owns(folder, target.name)
        found = [(label, p) for label, p in named + ([] if ours else in_model_folders)
                 if _same_file(target, p)]
        if found:
            label, path = found[0]
            raise OutputFolderError(f"the output folder {folder} would overwrite {label} ({path}) "
                                    f"with {target.name}: choose another output folder")


def _named_inputs(plan: Any) -> Iterable[tuple[str, Path]]:
    if getattr(plan, "source", None) is not None:
        yield "the plan file", Path(plan.source)
    yield "the members file", Path(plan.data.members)
    yield "the non-members file", Path(plan.data.non_members)
    for label, path in (("the model", plan.model.path), ("the reference model", plan.model.reference)):
        if path is not None and Path(path).is_file():
            yield label, Path(path)
    from audit_core.probes.selection import probe_path_settings

    for probe_id, settings in (plan.probes or {}).items():
        for key in probe_path_settings(probe_id):
            value = settings.get(key) if isinstance(settings, dict) else None
            if isinstance(value, str) and value:
                yield f"'probes.{probe_id}.{key}'", Path(value)
                yield from _manifest_files(Path(value), f"'probes.{probe_id}.{key}'")


def _manifest_files(manifest: Path, label: str) -> Iterable[tuple[str, Path]]:
    """The seed and records files a canary manifest names (the probe refuses a bad one)."""
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(document, dict):
        return
    for key in ("seed_file", "records_file"):
        value = document.get(key)
        if isinstance(value, str) and value:
            path = Path(value)
            yield f"the file {label} names as its {key}", path if path.is_absolute() else manifest.parent / path


def _model_folders(plan: Any) -> Iterable[tuple[str, Path]]:
    for label, path in (("a file of the model folder", plan.model.path),
                        ("a file of the reference model's folder", plan.model.reference)):
        if path is not None:
            path = Path(path)
            yield label, path if path.is_dir() else path.parent


def _files_in(folder: Path) -> list[Path]:
    try:
        return [Path(entry.path) for entry in os.scandir(folder) if entry.is_file()]
    except OSError:
        return []


def _same_file(target: Path, path: Path) -> bool:
    try:
        return target.resolve() == path.resolve() or os.path.samefile(target, path)
    except OSError:
        return False


def _check_room(folder: Path, plan: Any) -> None:
    need = output_room_needed(plan)
    try:
        free = shutil.disk_usage(_existing_ancestor(folder)).free
    except OSError:  # no figure to go by: the writes themselves say if the disk fills
        return
    if free < need:
        raise OutputFolderError(
            f"the disk of the output folder {folder} has {describe_bytes(free)} free; this "
            f"audit's files need at least {describe_bytes(need)} (report, records.csv and the "
            "checkpoint, from the cohorts' sizes): free some room or choose another folder")


def _count_records(path: Path) -> int:
    """Rows of a cohort file without reading its records: Parquet's footer, or the lines
    of a text file (an upper bound where a quoted field spans lines)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            return int(pq.read_metadata(path).num_rows)
        except Exception:  # unreadable: the loader refuses it with its own message
            return 0
    lines = 0
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                lines += block.count(b"\n")
    except OSError:
        return 0
    return lines


def _existing_ancestor(folder: Path) -> Path:
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _run_document(path: Path) -> dict[str, Any] | None:
    try:  # run.json is a few kB: a large file of that name is someone else's
        if not path.is_file() or path.is_symlink() or path.stat().st_size > _RUN_FILE_LIMIT:
            return None
    except OSError:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or not str(document.get("schema", "")).startswith(_RUN_SCHEMA_PREFIX):
        return None
    return document
