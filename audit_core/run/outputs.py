"""Writing an audit's files: results.json, run.json, records.csv and report.pdf.

results.json is what the audit found (byte for byte the same when the same plan runs on
the same inputs); run.json is when, where and how long this run took, and the SHA-256 of
each file the run wrote, by which a later run of the same audit recognises the files it
may replace (output_folder.py has the rules).

The files are written as a set: each one in full under a pending name first, then
renamed into place, results.json last and the previous results.json removed before any
rename. A results.json in the folder therefore always stands beside the report.pdf and
records.csv of the same run, complete; a crash at any moment leaves either that, or no
results.json at all.

Here in run/, above the report it writes (report.pdf), not in results/, which the report
reads and so sits below it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from audit_core.fingerprint import file_sha256
from audit_core.results.atomic import sync_folder as _sync_folder
from audit_core.results.atomic import write_atomic
from audit_core.results.memorized_spans import spans_document
from audit_core.results.result import CARRIER_RANK, NAMED_CARRIER, AuditResult
from audit_core.run.output_folder import (
    AUDIT_FILES,
    OUTPUT_NAMES,
    RECORD_KEY,
    RECORDS_FILE,
    REPORT_FILE,
    RESULTS_FILE,
    RUN_FILE,
    SPANS_FILE,
    check_ownership,
    pending_name,
)

# A spreadsheet evaluates a cell that starts with one of these (OWASP, CSV injection).
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def write_outputs(result: AuditResult, out_dir: Path, signer: object | None = None,
                  extra: Mapping[str, bytes] | None = None) -> dict[str, Path]:
    """Writes the files; `signer` (a report.signing.ReportSigner) signs the PDF; `extra`:
    more files of the set by name (the desktop's plan.toml). Refuses (OutputFolderError)
    to replace a file no Mnemoscope run of this audit wrote."""
    extra = dict(extra or {})
    if set(extra) - set(OUTPUT_NAMES) or set(extra) & {*AUDIT_FILES, SPANS_FILE}:
        raise ValueError(f"write_outputs writes only {', '.join(OUTPUT_NAMES)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    results = result.as_dict()
    run = result.run_dict(results["audit"]["report_id"])
    if result.memorized_spans is not None:  # local, beside records.csv
        extra[SPANS_FILE] = json_bytes(spans_document(result.memorized_spans, results["audit"]["id"],
                                                      results["audit"]["report_id"]))
    # Checked again at the end of the run: files may have appeared in the folder since.
    kept = check_ownership(out_dir, (*AUDIT_FILES, *extra), audit_id=results["audit"]["id"])
    _remove_leftovers(out_dir)
    from audit_core.report import write_report  # reportlab loads only when a report is written

    write_report({**results, "run": run}, out_dir / pending_name(REPORT_FILE), signer=signer)
    contents = {RECORDS_FILE: records_csv(result).encode("utf-8"), **extra,
                RESULTS_FILE: json_bytes(results)}
    for name, data in contents.items():
        write_atomic(out_dir / pending_name(name), data)
    written = [REPORT_FILE, *contents]
    digests = {**kept, **{name: file_sha256(out_dir / pending_name(name)) for name in written}}
    write_atomic(out_dir / pending_name(RUN_FILE), json_bytes({**run, RECORD_KEY: digests}))
    # From here to the last rename the folder holds no results.json: never one that
    # speaks for a report or records of another run.
    (out_dir / RESULTS_FILE).unlink(missing_ok=True)
    for name in (*(n for n in written if n != RESULTS_FILE), RUN_FILE):
        os.replace(out_dir / pending_name(name), out_dir / name)
    _sync_folder(out_dir)  # the set is durable before the file that says it is complete
    os.replace(out_dir / pending_name(RESULTS_FILE), out_dir / RESULTS_FILE)
    _sync_folder(out_dir)
    paths = {"results": RESULTS_FILE, "run": RUN_FILE, "records": RECORDS_FILE, "report": REPORT_FILE}
    return {key: out_dir / name for key, name in paths.items()}


def _remove_leftovers(folder: Path) -> None:
    """Pending and temporary files a crash left: this module's names, and pikepdf's
    temporary copy of a report it was saving (".pikepdf." and the name it saved to)."""
    for name in OUTPUT_NAMES:
        for pattern in (f".{name}.*", f"..{name}.*", f".pikepdf.*.{name}.*"):
            for path in folder.glob(pattern):
                if path.is_file() and not path.is_symlink():
                    path.unlink(missing_ok=True)


def json_bytes(document: dict) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def records_csv(result: AuditResult) -> str:
    """One row per record: role, id, pseudonym, tokens, windows, then one column per probe."""
    table = result.records
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    probe_ids = [p.id for p in result.probes if p.scores]
    carrier_columns = carrier_record_columns(result)
    writer.writerow(["role", "id", "ref", "tokens", "windows", *probe_ids, *carrier_columns])
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
        carriers = [column.get((role, table.ids[row]), "") for column in carrier_columns.values()]
        writer.writerow([role, spreadsheet_text(table.ids[row]), table.refs[row], int(table.tokens[row]),
                         int(table.windows[row]), *values, *carriers])
    return buffer.getvalue()


def spreadsheet_text(value: object) -> str:
    """A text cell from the data, written so that a spreadsheet never evaluates it: one
    that starts like a formula (= + - @, a tab or a carriage return) gets a leading single
    quote, the OWASP rule for CSV injection. The exact value stays in results.json."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_LEADS) else text


def carrier_record_columns(result: AuditResult) -> dict[str, dict[tuple[str, str], str]]:
    """records.csv's columns of the sensitive carriers (T2, T6: probes.carrier_assessment),
    by (role, id): `<probe>_carrier_rank`, the best rank of a sensitive code the record
    carries (1: the model's first choice after the rest of the record), and
    `<probe>_named_carrier`, 1 when the record is named as a memorised diagnosis (0: an
    examined carrier not named; empty: not a carrier examined)."""
    columns: dict[str, dict[tuple[str, str], str]] = {}
    for probe in result.probes:
        if not probe.carriers:
            continue
        ranks: dict[tuple[str, str], int] = {}
        named: dict[tuple[str, str], bool] = {}
        for c in probe.carriers:
            key = (str(c["role"]), str(c["id"]))
            ranks[key] = min(int(c["rank"]), ranks.get(key, int(c["rank"])))
            named[key] = named.get(key, False) or bool(c["named"])
        columns[probe.id + CARRIER_RANK] = {k: str(v) for k, v in ranks.items()}
        columns[probe.id + NAMED_CARRIER] = {k: "1" if v else "0" for k, v in named.items()}
    return columns
