"""Reading members and non-members files (CSV, Parquet, JSONL): the only module using pandas.

Every problem is reported with the file name, the column and row numbers, never with a
value from the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.errors import DataError
from audit_core.fingerprint import file_sha256
from audit_core.plan import ColumnMapping

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
    sequences = [_sequence_text(v) for v in values[columns.sequence]]
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
    ids = [_id_text(v) for v in values]
    blank = [i for i, v in enumerate(ids) if v is None]
    if blank:
        raise DataError(f"{name}: {len(blank)} records have no value in the id column "
                        f"'{column}' ({_rows(blank)})")
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


def check_disjoint(members: Cohort, non_members: Cohort) -> None:
    """Members and non-members must be different patients, or every contrast is void."""
    shared = set(members.ids) & set(non_members.ids)
    if shared:
        raise DataError(f"{members.info.file} and {non_members.info.file} share {len(shared)} ids: "
                        "a record cannot be both a member and a non-member")


def read_table(path: Path):
    """The file as a pandas frame (every column) and its format name; DataError for
    anything unreadable. CSV and TSV go through `read_columns`, so a file the preview or
    a tabular audit reads is parsed exactly as a cohort is."""
    import pandas as pd

    values, fmt, found = read_columns(path, None)
    if fmt in ("csv", "tsv"):
        return pd.DataFrame({c: pd.Series(values[c], dtype=object) for c in found},
                            columns=found), fmt
    return values, fmt  # read_columns gives Parquet and JSONL as the frame itself


def read_columns(path: Path, wanted: list[str] | None):
    """({column: its values}, format, the file's columns) for the `wanted` columns, or
    every column when None (then Parquet and JSONL come back as a pandas frame). A column
    the file lacks is refused, naming the columns it has.

    CSV and TSV are read row by row with Python's csv module, keeping only the wanted
    columns: every value stays text as written (ids keep their leading zeros, codes stay
    codes; an empty field is ""), a field missing from a short row is None, blank lines
    are skipped, and a row with more fields than the header is refused.
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
        if fmt in ("csv", "tsv"):
            values, found = _read_delimited(path, "\t" if fmt == "tsv" else ",", wanted)
            return values, fmt, found
        frame = _read_frame(path, fmt)
    except UnicodeDecodeError:
        raise DataError(f"{path.name} is not UTF-8 text; save it as UTF-8") from None
    except DataError:
        raise
    except Exception as exc:  # parsers raise many types; none of their messages is shown (data)
        raise DataError(f"{path.name} cannot be read as {fmt.upper()} ({exc.__class__.__name__})") from None
    actual = {str(c): c for c in frame.columns}  # Parquet and JSON may name columns by number
    found = list(actual)
    if wanted is None:
        return frame, fmt, found
    _check_columns(path.name, wanted, found)
    return {c: frame[actual[c]].tolist() for c in wanted}, fmt, found


def _read_delimited(path: Path, delimiter: str, wanted: list[str] | None) -> tuple[dict[str, list], list[str]]:
    _allow_long_fields()
    # utf-8-sig: a byte-order mark (Excel writes one) is not part of the first column's name.
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path.name} is empty")
        keep = list(dict.fromkeys(header if wanted is None else wanted))
        _check_columns(path.name, keep, header)
        # The first of repeated names counts, so a column is always one column of the file.
        at = {name: header.index(name) for name in keep}
        values: dict[str, list] = {name: [] for name in keep}
        columns = [(values[name].append, at[name]) for name in keep]
        width, records = len(header), 0
        for row in reader:
            if not row:
                continue  # a blank line
            records += 1
            if len(row) > width:
                raise DataError(f"{path.name}: record {records} has {len(row)} fields, the header "
                                f"names {width}; a delimiter inside an unquoted value splits it: "
                                "check the file")
            for append, index in columns:
                append(row[index] if index < len(row) else None)
    return values, list(header)


def _allow_long_fields() -> None:
    """The csv module refuses fields over 128 KiB; a record up to MAX_RECORD_CHARACTERS is
    legitimate, and a longer one is refused by `load_cohort` with the reason, not here."""
    limit = 2 ** 31 - 1  # a C long on every platform
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def _check_columns(name: str, wanted: list[str], found: list[str]) -> None:
    missing = [c for c in wanted if c not in found]
    if missing:
        raise DataError(f"{name} has no column '{missing[0]}' (its columns: "
                        f"{', '.join(found)}); fix data.columns in the plan")


def _read_frame(path: Path, fmt: str):
    import pandas as pd

    if fmt == "parquet":
        return pd.read_parquet(path)
    return pd.read_json(path, lines=True, dtype=False)


def _subgroup_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(missing)"
    return str(value)
def _id_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _sequence_text(value: object) -> str:
    """A text value as is; a list of codes (Parquet/JSONL list column) joined by spaces."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (list, tuple, np.ndarray)):
        return " ".join(str(v).strip() for v in value if str(v).strip())
    text = str(value)
    return text if text.strip() else ""


def _rows(rows: Iterable[int]) -> str:
    """Record numbers, counted from 1 in file order (never the records' values)."""
    rows = list(rows)
    shown = ", ".join(str(r + 1) for r in rows[:5])
    return f"record{'s' if len(rows) > 1 else ''} {shown}{', ...' if len(rows) > 5 else ''}"
