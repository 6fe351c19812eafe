"""Reading a JSON Lines file one line at a time, keeping only the wanted keys.

pandas read the whole file into a frame of every key (a scan or a long note the plan
never uses included) and turned values on the way: ids 7 and 10 became 7.0 and 10.0 when
one record lacked an id, a key named like a date became timestamps. Here each value stays
as JSON wrote it; a key a record lacks is None. A line that is not a JSON object, or an
object naming a key twice, is refused with its line number, never its text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from audit_core.data.column_names import check_columns, column_label
from audit_core.errors import DataError

# A JSON escape of a UTF-16 surrogate (\uD800 to \uDFFF): a pair is one character, half a
# pair decodes to text that cannot be written as UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

_SAMPLE = 20  # records kept to tell names from values when a wanted key is missing
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__("a key named twice")
        self.key = key


def _object(pairs: list[tuple[str, object]]) -> dict:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen[key] = value
    return seen


def read_json_lines(path: Path, wanted: list[str] | None,
                    roles: Mapping[str, str] | None = None) -> tuple[dict[str, list], list[str]]:
    """({key: values}, every key in first-seen order) for the wanted keys (all when None)."""
    name = path.name
    keep = None if wanted is None else list(dict.fromkeys(wanted))
    values: dict[str, list] = {k: [] for k in keep} if keep is not None else {}
    found: dict[str, None] = {}
    samples: list[dict] = []
    records = 0
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = _parse(line, number, name, found, keep or ())
            for key in record:
                if key not in found:
                    found[key] = None
                    if keep is None:  # a key first seen here: None for the records before
                        values[key] = [None] * records
            for key, column in values.items():
                column.append(record.get(key))
            if len(samples) < _SAMPLE:
                samples.append(record)
            records += 1
    if not records:
        raise DataError(f"{name} holds no records")
    names = list(found)
    if keep is not None:
        rows = [[str(r.get(k, "")) for k in names] for r in samples]
        check_columns(name, keep, names, rows, roles)
    return values, names


def _parse(line: str, number: int, name: str, found: Mapping[str, None], known) -> dict:
    try:
        record = json.loads(line, object_pairs_hook=_object)
    except _RepeatedKey as repeated:
        keys = list(found)
        where = (column_label(keys.index(repeated.key), repeated.key, known)
                 if repeated.key in found else f"'{repeated.key}'" if repeated.key in known
                 else "a key")
        raise DataError(f"{name}: line {number} names {where} twice in one record; which value "
                        "counts would be a guess: remove the repeated key") from None
    except RecursionError:
        raise DataError(f"{name}: line {number} nests arrays or objects too deeply to read") from None
    except ValueError:
        raise DataError(f"{name}: line {number} is not valid JSON (JSON Lines: one object "
                        "per line)") from None
    if not isinstance(record, dict):
        raise DataError(f"{name}: line {number} holds {_JSON_KINDS.get(type(record), 'a value')} "
                        "where JSON Lines needs an object ({...}) per record")
    try:  # a \uD800 escape decodes to half a character, which no later step can write
        if _SURROGATE_ESCAPE.search(line):  # the cheap test first: most lines have none
            json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(f"{name}: line {number} holds a \\u escape that is not a character (half a "
                        "surrogate pair); the export is broken") from None
    return record
