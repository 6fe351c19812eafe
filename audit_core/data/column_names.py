"""Messages about a file's column names that never print a name the plan did not give.

Column names can be data: a CSV saved without its header row has a record where the
names should be, and "(its columns: P000123, AGE_18_29, Jane Q ...)" would put that
patient into a log or an exception. So a name is quoted only when it is one of the
plan's own column names (then it says nothing the plan does not); any other column is
"column 3 (12 characters)". When the expected columns are missing and the names look
like values, the message says the file seems to have no header row instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from audit_core.errors import DataError

_LISTED = 12  # columns described in a message; a wide file gets "and N more"
_DATE_OR_NUMBER = re.compile(r"^[\d\s.,:/+\-TZ]+$")  # 2024-01-05, 12:30, 0.75, 1/2/2020
_CODE_OR_ID = re.compile(r"^[A-Za-z]{0,10}\d{3,}$|^[A-Z]\d{2}(\.\d*)?[A-Z0-9]*$")  # P000123, J02.9
_LONG = 40  # characters: past any column name, typical of a note or a code list
_WORDS = 4  # a name of four words or more reads as a sentence


def column_label(index: int, name: str, known: Sequence[str]) -> str:
    """How a message may refer to the column at `index` (0-based) named `name`."""
    return f"'{name}'" if name in known else f"column {index + 1} ({len(name)} characters)"


def missing_column_message(file: str, missing: str, found: Sequence[str], known: Sequence[str],
                           samples: Sequence[Sequence[str]] = (), role: str = "") -> str:
    """Why `file` cannot give the plan's column `missing`; `samples` are a few records'
    values (column by column, as read) to compare the names with. Nothing from the file
    is quoted: see the module's docstring."""
    what = f"no {role + ' ' if role else ''}column '{missing}'"
    if not found:
        return f"{file} has {what}: its first line names no columns; fix the file's header line"
    if looks_headerless(found, samples):
        return (f"{file} has {what}: its first line reads as a record, not as column names "
                f"(the file seems to have no header row; it has {len(found)} columns); add a "
                "header line naming the columns, or fix data.columns in the plan")
    listed = ", ".join(column_label(i, n, known) for i, n in enumerate(found[:_LISTED]))
    more = f", and {len(found) - _LISTED} more" if len(found) > _LISTED else ""
    near = [i for i, n in enumerate(found) if n != missing and _loose(n) == _loose(missing)]
    hint = (f"; column {near[0] + 1} is '{missing}' but for upper/lower case or spaces"
            if near else "")
    return (f"{file} has {what} (its {len(found)} columns: {listed}{more}{hint}; names the "
            "plan does not use are not shown, they may be data); fix data.columns in the plan")


def check_columns(file: str, wanted: Sequence[str], found: Sequence[str],
                  samples: Sequence[Sequence[str]] = (), roles: Mapping[str, str] | None = None) -> None:
    """Refuse the first wanted column `found` lacks; `roles` name what a column is for
    ("feature", "label") in the message."""
    missing = [c for c in wanted if c not in found]
    if missing:
        raise DataError(missing_column_message(file, missing[0], found, wanted, samples,
                                               (roles or {}).get(missing[0], "")))


def check_unique_names(file: str, found: Sequence[str], known: Sequence[str]) -> None:
    """Refuse a header that names a column twice: which one a mapping means is a guess
    (a CSV reader takes the first, a frame the last). Several columns with no name at
    all (trailing delimiters) are allowed: no plan can map them."""
    counts = Counter(n for n in found if n.strip())
    repeated = [n for n in found if counts[n] > 1]
    if not repeated:
        return
    first = repeated[0]
    positions = [i + 1 for i, n in enumerate(found) if n == first]
    where = " and ".join(map(str, positions)) if len(positions) == 2 else ", ".join(map(str, positions))
    if first in known:
        raise DataError(f"{file} names the column '{first}' more than once in its header "
                        f"(columns {where}); rename or remove the extra column so the plan's "
                        "mapping means one column")
    raise DataError(f"{file} has columns of the same name in its header (columns {where}; names "
                    "the plan does not use are not shown, they may be data); rename or remove "
                    "the extra column")


def looks_headerless(found: Sequence[str], samples: Sequence[Sequence[str]] = ()) -> bool:
    """True when at least half the names read as values: numbers, dates, long or
    many-worded text, ids and codes, or text of the same form as the column's own values
    (a headerless file's first record has exactly its columns' forms)."""
    if not found:
        return False
    like = 0
    for index, name in enumerate(found):
        values = [row[index] for row in samples if index < len(row) and row[index]]
        like += _value_like(name) or _same_form(name, values)
    return like * 2 >= len(found)


def _value_like(name: str) -> bool:
    text = name.strip()
    if not text:
        return False
    return bool(len(text) > _LONG or len(text.split()) >= _WORDS
                or (_DATE_OR_NUMBER.match(text) and any(c.isdigit() for c in text))
                or _CODE_OR_ID.match(text))


def _same_form(name: str, values: list[str]) -> bool:
    """The name has the form most of the column's values share (P000123 and P000456 are
    both letters-then-digits; a name like patient_id is not). A form of letters alone
    (SEX beside F and M) tells a name from a value in no way, so it does not count."""
    if len(values) < 3:
        return False
    form, count = Counter(value_form(v) for v in values).most_common(1)[0]
    return (form is not None and form.strip("Aa ") != "" and count * 5 >= len(values) * 4
            and value_form(name) == form)


def value_form(text: str) -> str | None:
    """Letters, digits and spaces by class, runs collapsed ('P000123' -> 'A9', 'AB12.3x'
    -> 'A9.9a'); None for a long value (a note, a code list), which shares no form."""
    if len(text) > _LONG:
        return None
    classes: list[str] = []
    for char in text.strip():
        kind = ("A" if char.isupper() else "a" if char.isalpha() else "9" if char.isdigit()
                else " " if char.isspace() else char)
        if not classes or classes[-1] != kind:
            classes.append(kind)
    return "".join(classes)


def _loose(name: str) -> str:
    return "".join(name.split()).casefold()
