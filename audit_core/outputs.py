"""Writing an audit's files: results.json, run.json, records.csv and report.pdf.

results.json is what the audit found (byte for byte the same when the same plan runs on
the same inputs); run.json is when, where and how long this run took.

Each file is written to a temporary name in the output folder and renamed into place,
so a crash never leaves a half-written file where a finished one would be.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from audit_core.results import AuditResult

RESULTS_FILE = "results.json"
RUN_FILE = "run.json"
RECORDS_FILE = "records.csv"
REPORT_FILE = "report.pdf"


def write_outputs(result: AuditResult, out_dir: Path, signer: object | None = None) -> dict[str, Path]:
    """Writes the files; `signer` (a report.signing.ReportSigner) signs the PDF."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"results": out_dir / RESULTS_FILE, "run": out_dir / RUN_FILE,
             "records": out_dir / RECORDS_FILE, "report": out_dir / REPORT_FILE}
    results = result.as_dict()
    run = result.run_dict(results["audit"]["report_id"])
    write_atomic(paths["results"], json_bytes(results))
    write_atomic(paths["run"], json_bytes(run))
    write_atomic(paths["records"], records_csv(result).encode("utf-8"))
    from audit_core.report import write_report  # reportlab loads only when a report is written

    write_report({**results, "run": run}, paths["report"], signer=signer)
    return paths


def json_bytes(document: dict) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def records_csv(result: AuditResult) -> str:
    """One row per record: role, id, pseudonym, tokens, windows, then one column per probe."""
    table = result.records
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    probe_ids = [p.id for p in result.probes if p.scores]
    writer.writerow(["role", "id", "ref", "tokens", "windows", *probe_ids])
    if table is None:
        return buffer.getvalue()
    offsets: dict[str, int] = {}
    for row, role in enumerate(table.roles):
        offsets.setdefault(role, row)
    for row, role in enumerate(table.roles):
        index = row - offsets[role]
        values = []
        for probe in result.probes:
            if not probe.scores:
                continue
            value = float(probe.scores[role][index])
            values.append("" if not np.isfinite(value) else f"{value:.6g}")
        writer.writerow([role, table.ids[row], table.refs[row], int(table.tokens[row]),
                         int(table.windows[row]), *values])
    return buffer.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a reboot right after keeps the new file); POSIX only."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows opens no folder handles; its rename is journaled by NTFS
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
