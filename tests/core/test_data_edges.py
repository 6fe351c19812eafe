"""The data-file edge (issue 19, defects 2, 5 and 14): files that read wrongly without
complaint, or whose error message carried a record, are refused through the real CLI
with exit code 2 and a message naming the file and the line or column, never a value
from the file nor a column name the plan did not give, and the file is left as it was.

Every file is built here from the demo's cohorts, with a planted value (ZZSECRET123, a
name) that must not appear in anything the CLI prints (data_edges.py). Defects 3 and 12
(sequence values, unknown tokens, Parquet memory) are in test_data_edge_values.py.
"""

from __future__ import annotations

import csv
import json
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit_core.cli.main import main
from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.plan.parsing import ColumnMapping
from tests.conftest import ROOT
from tests.core.data_edges import NAME, SECRET, demo_frame, refused


@pytest.fixture(scope="module")
def demo_rows() -> pd.DataFrame:
    return demo_frame()


# --- defect 2: a stray quote ------------------------------------------------------------

def _csv_lines(frame: pd.DataFrame) -> list[str]:
    return frame.to_csv(index=False, lineterminator="\n").splitlines(keepends=True)


def test_an_unclosed_quote_is_refused_naming_its_line(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(200).copy()
    rows.loc[20, "patient_id"] = SECRET
    lines = _csv_lines(rows)
    # Line 151 (the header is line 1): a quote opens the codes field and is never closed.
    lines[150] = lines[150].replace(",AGE_", ',"AGE_', 1).replace(",SEX_", ",SEX_", 1)
    assert lines[150].count('"') == 1
    members = tmp_path / "members.csv"
    members.write_text("".join(lines))
    err = refused(tmp_path, members, capsys)
    assert "members.csv: line 151 opens a quote that is never closed" in err


def test_a_stray_quote_closed_by_a_later_quote_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    """A notes-like file where other values are quoted: the stray quote closes at the next
    one, far below, and the rows between become one record."""
    rows = demo_rows.head(200).copy()
    commas = rows.index % 10 == 8  # every tenth value holds a comma, so it is quoted
    rows.loc[commas, "codes"] = [c.replace(" VISIT ", ", VISIT ", 1) for c in rows.codes[commas]]
    rows.loc[155, "patient_id"] = SECRET
    lines = _csv_lines(rows)
    assert lines[159].count('"') == 2 and '"' not in "".join(lines[150:159])
    fields = lines[150].split(",", 3)
    lines[150] = ",".join(fields[:3]) + ',"' + fields[3]  # the codes field opens a quote
    members = tmp_path / "members.csv"
    members.write_text("".join(lines))
    err = refused(tmp_path, members, capsys)
    assert "quote opened on line 151" in err and "close or remove the quote on line 151" in err


def test_a_stray_quote_in_the_last_field_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    """The field count stays right; the swallowed lines still read as records."""
    rows = demo_rows.head(200)[["patient_id", "age_band", "sex", "codes"]].copy()
    rows = rows[["patient_id", "codes", "age_band", "sex"]]
    rows.loc[180, "patient_id"] = SECRET
    lines = _csv_lines(rows)
    lines[150] = lines[150].rstrip("\n").rsplit(",", 1)[0] + ',"SEX_F\n'
    lines[170] = lines[170].rstrip("\n").rsplit(",", 1)[0] + ',SEX_F"\n'  # closes here
    members = tmp_path / "members.csv"
    members.write_text("".join(lines))
    err = refused(tmp_path, members, capsys)
    assert "the quoted value opened on line 151 runs to line 171" in err
    assert "read as records of the file" in err


def test_the_last_line_opening_a_quote_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(50).copy()
    rows.loc[49, "patient_id"] = SECRET
    lines = _csv_lines(rows)
    lines[50] = lines[50].replace(",SEX_", ',"SEX_', 1)
    members = tmp_path / "members.tsv"
    members.write_text("".join(lines).replace(",", "\t"))
    err = refused(tmp_path, members, capsys)
    assert "members.tsv: line 51 opens a quote that is never closed" in err


NOTE = ("Patient seen for cough, fever and fatigue.\n\nAssessment: viral illness, improving.\n"
        "Plan: fluids, rest; follow up in 2 weeks, sooner if worse.\nSigned, Dr A, MD")


def test_notes_with_quoted_line_breaks_still_load(tmp_path: Path) -> None:
    """Legitimate multi-line notes in properly closed quotes, commas included, some lines
    with as many commas as the header has: every row is one record, text kept."""
    path = tmp_path / "notes.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["patient_id", "note", "sex"])
        for i in range(60):
            writer.writerow([f"N{i:04d}", NOTE + f"\nVisit {i}, F, seen" * (i % 3), "F" if i % 2 else "M"])
    cohort = load_cohort(path, Role.MEMBERS, ColumnMapping(id="patient_id", sequence="note", kind="text",
                                                           subgroups=("sex",)))
    assert len(cohort.ids) == 60 and cohort.ids[59] == "N0059"
    assert cohort.sequences[0] == NOTE and cohort.sequences[2].count("\n") == NOTE.count("\n") + 2


def test_an_audit_of_multi_line_notes_runs(tmp_path: Path, capsys) -> None:
    """Through the CLI, on the clinical-notes control: its notes rewritten over several
    lines (quoted, as any CSV writer quotes them) audit like the one-line originals."""
    notes = ROOT / "resources" / "controls" / "notes"
    for name in ("members.csv", "non_members.csv"):
        frame = pd.read_csv(notes / name, dtype=str)
        frame["text"] = [t.replace(" . ", " .\n", 3) for t in frame.text]
        frame.to_csv(tmp_path / name, index=False)
    assert (tmp_path / "members.csv").read_text().count("\n") > 2 * 61
    plan = tmp_path / "plan.toml"
    plan.write_text(textwrap.dedent(f"""\
        [audit]
        title = "Multi-line notes"
        seed = 3
        [model]
        path = "{notes / 'model'}"
        [data]
        members = "{tmp_path / 'members.csv'}"
        non_members = "{tmp_path / 'non_members.csv'}"
        [data.columns]
        id = "patient_id"
        sequence = "text"
        kind = "text"
        [probes.loss]
        """))
    code = main(["run", str(plan), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    datasets = json.loads((tmp_path / "out" / "results.json").read_text())["datasets"]
    assert [d["records"] for d in datasets] == [60, 60]


# --- defect 5: column names are data ------------------------------------------------------

def test_a_headerless_csv_is_named_so_and_no_record_is_printed(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40).copy()
    rows.loc[0, "patient_id"] = SECRET
    rows.loc[0, "codes"] = f"{NAME} J02.9"
    members = tmp_path / "members.csv"
    rows.to_csv(members, index=False, header=False)
    err = refused(tmp_path, members, capsys)
    assert "members.csv has no column 'patient_id'" in err
    assert "the file seems to have no header row" in err and "AGE_" not in err


def test_other_column_names_are_described_not_printed(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40).rename(columns={"codes": SECRET, "sex": "Sex "})
    members = tmp_path / "members.csv"
    rows.to_csv(members, index=False)
    err = refused(tmp_path, members, capsys)
    assert ("members.csv has no column 'codes' (its 4 columns: 'patient_id', 'age_band', "
            "column 3 (4 characters), column 4 (11 characters);") in err


def test_a_misspelt_column_is_pointed_at_by_position(tmp_path: Path, demo_rows, capsys) -> None:
    members = tmp_path / "members.parquet"
    demo_rows.head(40).rename(columns={"codes": " Codes"}).to_parquet(members)
    err = refused(tmp_path, members, capsys)
    assert "members.parquet has no column 'codes'" in err
    assert "column 4 is 'codes' but for upper/lower case or spaces" in err


def test_jsonl_keys_are_not_printed(tmp_path: Path, demo_rows, capsys) -> None:
    members = tmp_path / "members.jsonl"
    rows = demo_rows.head(40).rename(columns={"patient_id": SECRET})
    rows.to_json(members, orient="records", lines=True)
    err = refused(tmp_path, members, capsys)
    assert "members.jsonl has no column 'patient_id' (its 4 columns: column 1 (11 characters)" in err


def test_the_tabular_loader_does_not_print_column_names(tmp_path: Path, capsys) -> None:
    example = ROOT / "resources" / "examples" / "tabular"
    shutil.copytree(example / "model", tmp_path / "model")
    shutil.copytree(example / "reference", tmp_path / "reference")
    shutil.copy(example / "non_members.csv", tmp_path / "non_members.csv")
    frame = pd.read_csv(example / "members.csv", dtype=str).rename(columns={"creatinine": SECRET})
    frame.to_csv(tmp_path / "members.csv", index=False)
    plan_text = (example / "plan.toml").read_text()
    err = refused(tmp_path, tmp_path / "members.csv", capsys, non_members=tmp_path / "non_members.csv",
                   model=tmp_path / "model", plan_text=plan_text)
    assert "members.csv has no feature column 'creatinine'" in err and "column 7 (11 characters)" in err


# --- defect 14: a column named twice ------------------------------------------------------

def test_a_mapped_column_named_twice_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40).copy()
    rows.loc[0, "patient_id"] = SECRET
    rows.insert(1, "codes_again", rows.codes.str.lower())
    members = tmp_path / "members.csv"
    rows.to_csv(members, index=False)
    members.write_text(members.read_text().replace("codes_again", "codes", 1))
    err = refused(tmp_path, members, capsys)
    assert "members.csv names the column 'codes' more than once in its header (columns 2 and 5)" in err


def test_an_unmapped_name_twice_is_refused_by_position(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40).copy()
    rows["x1"] = SECRET
    rows["x2"] = SECRET
    members = tmp_path / "members.tsv"
    rows.to_csv(members, index=False, sep="\t")
    members.write_text(members.read_text().replace("x1\tx2", f"{SECRET}\t{SECRET}", 1))
    err = refused(tmp_path, members, capsys)
    assert "members.tsv has columns of the same name in its header (columns 5 and 6;" in err


def test_a_parquet_column_named_twice_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40)
    table = pa.Table.from_arrays([pa.array(rows[c]) for c in ("patient_id", "codes", "age_band", "sex")]
                                 + [pa.array(rows.sex)], names=["patient_id", "codes", "age_band", "sex", "sex"])
    members = tmp_path / "members.parquet"
    pq.write_table(table, members)
    err = refused(tmp_path, members, capsys)
    assert "members.parquet names the column 'sex' more than once in its header (columns 4 and 5)" in err


@pytest.mark.parametrize(("names", "rows", "headerless"), [
    (["patient_id", "age_band", "sex", "codes"], [["P01", "AGE_1_2", "SEX_F", "VISIT I10"]] * 5, False),
    (["MRN", "DOB", "SEX"], [["12345678", "1980-01-02", "F"]] * 5, False),
    (["CODE", "SEX"], [["A", "F"], ["B", "M"], ["C", "F"]], False),  # letters alone tell nothing
    ([SECRET, "AGE_18_29", "SEX_F", f"{NAME} J02.9"], [["P01", "AGE_1_2", "SEX_M", "VISIT I10"]] * 5, True),
    (["1042", "2024-03-05", "M"], [], True),  # numbers and dates, no record needed
])
def test_a_header_that_reads_as_a_record(names, rows, headerless) -> None:
    from audit_core.data.column_names import looks_headerless

    assert looks_headerless(names, rows) is headerless


def _jsonl(path: Path, rows: pd.DataFrame, replace: dict[int, str]) -> Path:
    lines = [json.dumps(r) for r in rows.to_dict("records")]
    for index, text in replace.items():
        lines[index] = text
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_jsonl_record_naming_a_key_twice_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    """Defect 14 for JSON Lines: json.loads keeps the last of two, silently."""
    rows = demo_rows.head(40)
    twice = '{"patient_id": "P1", "codes": "VISIT I10", "age_band": "A", "sex": "F", "codes": "VISIT"}'
    secret = f'{{"patient_id": "P2", "codes": "VISIT", "age_band": "A", "sex": "F", "{SECRET}": 1, "{SECRET}": 2}}'
    err = refused(tmp_path, _jsonl(tmp_path / "members.jsonl", rows, {4: twice}), capsys)
    assert "members.jsonl: line 5 names 'codes' twice in one record" in err
    err = refused(tmp_path, _jsonl(tmp_path / "members.jsonl", rows, {6: secret}), capsys)
    assert "members.jsonl: line 7 names a key twice in one record" in err


def test_a_jsonl_line_that_is_not_an_object_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    err = refused(tmp_path, _jsonl(tmp_path / "members.jsonl", demo_rows.head(40), {2: f'["{SECRET}"]'}), capsys)
    assert "members.jsonl: line 3 holds an array where JSON Lines needs an object" in err
    err = refused(tmp_path, _jsonl(tmp_path / "members.jsonl", demo_rows.head(40), {2: f'{{"{SECRET}'}), capsys)
    assert "members.jsonl: line 3 is not valid JSON" in err


def test_a_headerless_file_repeating_a_value_is_still_called_headerless(tmp_path: Path, demo_rows,
                                                                        capsys) -> None:
    rows = demo_rows.head(40).copy()
    rows.loc[0, "patient_id"] = SECRET
    rows["flag_a"], rows["flag_b"] = "0", "0"  # the first record's values repeat
    members = tmp_path / "members.csv"
    rows.to_csv(members, index=False, header=False)
    err = refused(tmp_path, members, capsys)
    assert "the file seems to have no header row" in err
