"""Reading a finished audit back: results.json (and, beside it, run.json and records.csv)
into the AuditResult the run returned, so a front end shows a saved audit exactly as it
showed it after the run, without running anything.

results.json is the audit's record; run.json (when, how long, on which machine) and
records.csv (per-record scores) only add what results.json leaves out, and are skipped
when absent, unreadable or from another run. A file that is not JSON, not a Mnemoscope
results file, or of another results format is refused with a ResultsFileError that names
the file and the problem; messages never quote the file's contents (they hold patient
ids).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from audit_core.errors import MnemoscopeError
from audit_core.results.memorized_spans import MemorizedSpans
from audit_core.results.result import (
    CARRIER_RANK,
    NAMED_CARRIER,
    SCHEMA,
    AuditResult,
    ProbeResult,
    RecordTable,
)
from audit_core.results.verdicts import Verdict

_SCHEMA_PREFIX: Final = SCHEMA.rsplit("/", 1)[0] + "/"  # "mnemoscope.results/"
# results.json is aggregate figures plus extracted ids: a few MB at most. A file far larger
# is no results file, and reading it whole would hang the app.
_MAX_BYTES: Final = 256 * 2**20
_RUN_MAX_BYTES: Final = 16 * 2**20
# records.csv writes an id that starts like a formula with a leading quote (run/outputs.py).
_FORMULA_LEADS: Final = ("=", "+", "-", "@", "\t", "\r")


class ResultsFileError(MnemoscopeError):
    """A file that cannot be read back as an audit's results; the message says why."""


@dataclass(frozen=True, slots=True)
class ResultsSummary:
    """What a list of audits shows, read from results.json's top-level sections only."""

    title: str
    model: str  # the plan's model path, as the plan gives it
    verdict: Verdict
    cancelled: bool
    report_id: str


def read_document(path: Path) -> dict[str, Any]:
    """results.json as plain data, checked to be a Mnemoscope results file of this format."""
    path = Path(path)
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise ResultsFileError(f"{path.name} is far larger than an audit's results.json; "
                                   "choose the results.json of an audit folder")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ResultsFileError(f"{path} does not exist (moved or deleted?)") from None
    except IsADirectoryError:
        raise ResultsFileError(f"{path} is a folder; choose the results.json inside it") from None
    except UnicodeDecodeError:
        raise ResultsFileError(f"{path.name} is not a Mnemoscope results file (not text)") from None
    except OSError as exc:
        raise ResultsFileError(f"{path.name} cannot be read ({exc.__class__.__name__})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:  # the position only: the message never quotes the text
        raise ResultsFileError(f"{path.name} is not a Mnemoscope results file: it is not valid "
                               f"JSON (line {exc.lineno})") from None
    except RecursionError:
        raise ResultsFileError(f"{path.name} is not a Mnemoscope results file (nested too deeply)") from None
    schema = document.get("schema") if isinstance(document, dict) else None
    if not isinstance(schema, str) or not schema.startswith(_SCHEMA_PREFIX):
        raise ResultsFileError(f"{path.name} is not a Mnemoscope results file (no \"schema\": "
                               f"\"{SCHEMA}\" at its top); choose the results.json of an audit folder")
    if schema != SCHEMA:
        raise ResultsFileError(
            f"{path.name} is in results format {_format_number(schema)}, written by Mnemoscope "
            f"{_tool_version(document)}; this version reads format {_format_number(SCHEMA)}. "
            "Open it with the Mnemoscope version that wrote it, or rerun its plan")
    return document


def read_summary(path: Path) -> ResultsSummary:
    """Title, model, verdict and outcome, for a list of audits (no probe is decoded)."""
    document = read_document(path)
    try:
        audit, model = document["audit"], document["model"]
        planned = (document.get("plan") or {}).get("model") or {}
        return ResultsSummary(title=str(audit.get("title") or ""),
                              model=str(planned.get("path") or model.get("name") or ""),
                              verdict=Verdict(document["overall_verdict"]),
                              cancelled=audit.get("outcome") == "cancelled",
                              report_id=str(audit.get("report_id") or ""))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _damaged(Path(path)) from None


def read_result(path: Path, run: Path | None = None, records: Path | None = None) -> AuditResult:
    """The AuditResult results.json was written from; `run` (run.json) adds the run's times,
    machine and probe durations, `records` (records.csv) the per-record scores, when they
    are there and belong to the same run."""
    path = Path(path)
    document = read_document(path)
    try:
        result = result_from_document(document, _run_document(run, document))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _damaged(path) from None
    return _with_records(result, records) if records is not None else result


def result_from_document(document: Mapping[str, Any], run: Mapping[str, Any] | None = None) -> AuditResult:
    """The inverse of AuditResult.as_dict (with run.json, of run_dict): as_dict() of what it
    returns is `document` again."""
    run = run or {}
    seconds = run.get("probe_seconds") or {}
    for key in ("audit", "model", "plan"):
        _expect(document[key], dict)
    _expect(document["datasets"], list)
    _expect(document["probes"], list)
    audit = dict(document["audit"])
    for key in ("started_utc", "finished_utc", "seconds"):  # RUN_AUDIT_KEYS: in run.json only
        if key in run:
            audit[key] = run[key]
    return AuditResult(
        audit=audit,  # type: ignore[arg-type]
        overall_verdict=Verdict(document["overall_verdict"]),
        overall_rationale=str(document["overall_rationale"]),
        model=document["model"],
        datasets=tuple(document["datasets"]),
        probes=tuple(_probe(p, seconds.get(p["id"], 0.0)) for p in document["probes"]),
        plan=document["plan"],
        environment=dict(run.get("environment") or {}),
        records=None,
        validation=run.get("validation"),
        split_validity=document.get("split_validity"),
        resumed=int(run.get("resumed") or 0),
        tool=dict(document["tool"]),
        not_applicable=tuple(dict(item) for item in document.get("not_applicable") or ()
                             if isinstance(item, dict)),
        # Its counts only: the per-record spans are in the local memorized_spans.json.
        memorized_spans=MemorizedSpans(summary=dict(document["memorized_spans"]), records=())
        if isinstance(document.get("memorized_spans"), dict) else None,
    )


def _probe(data: Mapping[str, Any], seconds: float) -> ProbeResult:
    """One entry of results.json's "probes" (ProbeResult.as_dict without "seconds")."""
    # The shapes the results screen and the report walk: a wrong one is refused here (as
    # damaged), not met as a crash while a card is drawn.
    for key in ("headline", "settings", "thresholds", "metrics", "curves"):
        _expect(data[key], dict)
    for key in ("settings_meta", "thresholds_meta", "findings"):
        _expect(data[key], list)
    for key in ("extracted", "subgroups", "carriers"):
        _expect(data.get(key) or [], list)
    again = data.get("verdict_if_split_valid")
    return ProbeResult(
        id=str(data["id"]), title=data["title"], family=data["family"], question=data["question"],
        citation=data["citation"], verdict=Verdict(data["verdict"]), headline=data["headline"],
        settings=data["settings"], settings_meta=data["settings_meta"], thresholds=data["thresholds"],
        thresholds_meta=data["thresholds_meta"], metrics=data["metrics"], curves=data["curves"],
        findings=tuple(data["findings"]), extracted=tuple(data.get("extracted") or ()),
        seconds=float(seconds), error=data.get("error"),
        attack_strength=data.get("attack_strength"), subgroups=tuple(data.get("subgroups") or ()),
        reliable=bool(data.get("reliable", True)), carriers=tuple(data.get("carriers") or ()),
        verdict_if_split_valid=Verdict(again) if again is not None else None)


def _expect(value: Any, kind: type) -> None:
    if not isinstance(value, kind):
        raise TypeError(kind.__name__)


def _run_document(path: Path | None, document: Mapping[str, Any]) -> dict[str, Any] | None:
    """run.json when it is this run's (same report id); otherwise nothing: it is optional."""
    if path is None:
        return None
    try:
        if Path(path).stat().st_size > _RUN_MAX_BYTES:
            return None
        run = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(run, dict) or run.get("report_id") != document["audit"].get("report_id"):
        return None
    return run


def _with_records(result: AuditResult, path: Path) -> AuditResult:
    """The result with records.csv's rows and scores (for the records table); unchanged when
    the file is missing or does not match the result's probes. The scores are those
    records.csv holds (6 significant digits), more than the table shows (format_score)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return result
    if not rows or rows[0][:5] != ["role", "id", "ref", "tokens", "windows"]:
        return result
    columns = rows[0][5:]
    known = {p.id for p in result.probes}
    carriers = {p.id + suffix for p in result.probes for suffix in (CARRIER_RANK, NAMED_CARRIER)}
    if not set(columns) <= known | carriers or any(len(row) != len(rows[0]) for row in rows[1:]):
        return result
    body = rows[1:]
    try:
        table = RecordTable(roles=tuple(r[0] for r in body), ids=tuple(_cell_id(r[1]) for r in body),
                            refs=tuple(r[2] for r in body),
                            tokens=np.array([int(r[3]) for r in body], dtype=np.int64),
                            windows=np.array([int(r[4]) for r in body], dtype=np.int64))
        scores = {probe: {role: np.array([float(r[5 + i]) if r[5 + i] else np.nan
                                          for r in body if r[0] == role], dtype=np.float64)
                          for role in dict.fromkeys(table.roles)}
                  for i, probe in enumerate(columns) if probe in known}
    except ValueError:
        return result
    probes = tuple(replace(p, scores=scores.get(p.id, {})) for p in result.probes)
    return replace(result, records=table, probes=probes)


def _cell_id(text: str) -> str:
    """The id as results.json holds it: records.csv quotes one that starts like a formula."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_LEADS) else text


def _damaged(path: Path) -> ResultsFileError:
    return ResultsFileError(f"{path.name} is damaged or incomplete: a section Mnemoscope writes is "
                            "missing or has the wrong shape. Use the copy the audit wrote, or rerun its plan")


def _format_number(schema: str) -> str:
    return schema.rsplit("/", 1)[-1][:12]


def _tool_version(document: Mapping[str, Any]) -> str:
    tool = document.get("tool")
    version = tool.get("version") if isinstance(tool, dict) else None
    # A version string, not a value from the data: still cut short and kept to plain characters.
    text = str(version)[:20] if version else "of an unknown version"
    return "".join(c for c in text if c.isalnum() or c in ".-+ ")
