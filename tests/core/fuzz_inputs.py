"""Hostile inputs for the CLI fuzz test (test_cli_fuzzing.py): members and non-members
files in CSV, TSV, JSONL and Parquet built from the demo cohorts and then damaged (headers,
quoting, encodings, ids, nested values, subgroup values), and plan files written as TOML or
JSON from plain data. Every record value carries a planted marker, so a message that
quotes one is caught.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.conftest import DEMO

MARK = "ZZSECRET"
FORMATS = [".csv", ".tsv", ".jsonl", ".parquet"]
COLUMNS = ["patient_id", "codes", "age_band", "sex"]
SUBGROUPS = ["age_band", "sex"]
ROWS = 20  # per cohort: past the split check's folds, small enough for a 0.5 s audit


def _demo_rows(name: str, first_id: int) -> list[list[Any]]:
    with open(DEMO / name, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:ROWS + 1]
    # Every id is a marker; every third record also carries one in its codes (an unknown token).
    return [[f"{MARK}{first_id + i}", codes + (f" {MARK}{first_id + i}C" if i % 3 == 0 else ""), age, sex]
            for i, (_, age, sex, codes) in enumerate(rows)]


MEMBERS, NON_MEMBERS = _demo_rows("members.csv", 10000), _demo_rows("non_members.csv", 20000)

# ---- record values and cohort files ----------------------------------------------------
marked = st.builds(lambda pre, n, post: f"{pre}{MARK}{n}{post}",
                   st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", "\t=", " ", '"', "'", "\ufeff",
                                    '=HYPERLINK("http://x/?', "\u202e", "VISIT J02.9 ",
                                    "\udc80"]),  # a lone surrogate: JSON escapes it, UTF-8 cannot hold it
                   st.integers(0, 999),
                   st.sampled_from(["", "\n", ",", "\t", '"', '""', "\r\n", " VISIT J02.9", "\x00", ")",
                                    "\u2028", "   ", "|cmd"]))
cells = st.one_of(
    marked, marked, marked,
    st.sampled_from(["", " ", None, math.nan, "nan", "NULL", "N/A", 0, -1, 2**63, 1.5, True]),
    st.builds(lambda n, k: f"{MARK}{n} " * k, st.integers(0, 99), st.sampled_from([2, 300, 50_000])),
    st.builds(lambda n: [f"{MARK}{n}", "VISIT", "J02.9"], st.integers(0, 99)),
    st.builds(lambda n: [[f"{MARK}{n}"], ["VISIT"]], st.integers(0, 99)),
    st.builds(lambda n: {"code": f"{MARK}{n}"}, st.integers(0, 99)),
)
row = st.integers(0, ROWS + 2)
column = st.sampled_from(COLUMNS)
table_edits = st.one_of(
    st.tuples(st.just("set"), row, column, cells),
    st.tuples(st.just("drop"), column),
    st.tuples(st.just("rename"), column, st.sampled_from(["Patient_ID", " patient_id", "codes", "", "1",
                                                         "pat\u00a0id", "x" * 300])),
    st.tuples(st.just("repeat_column"), column),
    st.tuples(st.just("repeat_id"), row, row),
    st.tuples(st.just("formula_id"), row, st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\t=", " ="])),
    st.tuples(st.just("keep"), st.sampled_from([0, 1, 2, 4])),
    st.tuples(st.just("many_values"), st.sampled_from(SUBGROUPS)),
    st.tuples(st.just("rare_value"), row, st.sampled_from(SUBGROUPS)),
    st.tuples(st.just("sequence_as"), st.sampled_from(["list", "nested", "dict", "numbers"])),
    st.tuples(st.just("add_column"), st.sampled_from(["notes", "", "patient_id.1"]), cells),
)
byte_edits = st.one_of(
    st.tuples(st.sampled_from(["headerless", "bom", "crlf", "blank_lines"])),
    st.tuples(st.sampled_from(["stray_quote", "bad_line"]), row),
    st.tuples(st.just("encode"), st.sampled_from(["latin-1", "utf-16", "cp1252"])),
    st.tuples(st.just("truncate"), st.integers(1, 19)),
    st.tuples(st.just("insert"), st.integers(0, 19), st.binary(min_size=1, max_size=6)),
)
cohort_files = st.fixed_dictionaries({"format": st.sampled_from(FORMATS),
                                      "table": st.lists(table_edits, max_size=3),
                                      "bytes": st.lists(byte_edits, max_size=2)})
clean_file = st.fixed_dictionaries({"format": st.sampled_from(FORMATS), "table": st.just([]),
                                    "bytes": st.just([])})
LOSSY = {"truncate", "insert", "headerless", "bad_line"}  # edits that change how many records are right


def _edit_table(rows: list[list[Any]], edits: list[tuple]) -> tuple[list[str], list[list[Any]]]:
    header, rows = list(COLUMNS), [list(r) for r in rows]
    for edit in edits:
        kind, args = edit[0], edit[1:]
        where = {name: i for i, name in enumerate(header)}
        if kind == "set" and rows and args[1] in where:
            rows[args[0] % len(rows)][where[args[1]]] = args[2]
        elif kind in ("drop", "rename", "repeat_column") and args[0] in where:
            i = where[args[0]]
            if kind == "drop":
                header.pop(i)
                for r in rows:
                    r.pop(i)
            elif kind == "rename":
                header[i] = args[1]
            else:  # the same name twice, the second column holding other values
                header.append(args[0])
                for n, r in enumerate(rows):
                    r.append(f"{MARK}{n}D")
        elif kind == "repeat_id" and rows and "patient_id" in where:
            rows[args[1] % len(rows)][where["patient_id"]] = rows[args[0] % len(rows)][where["patient_id"]]
        elif kind == "formula_id" and rows and "patient_id" in where:  # e.g. =ZZSECRET3 or @ZZSECRET3
            rows[args[0] % len(rows)][where["patient_id"]] = f"{args[1]}{MARK}{args[0]}F"
        elif kind == "keep":
            rows = rows[:args[0]]
        elif kind == "many_values" and args[0] in where:
            for n, r in enumerate(rows):
                r[where[args[0]]] = f"{MARK}{n}G"
        elif kind == "rare_value" and rows and args[1] in where:
            rows[args[0] % len(rows)][where[args[1]]] = f"{MARK}{args[0]}R"
        elif kind == "sequence_as" and "codes" in where:
            i = where["codes"]
            for r in rows:
                codes = str(r[i]).split()
                r[i] = {"list": codes, "nested": [[c] for c in codes], "dict": {"codes": codes},
                        "numbers": list(range(len(codes)))}[args[0]]
        elif kind == "add_column":
            header.append(args[0])
            for r in rows:
                r.append(args[1])
    return header, rows


def _text_cell(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _serialize(fmt: str, header: list[str], rows: list[list[Any]]) -> bytes:
    if fmt in (".csv", ".tsv"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t" if fmt == ".tsv" else ",", lineterminator="\n")
        writer.writerows([header, *[[_text_cell(v) for v in r] for r in rows]])
        return buffer.getvalue().encode("utf-8", "surrogatepass")
    if fmt == ".jsonl":  # written by hand: a JSON object may repeat a key
        return "".join("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in zip(header, r)) + "}\n"
                       for r in rows).encode("utf-8", "surrogatepass")
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for i in range(len(header)):
        values = [r[i] for r in rows]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):  # a mix: as text
            arrays.append(pa.array([None if v is None else _text_cell(v).encode("utf-8", "replace").decode()
                                    for v in values]))
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=header), buffer)
    return buffer.getvalue()


def _edit_bytes(data: bytes, fmt: str, edits: list[tuple]) -> bytes:
    for kind, *args in edits:
        lines = data.split(b"\n")
        if kind == "truncate":
            data = data[:len(data) * args[0] // 20]
        elif kind == "insert":
            at = len(data) * args[0] // 20
            data = data[:at] + args[1] + data[at:]
        elif fmt == ".parquet":
            continue  # the text edits below mean nothing in a binary file
        elif kind == "headerless" and fmt != ".jsonl":
            data = b"\n".join(lines[1:])
        elif kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif kind == "blank_lines":
            data = b"\n\n".join(lines)
        elif kind == "stray_quote" and len(lines) > 1:  # an unclosed quote opens a line's second field
            n = 1 + args[0] % (len(lines) - 1)
            sep = b"\t" if fmt == ".tsv" else (b":" if fmt == ".jsonl" else b",")
            lines[n] = lines[n].replace(sep, sep + b'"', 1)
            data = b"\n".join(lines)
        elif kind == "bad_line":
            lines.insert(1 + args[0] % max(1, len(lines) - 1), f'[{MARK}9B, "x" ,,'.encode())
            data = b"\n".join(lines)
        elif kind == "encode":
            data = data.decode("utf-8", "replace").encode(args[0], "replace")
    return data


def write_cohort(folder: Path, stem: str, spec: dict, rows: list[list[Any]]) -> tuple[Path, dict]:
    """The file, and what an audit of it must do: `records`, how many it counts when it runs
    (None: not known), and `refuse`, why it must not run (None: it may)."""
    header, table = _edit_table(rows, spec["table"])
    path = folder / f"{stem}{spec['format']}"
    path.write_bytes(_edit_bytes(_serialize(spec["format"], header, table), spec["format"], spec["bytes"]))
    lossy = any(e[0] in LOSSY for e in spec["table"] + spec["bytes"])
    # After a lossy edit the header or the values may no longer be what was written: unknown.
    return path, {"records": None if lossy else len(table),
                  "refuse": None if lossy else _must_refuse(spec["format"], header, table)}


def _must_refuse(fmt: str, header: list[str], rows: list[list[Any]]) -> str | None:
    """Issue 19: a CSV repeating a column name the plan maps (14), and sequences that are
    neither text nor a flat list of codes (3), are refused, never read silently."""
    repeated = [name for name in COLUMNS if header.count(name) > 1]
    if fmt in (".csv", ".tsv") and repeated:
        return f"a repeated column '{repeated[0]}'"
    codes = [r[header.index("codes")] for r in rows] if "codes" in header else []
    if fmt in (".jsonl", ".parquet") and codes and all(
            isinstance(v, dict) or (isinstance(v, list) and v and all(isinstance(c, (list, dict)) for c in v))
            for v in codes):
        return "nested sequence values"
    return None


def plan_text(plan: dict, fmt: str) -> str:
    if fmt != ".json":
        return "\n".join(_toml_tables(plan, [])) + "\n"
    text = json.dumps(plan, default=lambda deep: f"@DEEP{deep.depth}@")  # NaN and inf as JS writes them
    return re.sub(r'"@DEEP(\d+)@"', lambda m: "[" * int(m[1]) + "]" * int(m[1]), text)


def _toml_value(value: Any) -> str:
    if isinstance(value, Deep):
        return "[" * value.depth + "]" * value.depth
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float, str)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None) + "}"


def _toml_tables(table: dict, where: list[str]) -> list[str]:
    lines = [f"[{'.'.join(json.dumps(k) for k in where)}]"] if where else []
    lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in table.items()
              if v is not None and not isinstance(v, dict)]
    for key, value in table.items():
        if isinstance(value, dict):
            lines += _toml_tables(value, [*where, key])
    return lines


class Deep:
    """An array nested `depth` times, written as text (building it would recurse here)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth


