"""Reading a CSV or TSV row by row, keeping only the wanted columns, and refusing quoting
that merges rows.

A quote opened at the start of a field and never closed makes every line after it part
of that one field: a 200-row file read as 150 records, one of them thousands of tokens
long. Quoted fields may legitimately hold line breaks (a clinical note with paragraphs),
so a record that spans lines is refused only when quoting explains a broken file:

* the file ends inside the quoted field (the quote is never closed);
* the record spanning lines has a different number of fields from the header (the
  quote swallowed delimiters and line ends of the rows after it);
* a line inside the quoted field reads as a record of the file: as many fields as the
  header, and of the form every other record has in each column where they share one
  (ids like P000123, bands like AGE_18_29, ...): the rows that follow were swallowed.

Messages give the line where the quote opens, never the text.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from audit_core.data.column_names import check_columns, check_unique_names, value_form
from audit_core.errors import DataError

_FORM_SAMPLE = 1000  # single-line records whose column forms are learnt
_HEADER_SAMPLE = 20  # records read to tell a header from a record when columns are missing


class _LineTap:
    """The file's lines as the csv reader takes them, so a record's own lines are known."""

    def __init__(self, handle) -> None:
        self._handle = handle
        self.lines: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._handle)
        self.lines.append(line)
        return line

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


def read_delimited(path: Path, delimiter: str, wanted: list[str] | None,
                   roles: Mapping[str, str] | None = None) -> tuple[dict[str, list], list[str]]:
    """({column: values}, header) for the wanted columns (every column when None). Values
    stay text as written; a field missing from a short row is None; blank lines are
    skipped; a row with more fields than the header is refused."""
    _allow_long_fields()
    name = path.name
    # utf-8-sig: a byte-order mark (Excel writes one) is not part of the first column's name.
    with open(path, encoding="utf-8-sig", newline="") as handle:
        tap = _LineTap(handle)
        reader = csv.reader(tap, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise DataError(f"{name} is empty")
        if reader.line_num > 1:
            raise DataError(f"{name}: the header (line 1) opens a quote that runs to line "
                            f"{reader.line_num}; a stray quote merges lines: check the file")
        tap.take()
        keep = list(dict.fromkeys(header if wanted is None else wanted))
        if any(c not in header for c in keep):  # first: a headerless file repeats values too
            samples = [row for row, _ in zip(reader, range(_HEADER_SAMPLE))]
            check_columns(name, keep, header, samples, roles)
        check_unique_names(name, header, wanted or ())
        values: dict[str, list] = {column: [] for column in keep}
        columns = [(values[column].append, header.index(column)) for column in keep]
        quoting = _QuoteCheck(name, len(header), delimiter)
        records, last = 0, [""]
        for row in reader:
            lines = tap.take()
            if not row:
                continue  # a blank line
            records += 1
            last = lines
            end = reader.line_num
            quoting.record(row, end - len(lines) + 1, end, records)
            for append, index in columns:
                append(row[index] if index < len(row) else None)
        quoting.finish(last)
    return values, list(header)


class _QuoteCheck:
    """Follows the records as they are read; refuses the three signs of a stray quote
    once the file is read (a quote never closed is the clearest message, so it goes first)."""

    def __init__(self, name: str, width: int, delimiter: str) -> None:
        self.name, self.width, self.delimiter = name, width, delimiter
        self.forms: list[Counter] = [Counter() for _ in range(width)]
        self.sampled = 0
        self.spanning: list[tuple[int, int, list[list[str | None]]]] = []  # (quote line, end, row-like lines' forms)
        self.miscounted: str | None = None  # the first record spanning lines with the wrong width
        self.last_start = 1

    def record(self, row: list[str], start: int, end: int, number: int) -> None:
        self.last_start = start
        if self.sampled < _FORM_SAMPLE and len(row) == self.width:
            # Every record teaches the forms (a notes file may have no one-line record);
            # a value holding a line break has no form.
            self.sampled += 1
            for counter, value in zip(self.forms, row):
                counter[None if "\n" in value or "\r" in value else value_form(value)] += 1
        if end == start:
            if len(row) > self.width:
                raise DataError(f"{self.name}: record {number} (line {start}) has {len(row)} fields, "
                                f"the header names {self.width}; a delimiter inside an unquoted "
                                "value splits it: check the file")
            return
        opened = _quote_line(row, start)
        if len(row) != self.width:
            if self.miscounted is None:
                self.miscounted = (
                    f"{self.name}: a quote opened on line {opened} runs to line {end}, making lines "
                    f"{start}-{end} one record of {len(row)} fields where the header names "
                    f"{self.width}; a stray quote merges the rows after it: close or remove the "
                    f"quote on line {opened}")
            return
        rowlike = [[value_form(v) for v in fields]
                   for fields in _inner_lines(row, self.width, self.delimiter)]
        if rowlike:
            self.spanning.append((opened, end, rowlike))

    def finish(self, last: list[str]) -> None:
        text = "".join(last)
        if _open_at_end(text, self.delimiter):
            opened = self.last_start + text[: _open_offset(text, self.delimiter)].count("\n")
            raise DataError(f"{self.name}: line {opened} opens a quote that is never closed, so "
                            "every line after it is read as part of one value; close or remove "
                            f"the quote on line {opened}")
        if self.miscounted is not None:
            raise DataError(self.miscounted)
        shared = {i: form for i, counter in enumerate(self.forms) if self.sampled >= 3
                  for form, count in counter.most_common(1)
                  if form is not None and count * 5 >= self.sampled * 4}
        if not shared:
            return
        for opened, end, rowlike in self.spanning:
            if any(all(forms[i] == form for i, form in shared.items()) for forms in rowlike):
                raise DataError(f"{self.name}: the quoted value opened on line {opened} runs to "
                                f"line {end} and holds lines that read as records of the file; a "
                                "stray quote merges the rows after it: close or remove the quote "
                                f"on line {opened}")


def _quote_line(row: list[str], start: int) -> int:
    """The line where the last field holding a line break starts: the field a stray
    quote opened swallows everything after it, so it is the last one that spans lines."""
    last = max((i for i, field in enumerate(row) if "\n" in field or "\r" in field), default=0)
    return start + sum(field.count("\n") for field in row[:last])


def _inner_lines(row: list[str], width: int, delimiter: str) -> list[list[str]]:
    """The lines after a line break inside the record's fields that split into exactly
    as many fields as the header: candidates for swallowed records."""
    found = []
    for field in row:
        for line in field.splitlines()[1:]:
            fields = next(csv.reader([line], delimiter=delimiter), [])
            if width > 1 and len(fields) == width:
                found.append(fields)
    return found


def _open_at_end(text: str, delimiter: str) -> bool:
    """Does the record's text end inside a quoted field? (A strict reader says so; the
    forgiving one used for reading takes the rest of the file into the field.)"""
    if '"' not in text:
        return False
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _open_offset(text: str, delimiter: str) -> int:
    """Offset in the record's text of the quote left open: the last quote that starts a
    field (after a delimiter or at a line start)."""
    starts = [i for i, c in enumerate(text) if c == '"' and (i == 0 or text[i - 1] in (delimiter, "\n", "\r"))]
    return starts[-1] if starts else 0


def _allow_long_fields() -> None:
    """The csv module refuses fields over 128 KiB; a record up to loading's
    MAX_RECORD_CHARACTERS is legitimate, and a longer one is refused there, with the reason."""
    limit = 2 ** 31 - 1  # a C long on every platform
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)
