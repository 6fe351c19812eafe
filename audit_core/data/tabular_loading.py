"""Reading a tabular classifier's members and non-members: feature columns and a label.

The same files as for language models (CSV, Parquet, JSONL, via `loading.read_table`),
but the record is a row of numbers in the model's input order. Problems name the file,
the column and record numbers, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.data.loading import describe_rows, read_table, record_ids
from audit_core.errors import DataError
from audit_core.fingerprint import file_sha256
from audit_core.plan.parsing import ColumnMapping

TABULAR = "tabular"  # the record kind the cohort's info carries (no codes, no text)


@dataclass(frozen=True, slots=True)
class TabularRecords:
    features: np.ndarray  # float64 [records, features], in data.columns.features order
    labels: tuple[str, ...]  # the label column as text, matched to the model's classes later


def load_tabular_cohort(path, role: Role, columns: ColumnMapping) -> tuple[Cohort, TabularRecords]:
    wanted = list(dict.fromkeys([columns.id, *columns.features, columns.label, *columns.subgroups]))
    # Only the mapped columns are read; a missing one is named with what it is for, and
    # the file's other column names are never printed (they may be data).
    roles = {**{c: "feature" for c in columns.features}, columns.label: "label"}
    frame, fmt = read_table(path, wanted, roles)
    name = path.name
    if len(frame) == 0:
        raise DataError(f"{name} holds no records")
    ids = record_ids(frame, columns.id, name)
    features = np.column_stack([_numeric(frame[c], c, name) for c in columns.features])
    labels = [_label_text(v) for v in frame[columns.label].tolist()]
    blank = [i for i, v in enumerate(labels) if not v]
    if blank:
        raise DataError(f"{name}: {len(blank)} records have no value in the label column "
                        f"'{columns.label}' ({describe_rows(blank)})")
    subgroups = {c: frame[c].astype("string").fillna("(missing)").to_numpy(dtype=object)
                 for c in columns.subgroups}
    info = DatasetInfo(role=role.value, file=name, sha256=file_sha256(path), records=len(ids),
                       format=fmt, columns={"id": columns.id, "kind": TABULAR,
                                            "features": list(columns.features),
                                            "label": columns.label,
                                            "subgroups": list(columns.subgroups)})
    cohort = Cohort(role=role, ids=tuple(ids), sequences=(), subgroups=subgroups, info=info)
    return cohort, TabularRecords(features, tuple(labels))


def _numeric(column, name: str, file: str) -> np.ndarray:
    """A feature column as finite floats; CSV cells arrive as text, Parquet as numbers."""
    import pandas as pd

    values = column.astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
    empty = values.map(lambda v: v is None or v == "" or (isinstance(v, float) and np.isnan(v)))
    parsed = pd.to_numeric(values.where(~empty, None).map(
        lambda v: float(v) if isinstance(v, bool) else v), errors="coerce").to_numpy(dtype=np.float64)
    text_missing = np.array([isinstance(v, str) and v.lower() in ("nan", "na", "n/a", "null")
                             for v in values])
    missing = np.flatnonzero(empty.to_numpy() | text_missing)
    if len(missing):
        raise DataError(f"{file}: feature column '{name}' has {len(missing)} missing values "
                        f"(NaN or empty; {describe_rows(missing)}); the model needs a number in "
                        "every cell: impute them as the model's training pipeline did")
    bad = np.flatnonzero(np.isnan(parsed))
    if len(bad):
        raise DataError(f"{file}: feature column '{name}' has {len(bad)} non-numeric values "
                        f"({describe_rows(bad)}); encode categories as numbers, as the model "
                        "was trained")
    infinite = np.flatnonzero(~np.isfinite(parsed))
    if len(infinite):
        raise DataError(f"{file}: feature column '{name}' has {len(infinite)} infinite values "
                        f"({describe_rows(infinite)})")
    return parsed


def _label_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    return str(value).strip()
