"""Reading members and non-members files (CSV, Parquet, JSONL): the only module using pandas.

Every problem is reported with the file name, the column and row numbers, never with a
value from the file.
"""

from __future__ import annotations

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
    frame, fmt = read_table(path)
    name = path.name
    if len(frame) == 0:
        raise DataError(f"{name} holds no records")
    wanted = [columns.id, columns.sequence, *columns.subgroups]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataError(f"{name} has no column '{missing[0]}' (its columns: "
                        f"{', '.join(map(str, frame.columns))}); fix data.columns in the plan")

    ids = record_ids(frame, columns.id, name)
    sequences = [_sequence_text(v) for v in frame[columns.sequence].tolist()]
    empty = [i for i, v in enumerate(sequences) if not v]
    if empty:
        raise DataError(f"{name}: {len(empty)} records have an empty '{columns.sequence}' "
                        f"value ({_rows(empty)}); remove them or fill them in")
    huge = [i for i, v in enumerate(sequences) if len(v) > MAX_RECORD_CHARACTERS]
    if huge:
        raise DataError(f"{name}: {len(huge)} records hold more than {MAX_RECORD_CHARACTERS:,} "
                        f"characters in '{columns.sequence}' ({_rows(huge)}); a quote left open "
                        "in a CSV merges every row after it into one: check the file")

    subgroups = {c: frame[c].astype("string").fillna("(missing)").to_numpy(dtype=object)
                 for c in columns.subgroups}
    info = DatasetInfo(role=role.value, file=name, sha256=file_sha256(path), records=len(ids),
                       format=fmt, columns={"id": columns.id, "sequence": columns.sequence,
                                            "kind": columns.kind,
                                            "subgroups": list(columns.subgroups)})
    return Cohort(role=role, ids=tuple(ids), sequences=tuple(sequences), subgroups=subgroups, info=info)


def record_ids(frame, column: str, name: str) -> list[str]:
    """The id column as text; refuses blank and repeated ids (naming rows, not values)."""
    ids = [_id_text(v) for v in frame[column].tolist()]
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
    """The file as a pandas frame and its format name; DataError for anything unreadable."""
    import pandas as pd

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
            # Everything as text: ids keep their leading zeros, codes stay codes.
            frame = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", dtype=str,
                                keep_default_na=False, encoding="utf-8")
        elif fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_json(path, lines=True, dtype=False)
    except UnicodeDecodeError:
        raise DataError(f"{path.name} is not UTF-8 text; save it as UTF-8") from None
    except Exception as exc:  # parsers raise many types; none of their messages is shown (data)
        raise DataError(f"{path.name} cannot be read as {fmt.upper()} ({exc.__class__.__name__})") from None
    return frame, fmt


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
