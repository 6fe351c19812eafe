"""An audit folder seen from the app's list of recent audits: how it ended (finished,
cancelled, interrupted) and what the list shows of it, read cheaply; and a saved audit
opened again as the FinishedAudit the results screen shows.

No Qt here, so the rules are tested without a window. Reading a folder's status parses
results.json's top-level sections (read_summary: no probe is decoded) and run.json's
date; an interrupted audit is a folder with a checkpoint and no results.json.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from audit_core.errors import MnemoscopeError
from audit_core.results.reading import read_result, read_summary
from audit_core.run.output_folder import PLAN_FILE, RECORDS_FILE, REPORT_FILE, RESULTS_FILE, RUN_FILE
from audit_core.work.checkpoints import CHECKPOINT_FILE
from desktop.audit_controller import FinishedAudit

# FinishedAudit.files keys, as the run sets them (audit_controller.py): the file each names.
FILE_KEYS = {"results": RESULTS_FILE, "run": RUN_FILE, "records": RECORDS_FILE, "report": REPORT_FILE,
             "plan": PLAN_FILE}
_SMALL = 1 * 2**20  # run.json is a few kB; a larger one is not read for a list entry


class Status(StrEnum):
    FINISHED = "Finished"
    CANCELLED = "Cancelled"
    INTERRUPTED = "Interrupted"  # a checkpoint and no results: the app stopped mid-run
    UNREADABLE = "Cannot be read"  # a results.json that is damaged or of another format


@dataclass(frozen=True, slots=True)
class AuditEntry:
    folder: Path
    status: Status
    date: str  # local time, "2026-12-07 14:05"; "" when unknown
    title: str
    model: str
    verdict: str  # the Verdict's value ("fail"); "" when there is none yet

    @property
    def results(self) -> Path:
        return self.folder / RESULTS_FILE


def read_entry(folder: Path, plan_text: str | None = None) -> AuditEntry | None:
    """What the list shows of `folder`; None when it holds no audit any more (moved,
    deleted, or an audit that stopped before writing anything): it is dropped from the list.
    `plan_text`: the plan the app kept when the audit started (for an interrupted one)."""
    folder = Path(folder)
    results = folder / RESULTS_FILE
    if results.is_file():
        try:
            summary = read_summary(results)
        except MnemoscopeError:
            return AuditEntry(folder, Status.UNREADABLE, _date(results), folder.name, "", "")
        return AuditEntry(folder, Status.CANCELLED if summary.cancelled else Status.FINISHED,
                          _run_date(folder / RUN_FILE) or _date(results),
                          summary.title or folder.name, model_label(summary.model), summary.verdict.value)
    checkpoint = folder / CHECKPOINT_FILE
    if checkpoint.is_file():
        title, model = _plan_facts(folder / PLAN_FILE, plan_text)
        return AuditEntry(folder, Status.INTERRUPTED, _date(checkpoint), title or folder.name, model, "")
    return None


def open_results(path: Path) -> FinishedAudit:
    """A saved audit as the results screen shows it after a run: results.json read back, with
    run.json's times and records.csv's scores when they are beside it. `files` names the
    files the folder holds (the results screen offers only those). Raises ResultsFileError."""
    path = Path(path)
    folder = path.parent
    beside = path.name == RESULTS_FILE  # a renamed copy elsewhere does not own the files around it
    files = {key: folder / name for key, name in FILE_KEYS.items()
             if key != "results" and beside and (folder / name).is_file()}
    result = read_result(path, run=files.get("run"), records=files.get("records"))
    return FinishedAudit(result=result, folder=folder, files={"results": path, **files})


def _run_date(path: Path) -> str:
    try:
        if path.stat().st_size > _SMALL:
            return ""
        finished = json.loads(path.read_text(encoding="utf-8")).get("finished_utc")
        stamp = datetime.fromisoformat(str(finished))
    except (OSError, ValueError, AttributeError, TypeError):
        return ""
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M")


def _date(path: Path) -> str:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    except OSError:
        return ""


def _plan_facts(plan_file: Path, plan_text: str | None) -> tuple[str, str]:
    """The title and the model folder's name from the plan, read as TOML only (no file it
    names is opened): the folder's plan.toml, else the plan the app kept at the start."""
    try:
        text = plan_file.read_text(encoding="utf-8") if plan_file.is_file() else plan_text
        raw = tomllib.loads(text) if text else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "", ""
    audit, model = raw.get("audit"), raw.get("model")
    title = str(audit.get("title") or "") if isinstance(audit, dict) else ""
    path = model.get("path") if isinstance(model, dict) else None
    return title, model_label(str(path)) if path else ""


def model_label(path: str) -> str:
    """The model folder as a person recognises it: its last two parts ("demo/model"), since
    exported models often sit in a folder called just "model"."""
    parts = Path(path.replace("\\", "/")).parts[-2:] if path else ()
    return "/".join(parts)
