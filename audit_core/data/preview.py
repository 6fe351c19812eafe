"""What a data file holds, before any mapping is chosen: columns, counts, a few samples.

For the desktop app's Data step (and any front end that helps a user map columns). The
file is read with the same reader as `load_cohort`, so what the preview accepts the audit
accepts too. Sample values are patient data: they are returned for display on demand and
never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from audit_core.data.loading import read_table
from audit_core.errors import DataError

SAMPLE_ROWS = 3
_SAMPLE_CHARS = 80
_ID_NAMES = re.compile(r"^(id|.*_id|.*id$|mrn|record|patient|subject)$", re.IGNORECASE)
_CODE_NAMES = re.compile(r"code|icd|sequence|events|tokens", re.IGNORECASE)
_TEXT_NAMES = re.compile(r"text|note|report|narrative|summary|body", re.IGNORECASE)
_CODE_TOKEN = re.compile(r"^[A-Z0-9_.:\-/]+$")
MAX_SUBGROUP_LEVELS = 12


@dataclass(frozen=True, slots=True)
class ColumnSummary:
    name: str
    distinct: int
    unique: bool  # every record has its own non-empty value
    mean_length: float  # characters, over non-empty values
    code_like: float  # share of whitespace-separated tokens that look like codes
    # Every non-empty value reads as a number: a candidate input of a tabular classifier.
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class TablePreview:
    file: str
    format: str
    records: int
    columns: tuple[ColumnSummary, ...]
    samples: tuple[tuple[str, ...], ...]  # the first rows, in column order (patient data)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True, slots=True)
class ColumnGuess:
    id: str
    sequence: str
    kind: str  # "codes" or "text"
    subgroups: tuple[str, ...]


def preview_table(path: Path) -> TablePreview:
    frame, fmt = read_table(Path(path))
    if len(frame) == 0:
        raise DataError(f"{Path(path).name} holds no records")
    summaries = []
    for name in frame.columns:
        values = [_text(v) for v in frame[name].tolist()]
        filled = [v for v in values if v]
        tokens = [t for v in filled[:500] for t in v.split()[:50]]
        summaries.append(ColumnSummary(
            name=str(name), distinct=len(set(values)),
            unique=len(filled) == len(values) and len(set(filled)) == len(filled),
            mean_length=sum(map(len, filled)) / len(filled) if filled else 0.0,
            code_like=sum(bool(_CODE_TOKEN.match(t)) for t in tokens) / len(tokens) if tokens else 0.0,
            numeric=bool(filled) and all(_is_number(v) for v in filled)))
    samples = tuple(tuple(_text(v)[:_SAMPLE_CHARS] for v in row)
                    for row in frame.head(SAMPLE_ROWS).itertuples(index=False, name=None))
    return TablePreview(file=Path(path).name, format=fmt, records=len(frame),
                        columns=tuple(summaries), samples=samples)


def guess_columns(preview: TablePreview) -> ColumnGuess:
    """A first mapping for the user to check: id, sequence column and kind, subgroups."""
    columns = list(preview.columns)
    unique = [c for c in columns if c.unique]
    named_id = [c for c in unique if _ID_NAMES.match(c.name)]
    id_column = (named_id or sorted(unique, key=lambda c: c.mean_length) or columns)[0]
    rest = [c for c in columns if c.name != id_column.name]
    if not rest:
        return ColumnGuess(id=id_column.name, sequence=id_column.name, kind="text", subgroups=())
    sequence = max(rest, key=lambda c: (bool(_CODE_NAMES.search(c.name) or _TEXT_NAMES.search(c.name)),
                                        c.mean_length))
    if _TEXT_NAMES.search(sequence.name):
        kind = "text"
    elif _CODE_NAMES.search(sequence.name):
        kind = "codes"
    else:
        kind = "codes" if sequence.code_like >= 0.8 else "text"
    subgroups = tuple(c.name for c in rest if c.name != sequence.name
                      and 2 <= c.distinct <= MAX_SUBGROUP_LEVELS and c.distinct < preview.records)
    return ColumnGuess(id=id_column.name, sequence=sequence.name, kind=kind, subgroups=subgroups)


def _is_number(text: str) -> bool:
    try:
        return float(text) == float(text)  # NaN is a missing value, not a number
    except ValueError:
        return False


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return " ".join(str(v) for v in value)  # type: ignore[attr-defined]  # an ndarray iterates
    return str(value).strip()
