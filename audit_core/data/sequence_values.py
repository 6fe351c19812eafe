"""A record's sequence value as the text the tokenizer reads: text as is, or a flat list
of codes joined by single spaces; anything else is refused.

A Parquet `list<list<int>>` column or a JSON object in the sequence column used to be
turned into its printed form ("[[1 2] [3]]", "{'a': 1}"), which tokenized mostly to
unknown tokens and gave a meaningless audit ("AUC 0.000"). Messages name the column and
the record numbers, never a value.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from audit_core.errors import DataError

_LISTS = (list, tuple, np.ndarray)
_ADVICE = {
    "nested lists": "flatten each record's codes into one list (or join them into text)",
    "objects (key/value pairs, a JSON object or Parquet struct)": "map the column that holds the record's codes or text, "
                                      "or store the codes as one list",
    "binary data": "store the codes or text as text (UTF-8)",
    "numbers": "map the column that holds the record's codes or text (data.columns.sequence)",
    "lists of decimal numbers": "write codes as text: as numbers, 250.00 and 250.0 are one code",
    "lists of true/false values": "a list of codes holds text or whole numbers",
    "lists with missing (null) elements": "remove the empty elements from the lists",
}


def sequence_texts(values: Iterable[object], column: str, file: str) -> list[str]:
    """Each record's text ("" for a missing value, refused later as empty); refuses the
    first kind of value that is not text or a flat list of codes, with its records."""
    texts: list[str] = []
    problems: dict[str, list[int]] = {}
    for row, value in enumerate(values):
        text, problem = _text(value)
        texts.append(text)
        if problem is not None:
            problems.setdefault(problem, []).append(row)
    if problems:
        kind, rows = next(iter(problems.items()))
        shown = ", ".join(str(r + 1) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        raise DataError(f"{file}: the sequence column '{column}' holds {kind} in {len(rows)} "
                        f"record{'s' if len(rows) > 1 else ''} (record{'s' if len(rows) > 1 else ''} "
                        f"{shown}), where an audit reads text or a flat list of codes; "
                        f"{_ADVICE.get(kind, 'store the codes or text as text')}")
    return texts


def _text(value: object) -> tuple[str, str | None]:
    if value is None:
        return "", None
    if isinstance(value, str):
        return (value if value.strip() else ""), None
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return "", None
    if isinstance(value, _LISTS):
        problem = _list_problem(value)
        if problem is not None:
            return "", problem
        return " ".join(t for t in (str(v).strip() for v in value) if t), None
    if isinstance(value, dict):
        return "", "objects (key/value pairs, a JSON object or Parquet struct)"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "", "binary data"
    if isinstance(value, (bool, int, float, np.bool_, np.number)):
        return "", "numbers"
    return "", f"{type(value).__name__} values"


def _list_problem(items) -> str | None:
    for item in items:
        if isinstance(item, (str, np.str_)):
            continue
        if isinstance(item, (bool, np.bool_)):
            return "lists of true/false values"
        if isinstance(item, (int, np.integer)):
            continue
        if isinstance(item, _LISTS):
            return "nested lists"
        if isinstance(item, dict):
            return "objects (key/value pairs, a JSON object or Parquet struct)"
        if item is None or (isinstance(item, (float, np.floating)) and np.isnan(item)):
            return "lists with missing (null) elements"
        if isinstance(item, (float, np.floating)):
            return "lists of decimal numbers"
        return "lists of " + type(item).__name__ + " values"
    return None
