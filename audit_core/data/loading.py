"""Reading members and non-members files (CSV, Parquet, JSONL) into cohorts; with
csv_reading.py and parquet_reading.py, the only modules using pandas and pyarrow.

Every problem is reported with the file name, the column and row or line numbers, never
with a value from the file, nor a column name the plan did not give (column_names.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.data.csv_reading import read_delimited
from audit_core.data.jsonl_reading import read_json_lines
from audit_core.data.sequence_values import sequence_texts
from audit_core.errors import DataError
from audit_core.fingerprint import file_sha256
from audit_core.plan.parsing import ColumnMapping, DataSpec

# Far past any clinical note or code history (the longest run to tens of thousands of
# characters); beyond it a record is a broken export, and would take hours to score.
MAX_RECORD_CHARACTERS = 500_000
FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
           ".jsonl": "jsonl", ".ndjson": "jsonl"}


def load_cohort(path: Path, role: Role, columns: ColumnMapping) -> Cohort:
    name = path.name
    wanted = [columns.id, columns.sequence, *columns.subgroups]
    # Only the mapped columns are kept, and a CSV is read one row at a time: a frame of
    # the whole file (every column, parser buffers) peaked at several times the records.
    values, fmt, found = read_columns(path, wanted)
    if not values[columns.id]:
        raise DataError(f"{name} holds no records")

    ids = _record_ids(values[columns.id], columns.id, name)
    sequences = sequence_texts(values[columns.sequence], columns.sequence, name)
    empty = [i for i, v in enumerate(sequences) if not v]
    if empty:
        raise DataError(f"{name}: {len(empty)} records have an empty '{columns.sequence}' "
                        f"value ({_rows(empty)}); remove them or fill them in")
    huge = [i for i, v in enumerate(sequences) if len(v) > MAX_RECORD_CHARACTERS]
    if huge:
        raise DataError(f"{name}: {len(huge)} records hold more than {MAX_RECORD_CHARACTERS:,} "
                        f"characters in '{columns.sequence}' ({_rows(huge)}); a quote left open "
                        "in a CSV merges every row after it into one: check the file")

    subgroups = {c: np.array([_subgroup_text(v) for v in values[c]], dtype=object)
                 for c in columns.subgroups}
    info = DatasetInfo(role=role.value, file=name, sha256=file_sha256(path), records=len(ids),
                       format=fmt, columns={"id": columns.id, "sequence": columns.sequence,
                                            "kind": columns.kind,
                                            "subgroups": list(columns.subgroups)})
    return Cohort(role=role, ids=tuple(ids), sequences=tuple(sequences), subgroups=subgroups, info=info)


def record_ids(frame, column: str, name: str) -> list[str]:
    """The id column as text; refuses blank and repeated ids (naming rows, not values)."""
    return _record_ids(frame[column].tolist(), column, name)


def _record_ids(values: list, column: str, name: str) -> list[str]:
    texts = [_id_text(v) for v in values]
    blank = [i for i, v in enumerate(texts) if v is None]
    if blank:
        raise DataError(f"{name}: {len(blank)} records have no value in the id column "
                        f"'{column}' ({_rows(blank)})")
    ids = [v for v in texts if v is not None]  # all of them: none is blank
    seen: dict[str, int] = {}
    duplicates = []
    for row, value in enumerate(ids):
        if value in seen:
            duplicates.append(row)
        seen[value] = row
    if duplicates:
        raise DataError(f"{name}: {len(duplicates)} records repeat an id already used in the file "
                        f"({_rows(duplicates)}); each record needs its own id")
    return ids


def describe_rows(rows: Iterable[int]) -> str:
    """Record numbers for a message (see `_rows`)."""
    return _rows(rows)


def load_cohorts(data: DataSpec) -> dict[Role, Cohort]:
    """Both files of a plan as cohorts of different patients (every kind that reads records);
    a MEDS dataset folder's splits instead when the plan's data format says so."""
    if data.format == "fhir":  # converted to MEDS in a temporary folder, then read alike
        from audit_core.data.fhir_meds import load_fhir_cohorts

        cohorts = load_fhir_cohorts(data.rooted())
        check_disjoint(cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS])
        return cohorts
    if data.format != "files":
        from audit_core.data.meds_reading import load_meds_cohorts

        cohorts = load_meds_cohorts(data.rooted())
        check_disjoint(cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS])
        return cohorts
    cohorts = {Role.MEMBERS: load_cohort(data.members, Role.MEMBERS, data.columns),
               Role.NON_MEMBERS: load_cohort(data.non_members, Role.NON_MEMBERS, data.columns)}
    check_disjoint(cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS])
    return cohorts


def check_disjoint(members: Cohort, non_members: Cohort) -> None:
    """Members and non-members must be different patients, or every contrast is void."""
    shared = set(members.ids) & set(non_members.ids)
    if shared:
        raise DataError(f"{members.info.file} and {non_members.info.file} share {len(shared)} ids: "
                        "a record cannot be both a member and a non-member")


def read_table(path: Path, wanted: list[str] | None = None, roles: Mapping[str, str] | None = None):
    """The file as a pandas frame (the `wanted` columns, or every column) and its format
    name; DataError for anything unreadable. Every format goes through `read_columns`, so
    a file the preview or a tabular audit reads is parsed exactly as a cohort is."""
    import pandas as pd

    values, fmt, found = read_columns(path, wanted, roles)
    if fmt == "parquet":
        return values, fmt  # read_columns gives Parquet as the frame itself, Arrow types mapped
    # Text as written (CSV, TSV) or as JSON wrote it: no type is guessed on the way.
    keep = found if wanted is None else list(dict.fromkeys(wanted))
    return pd.DataFrame({c: pd.Series(values[c], dtype=object) for c in keep}, columns=keep), fmt


def read_columns(path: Path, wanted: list[str] | None, roles: Mapping[str, str] | None = None):
    """({column: its values}, format, the file's columns) for the `wanted` columns, or
    every column when None (then Parquet comes back as a pandas frame). A column
    the file lacks, or a name the file repeats, is refused without printing the file's
    column names (they may be data: see column_names.py).

    CSV and TSV are read row by row (csv_reading.py), keeping only the wanted columns:
    every value stays text as written (ids keep their leading zeros, codes stay codes; an
    empty field is ""), a field missing from a short row is None. JSONL is read a line
    at a time, values as JSON wrote them, a key a record lacks None (jsonl_reading.py).
    Parquet is read a row group at a time, the wanted columns only (parquet_reading.py).
    """
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"{path.name}: unsupported file type '{path.suffix}' "
                        f"(use {', '.join(sorted(set(FORMATS)))})")
    if path.stat().st_size == 0:
        raise DataError(f"{path.name} is empty")
    try:
        if fmt == "parquet":
            return _read_parquet(path, wanted, roles)
        if fmt == "jsonl":
            values, found = read_json_lines(path, wanted, roles)
        else:
            values, found = read_delimited(path, "\t" if fmt == "tsv" else ",", wanted, roles)
        return values, fmt, found
    except UnicodeDecodeError:
        raise DataError(f"{path.name} is not UTF-8 text; save it as UTF-8") from None
    except DataError:
        raise
    except Exception as exc:  # parsers raise many types; none of their messages is shown (data)
        raise DataError(f"{path.name} cannot be read as {fmt.upper()} ({exc.__class__.__name__})") from None


def _read_parquet(path: Path, wanted: list[str] | None, roles: Mapping[str, str] | None):
    from audit_core.data.parquet_reading import open_parquet, parquet_frame, parquet_values

    parquet, columns, found = open_parquet(path, wanted, roles)
    if wanted is None:
        return parquet_frame(parquet, columns), "parquet", found
    return parquet_values(parquet, columns), "parquet", found


def _subgroup_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(missing)"
    return str(value)


def _id_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _rows(rows: Iterable[int]) -> str:
    """Record numbers, counted from 1 in file order (never the records' values)."""
    rows = list(rows)
    shown = ", ".join(str(r + 1) for r in rows[:5])
    return f"record{'s' if len(rows) > 1 else ''} {shown}{', ...' if len(rows) > 5 else ''}"
