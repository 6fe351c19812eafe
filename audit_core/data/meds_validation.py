"""A MEDS dataset folder checked before any record is built: its layout, each file's
columns against the `meds` package's schemas, and the subject splits.

A MEDS root holds `data/**/*.parquet` (the events: subject_id, time, code, optional
numeric_value and text_value, extra columns allowed), `metadata/subject_splits.parquet`
(subject_id, split) and optionally `metadata/codes.parquet` (code, description,
parent_codes). Column types are those of `meds.DataSchema` and friends, with the widths
a hospital's export may differ in accepted (any integer subject_id, any timestamp unit,
float64 values, string or large_string or dictionary codes): the reader casts them.

Messages name the file (a shard's path below the root) and the column, with counts and
row numbers; never a code, a value or a subject id (patient data).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from audit_core.errors import DataError

SPLITS_FILE = "metadata/subject_splits.parquet"
CODES_FILE = "metadata/codes.parquet"


@dataclass(frozen=True, slots=True)
class MedsFolder:
    """A checked MEDS root: its shards (paths below the root, sorted) and splits."""

    root: Path
    shards: tuple[str, ...]  # e.g. "data/train/0.parquet"
    split_of: dict[int, str]  # subject_id -> split name
    has_codes: bool

    def split_names(self) -> list[str]:
        """The split names the split file holds, in first-seen order (not patient data)."""
        return list(dict.fromkeys(self.split_of.values()))

    def subjects(self, splits: Sequence[str], role: str) -> set[int]:
        """The subjects of the named splits; refuses a split the file does not hold."""
        present = self.split_names()
        for name in splits:
            if name not in present:
                raise DataError(f"{self.root.name}: the {role} split '{name}' is not in {SPLITS_FILE} "
                                f"({_listing(present)})")
        wanted = set(splits)
        return {s for s, split in self.split_of.items() if split in wanted}

    def sha256(self) -> str:
        """One hash over every shard's, the split file's and the codes file's bytes (with
        their paths), so the audit's id changes whenever the data does."""
        digest = hashlib.sha256()
        for relative in (*self.shards, SPLITS_FILE, *((CODES_FILE,) if self.has_codes else ())):
            digest.update(relative.encode("utf-8") + b"\0")
            with open(self.root / relative, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()


def open_meds_folder(root: Path) -> MedsFolder:
    """The dataset at `root`, its layout and split file checked (the shards' columns too)."""
    if not root.is_dir():
        raise DataError(f"MEDS dataset folder not found: {root}")
    data = root / "data"
    shards = sorted(p.relative_to(root).as_posix() for p in data.rglob("*.parquet") if p.is_file()) \
        if data.is_dir() else []
    if not shards:
        raise DataError(f"{root.name}: no data/**/*.parquet shard found; a MEDS dataset keeps its "
                        "events in Parquet files below data/")
    for shard in shards:
        check_columns(root, shard, DATA_COLUMNS)
    if not (root / SPLITS_FILE).is_file():
        raise DataError(f"{root.name}: {SPLITS_FILE} not found; a MEDS dataset names each subject's "
                        "split (train, tuning, held_out) there, and the audit reads members and "
                        "non-members from it")
    has_codes = (root / CODES_FILE).is_file()
    if has_codes:
        check_columns(root, CODES_FILE, CODES_COLUMNS)
    return MedsFolder(root=root, shards=tuple(shards), split_of=_read_splits(root), has_codes=has_codes)


# Per column of each file: required?, the `meds` schema's type, and the family of types
# accepted and cast to it. Read from the meds package, so its schema is the reference.
def _schema_columns(schema_class: type, families: dict[str, str]) -> dict[str, tuple[bool, str]]:
    required = set(schema_class.required_columns())  # type: ignore[attr-defined]
    return {c: (c in required, families[c]) for c in schema_class.columns()  # type: ignore[attr-defined]
            if c in families}


def _meds_schemas() -> tuple[dict[str, tuple[bool, str]], ...]:
    import meds

    return (_schema_columns(meds.DataSchema, {"subject_id": "integer", "time": "timestamp",
                                              "code": "string", "numeric_value": "number",
                                              "text_value": "string"}),
            _schema_columns(meds.SubjectSplitSchema, {"subject_id": "integer", "split": "string"}),
            _schema_columns(meds.CodeMetadataSchema, {"code": "string", "description": "string",
                                                      "parent_codes": "list"}))


DATA_COLUMNS, SPLIT_COLUMNS, CODES_COLUMNS = _meds_schemas()


def check_columns(root: Path, relative: str, columns: dict[str, tuple[bool, str]]) -> pa.Schema:
    """The file's Arrow schema, its standard columns present (when required) and typed as
    the MEDS schema says, within the accepted family. Extra columns are allowed."""
    try:
        schema = pq.read_schema(root / relative)
    except Exception as exc:  # the parser's message may quote the file's bytes: not shown
        raise DataError(f"{relative} cannot be read as Parquet ({exc.__class__.__name__})") from None
    for name, (required, family) in columns.items():
        index = schema.get_field_index(name)
        if index < 0:
            if required:
                raise DataError(f"{relative}: the MEDS column '{name}' is missing")
            continue
        kind = schema.field(index).type
        if not _in_family(kind, family):
            raise DataError(f"{relative}: column '{name}' is {kind}, not the MEDS type "
                            f"({_FAMILY_NAMES[family]})")
    return schema


_FAMILY_NAMES = {"integer": "a 64-bit integer", "timestamp": "a timestamp", "string": "a string",
                 "number": "a float", "list": "a list of strings"}


def _in_family(kind: pa.DataType, family: str) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if family == "integer":
        return pa.types.is_integer(kind)
    if family == "timestamp":
        return pa.types.is_timestamp(kind) or pa.types.is_null(kind)
    if family == "string":
        return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
    if family == "number":
        return pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)
    return pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_null(kind)


def _read_splits(root: Path) -> dict[int, str]:
    check_columns(root, SPLITS_FILE, SPLIT_COLUMNS)
    try:
        table = pq.read_table(root / SPLITS_FILE, columns=["subject_id", "split"])
    except Exception as exc:
        raise DataError(f"{SPLITS_FILE} cannot be read as Parquet ({exc.__class__.__name__})") from None
    subjects = table.column("subject_id")
    splits = table.column("split").cast(pa.string())
    for name, column in (("subject_id", subjects), ("split", splits)):
        refuse_nulls(SPLITS_FILE, name, column)
    if table.num_rows == 0:
        raise DataError(f"{SPLITS_FILE} holds no subject")
    try:
        ids = subjects.cast(pa.int64()).to_numpy()
    except pa.ArrowInvalid:  # unsigned ids past the int64 range MEDS requires
        raise DataError(f"{SPLITS_FILE}: column 'subject_id' holds values outside the 64-bit "
                        "integer range of MEDS") from None
    names = splits.to_pylist()
    split_of: dict[int, str] = {}
    repeated = []
    for row, (subject, split) in enumerate(zip(ids.tolist(), names, strict=True)):
        if subject in split_of:
            if split_of[subject] != split:
                repeated.append(row)
            continue
        split_of[subject] = split
    if repeated:
        raise DataError(f"{SPLITS_FILE}: {len(repeated)} subjects are in two splits ({rows(repeated)}); "
                        "a subject must be in one split only")
    return split_of


def refuse_nulls(relative: str, name: str, column: pa.ChunkedArray | pa.Array,
                 offset: int = 0) -> None:
    """Refuse a column that MEDS requires filled (subject_id, code, split), by row numbers."""
    if column.null_count:
        missing = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False)) + offset
        raise DataError(f"{relative}: {len(missing)} rows have no value in column '{name}' "
                        f"({rows(missing)}); MEDS requires it in every row")


def rows(numbers: Iterable[int]) -> str:
    """Row numbers counted from 1 in file order (never the rows' values)."""
    numbers = [int(n) for n in numbers]
    shown = ", ".join(str(n + 1) for n in numbers[:5])
    return f"row{'s' if len(numbers) > 1 else ''} {shown}{', ...' if len(numbers) > 5 else ''}"


def _listing(names: list[str]) -> str:
    """How many splits the file holds, naming only MEDS's standard names (the others are
    the file's values, not shown)."""
    standard = [f"'{n}'" for n in ("train", "tuning", "held_out") if n in names]
    among = (f", among them {', '.join(standard)}" if standard
             else ", none of them named train, tuning or held_out")
    return f"it holds {len(names)} split name{'s' if len(names) != 1 else ''}{among}"
