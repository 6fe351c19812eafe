"""The data-file edge (issue 19, defects 2, 3, 5, 12 and 14): files that read wrongly
without complaint, or whose error message carried a record, are refused through the real
CLI with exit code 2 and a message naming the file and the line, column or records, never
a value from the file, and the file itself is left as it was.

Every file is built here from the demo's cohorts, with a planted value (ZZSECRET123, a
name) that must not appear in anything the CLI prints.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit_core.audit_inputs import MAX_UNKNOWN_TOKEN_SHARE, check_unknown_tokens, unknown_token_share
from audit_core.cli import main
from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.plan import ColumnMapping
from tests.conftest import DEMO, ROOT, write_plan

SECRET = "ZZSECRET123"
NAME = "Jane Q Secretperson"
COLUMNS = ColumnMapping(id="patient_id", sequence="codes", kind="codes", subgroups=("age_band", "sex"))


@pytest.fixture(scope="module")
def demo_rows() -> pd.DataFrame:
    return pd.read_csv(DEMO / "members.csv", dtype=str, keep_default_na=False)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(folder: Path, members: Path, capsys, *, non_members: Path | None = None,
             model: Path = DEMO / "model", plan_text: str | None = None) -> str:
    """Run the CLI on a plan over `members`; assert exit 2, one clean line, no planted
    value, and every input file unchanged. The message is returned."""
    if non_members is None:
        non_members = folder / "non_members.csv"
        if not non_members.exists():
            pd.read_csv(DEMO / "non_members.csv", dtype=str).head(40).to_csv(non_members, index=False)
    plan = write_plan(folder, model=model, members=members, non_members=non_members,
                      probes="[probes.loss]\n")
    if plan_text is not None:
        plan.write_text(plan_text)
    inputs = [p for p in folder.rglob("*") if p.is_file()]
    before = {p: _sha(p) for p in inputs}
    code = main(["run", str(plan), "--out", str(folder / "out"), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for planted in (SECRET, NAME, "Secretperson"):
        assert planted not in out + err, err
    assert {p: _sha(p) for p in inputs} == before
    return err


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
    err = _refused(tmp_path, members, capsys)
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
    err = _refused(tmp_path, members, capsys)
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
    err = _refused(tmp_path, members, capsys)
    assert "the quoted value opened on line 151 runs to line 171" in err
    assert "read as records of the file" in err


def test_the_last_line_opening_a_quote_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(50).copy()
    rows.loc[49, "patient_id"] = SECRET
    lines = _csv_lines(rows)
    lines[50] = lines[50].replace(",SEX_", ',"SEX_', 1)
    members = tmp_path / "members.tsv"
    members.write_text("".join(lines).replace(",", "\t"))
    err = _refused(tmp_path, members, capsys)
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


# --- defect 3: malformed sequences and unknown tokens -------------------------------------

def test_nested_lists_in_a_parquet_sequence_are_refused(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40)
    table = pa.table({"patient_id": [SECRET] + list(rows.patient_id[1:]),
                      "codes": [[[i, i + 1], [i + 2]] for i in range(40)],
                      "age_band": list(rows.age_band), "sex": list(rows.sex)})
    members = tmp_path / "members.parquet"
    pq.write_table(table, members)
    err = _refused(tmp_path, members, capsys)
    assert ("members.parquet: the sequence column 'codes' holds nested lists in 40 records "
            "(records 1, 2, 3, 4, 5, ...), where an audit reads text or a flat list of codes") in err


def test_a_json_object_as_the_sequence_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    members = tmp_path / "members.jsonl"
    with open(members, "w") as out:
        for i, row in enumerate(demo_rows.head(40).to_dict("records")):
            if i in (6, 9):
                row["codes"] = {"diagnoses": row["codes"].split(), "note": NAME}
            out.write(json.dumps(row) + "\n")
    err = _refused(tmp_path, members, capsys)
    assert "the sequence column 'codes' holds JSON objects (key/value pairs) in 2 records (records 7, 10)" in err


def test_codes_as_decimal_numbers_are_refused(tmp_path: Path, demo_rows, capsys) -> None:
    members = tmp_path / "members.jsonl"
    with open(members, "w") as out:
        for row in demo_rows.head(40).to_dict("records"):
            out.write(json.dumps({**row, "codes": [250.0, 401.9]}) + "\n")
    err = _refused(tmp_path, members, capsys)
    assert "holds lists of decimal numbers in 40 records" in err and "250.00 and 250.0" in err


def test_flat_code_lists_still_load(tmp_path: Path, demo_rows) -> None:
    table = pa.table({"patient_id": list(demo_rows.patient_id[:3]),
                      "codes": [c.split() for c in demo_rows.codes[:3]],
                      "age_band": list(demo_rows.age_band[:3]), "sex": list(demo_rows.sex[:3])})
    pq.write_table(table, tmp_path / "m.parquet")
    cohort = load_cohort(tmp_path / "m.parquet", Role.MEMBERS, COLUMNS)
    assert cohort.sequences == tuple(" ".join(c.split()) for c in demo_rows.codes[:3])


def test_a_code_vocabulary_mismatch_is_refused_naming_the_share(tmp_path: Path, demo_rows, capsys) -> None:
    """Codes written without their dots (E119 for E11.9): most tokens are unknown."""
    rows = demo_rows.head(60).copy()
    rows.loc[3, "patient_id"] = SECRET
    rows["codes"] = [c.replace(".", "") for c in rows.codes]
    members = tmp_path / "members.csv"
    rows.to_csv(members, index=False)
    err = _refused(tmp_path, members, capsys)
    share = unknown_share_of(members)
    assert share > MAX_UNKNOWN_TOKEN_SHARE
    assert f"members.csv: {100 * share:.1f}% of its" in err and "unknown to the tokenizer" in err
    assert "at most 30.0%" in err and "code vocabulary mismatch" in err


def unknown_share_of(path: Path) -> float:
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, unknown_token_id

    tokenizer = load_tokenizer(DEMO / "model")
    cohort = load_cohort(path, Role.MEMBERS, COLUMNS)
    return unknown_token_share(encode_all(tokenizer, list(cohort.sequences)), unknown_token_id(tokenizer))


def test_every_committed_model_and_cohort_is_under_the_unknown_share() -> None:
    """The demo and every control the validation runs stay under the refusal threshold."""
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, unknown_token_id
    from audit_core.plan import load_plan

    checked = {}
    for plan_file in sorted((ROOT / "resources").rglob("*.toml")):
        plan = load_plan(plan_file)
        if not (plan.model.path / "tokenizer.json").is_file():
            continue  # a tabular classifier: no tokens
        tokenizer = load_tokenizer(plan.model.path)
        for role, path in ((Role.MEMBERS, plan.data.members), (Role.NON_MEMBERS, plan.data.non_members)):
            cohort = load_cohort(path, role, plan.data.columns)
            share = unknown_token_share(encode_all(tokenizer, list(cohort.sequences)),
                                        unknown_token_id(tokenizer))
            checked[f"{plan_file.relative_to(ROOT)} {role.value}"] = share
    assert len(checked) >= 10
    assert max(checked.values()) <= MAX_UNKNOWN_TOKEN_SHARE - 0.05, checked  # a margin, too


def test_a_tokenizer_without_an_unknown_token_skips_the_share() -> None:
    ids = {Role.MEMBERS: [np.array([2, 7, 7, 3])]}
    assert unknown_token_share(ids[Role.MEMBERS], None) is None
    check_unknown_tokens(ids, {}, None, "model.onnx")  # no unknown id: nothing to refuse


# --- defect 5: column names are data ------------------------------------------------------

def test_a_headerless_csv_is_named_so_and_no_record_is_printed(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40).copy()
    rows.loc[0, "patient_id"] = SECRET
    rows.loc[0, "codes"] = f"{NAME} J02.9"
    members = tmp_path / "members.csv"
    rows.to_csv(members, index=False, header=False)
    err = _refused(tmp_path, members, capsys)
    assert "members.csv has no column 'patient_id'" in err
    assert "the file seems to have no header row" in err and "AGE_" not in err


def test_other_column_names_are_described_not_printed(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40).rename(columns={"codes": SECRET, "sex": "Sex "})
    members = tmp_path / "members.csv"
    rows.to_csv(members, index=False)
    err = _refused(tmp_path, members, capsys)
    assert ("members.csv has no column 'codes' (its 4 columns: 'patient_id', 'age_band', "
            "column 3 (4 characters), column 4 (11 characters);") in err


def test_a_misspelt_column_is_pointed_at_by_position(tmp_path: Path, demo_rows, capsys) -> None:
    members = tmp_path / "members.parquet"
    demo_rows.head(40).rename(columns={"codes": " Codes"}).to_parquet(members)
    err = _refused(tmp_path, members, capsys)
    assert "members.parquet has no column 'codes'" in err
    assert "column 4 is 'codes' but for upper/lower case or spaces" in err


def test_jsonl_keys_are_not_printed(tmp_path: Path, demo_rows, capsys) -> None:
    members = tmp_path / "members.jsonl"
    rows = demo_rows.head(40).rename(columns={"patient_id": SECRET})
    rows.to_json(members, orient="records", lines=True)
    err = _refused(tmp_path, members, capsys)
    assert "members.jsonl has no column 'patient_id' (its 4 columns: column 1 (11 characters)" in err


def test_the_tabular_loader_does_not_print_column_names(tmp_path: Path, capsys) -> None:
    example = ROOT / "resources" / "examples" / "tabular"
    shutil.copytree(example / "model", tmp_path / "model")
    shutil.copytree(example / "reference", tmp_path / "reference")
    shutil.copy(example / "non_members.csv", tmp_path / "non_members.csv")
    frame = pd.read_csv(example / "members.csv", dtype=str).rename(columns={"creatinine": SECRET})
    frame.to_csv(tmp_path / "members.csv", index=False)
    plan_text = (example / "plan.toml").read_text()
    err = _refused(tmp_path, tmp_path / "members.csv", capsys, non_members=tmp_path / "non_members.csv",
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
    err = _refused(tmp_path, members, capsys)
    assert "members.csv names the column 'codes' more than once in its header (columns 2 and 5)" in err


def test_an_unmapped_name_twice_is_refused_by_position(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40).copy()
    rows["x1"] = SECRET
    rows["x2"] = SECRET
    members = tmp_path / "members.tsv"
    rows.to_csv(members, index=False, sep="\t")
    members.write_text(members.read_text().replace("x1\tx2", f"{SECRET}\t{SECRET}", 1))
    err = _refused(tmp_path, members, capsys)
    assert "members.tsv has columns of the same name in its header (columns 5 and 6;" in err


def test_a_parquet_column_named_twice_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40)
    table = pa.Table.from_arrays([pa.array(rows[c]) for c in ("patient_id", "codes", "age_band", "sex")]
                                 + [pa.array(rows.sex)], names=["patient_id", "codes", "age_band", "sex", "sex"])
    members = tmp_path / "members.parquet"
    pq.write_table(table, members)
    err = _refused(tmp_path, members, capsys)
    assert "members.parquet names the column 'sex' more than once in its header (columns 4 and 5)" in err


# --- defect 12: Parquet columns the plan never reads ---------------------------------------

def test_a_parquet_too_large_for_memory_is_refused_before_reading(tmp_path: Path, demo_rows, capsys,
                                                                   monkeypatch) -> None:
    members = tmp_path / "members.parquet"
    rows = demo_rows.head(200).copy()
    rows.loc[0, "patient_id"] = SECRET
    rows.to_parquet(members)
    monkeypatch.setattr("audit_core.data.parquet_reading.available_memory", lambda: 20_000)
    read = []
    monkeypatch.setattr("pyarrow.parquet.ParquetFile.iter_batches",
                        lambda *a, **k: read.append(1) or iter(()))
    err = _refused(tmp_path, members, capsys)
    assert "members.parquet: the columns 'patient_id', 'codes', 'age_band', 'sex' hold" in err
    assert "kB once unpacked" in err and "more than the 20.0 kB of memory available now" in err
    assert not read  # refused from the footer alone


MEASURE = """
import sys
from pathlib import Path
import pyarrow as pa
import pyarrow.parquet
from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.plan import ColumnMapping

def peak():  # this process's resident high-water mark (ru_maxrss survives exec: not that)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0

path, mode = Path(sys.argv[1]), sys.argv[2]
import pandas as pd
before = peak()
if mode == "audit":
    cohort = load_cohort(path, Role.MEMBERS, ColumnMapping(id="patient_id", sequence="codes"))
    assert len(cohort.ids) == 2000
else:
    pd.read_parquet(path)
print(pa.default_memory_pool().max_memory(), peak() - before)
"""


def test_an_unused_large_parquet_column_is_never_unpacked(tmp_path: Path) -> None:
    """A ~50 MB incompressible column the plan does not map: reading the cohort peaks far
    below it (Arrow's pool and the process's resident memory, measured in a fresh
    process), where reading the whole file does not."""
    rng = np.random.default_rng(5)
    scans = [rng.bytes(25_000) for _ in range(2000)]  # 50 MB
    table = pa.table({"patient_id": [f"P{i:06d}" for i in range(2000)],
                      "codes": ["VISIT E11.9 I10"] * 2000, "scan": scans})
    path = tmp_path / "members.parquet"
    pq.write_table(table, path, row_group_size=250)
    del table, scans

    def measure(mode: str) -> tuple[int, int]:
        done = subprocess.run([sys.executable, "-c", MEASURE, str(path), mode], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        pool, rss = map(int, done.stdout.split())
        return pool, rss

    audit_pool, audit_rss = measure("audit")
    whole_pool, whole_rss = measure("whole")
    assert whole_pool > 50_000_000  # the measure sees the column when it is read
    assert audit_pool < 5_000_000, audit_pool
    if Path("/proc/self/status").is_file():
        assert audit_rss < 20_000_000 < 50_000_000 < whole_rss, (audit_rss, whole_rss)


def test_available_memory_is_known_on_this_machine() -> None:
    from audit_core.data.parquet_reading import available_memory

    memory = available_memory()
    assert memory is None or memory > 10_000_000  # bytes: at least what this test runs in


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
    err = _refused(tmp_path, _jsonl(tmp_path / "members.jsonl", rows, {4: twice}), capsys)
    assert "members.jsonl: line 5 names 'codes' twice in one record" in err
    err = _refused(tmp_path, _jsonl(tmp_path / "members.jsonl", rows, {6: secret}), capsys)
    assert "members.jsonl: line 7 names a key twice in one record" in err


def test_a_jsonl_line_that_is_not_an_object_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    err = _refused(tmp_path, _jsonl(tmp_path / "members.jsonl", demo_rows.head(40), {2: f'["{SECRET}"]'}), capsys)
    assert "members.jsonl: line 3 holds an array where JSON Lines needs an object" in err
    err = _refused(tmp_path, _jsonl(tmp_path / "members.jsonl", demo_rows.head(40), {2: f'{{"{SECRET}'}), capsys)
    assert "members.jsonl: line 3 is not valid JSON" in err


def test_jsonl_values_stay_as_written(tmp_path: Path) -> None:
    """Ids stay 7 and 10 when a record lacks one (pandas made them 7.0 and 10.0), and an
    unused key is not kept."""
    path = tmp_path / "m.jsonl"
    path.write_text('{"pid": 7, "codes": ["E11.9"], "scan": "xx"}\n\n{"pid": 10, "codes": "I10"}\n'
                    '{"codes": "I10", "pid": null}\n')
    from audit_core.data.loading import read_columns

    values, fmt, found = read_columns(path, ["pid", "codes"])
    assert values == {"pid": [7, 10, None], "codes": [["E11.9"], "I10", "I10"]}
    assert found == ["pid", "codes", "scan"] and fmt == "jsonl"


def test_the_declared_size_counts_only_the_wanted_columns() -> None:
    """Nested columns are stored as several leaf columns in the footer: each is counted
    with its own top-level column, none with another's."""
    import io

    from audit_core.data.parquet_reading import declared_size

    table = pa.table({"a": ["x" * 100] * 100, "nested": [[{"k": ["v" * 50], "m": 1}]] * 100,
                      "mapped": pa.array([[("k", 1)]] * 100, pa.map_(pa.string(), pa.int64())),
                      "b": ["y" * 100] * 100})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="none", use_dictionary=False)
    parquet = pq.ParquetFile(io.BytesIO(buffer.getvalue()))
    sizes = {c: declared_size(parquet, [c]) for c in table.column_names}
    assert sizes["a"] > 10_000 and sizes["b"] > 10_000  # 100 values of 100 characters
    assert sizes["nested"] > 5_000 > sizes["mapped"] > 0
    assert declared_size(parquet, table.column_names) == sum(sizes.values())


def test_a_headerless_file_repeating_a_value_is_still_called_headerless(tmp_path: Path, demo_rows,
                                                                        capsys) -> None:
    rows = demo_rows.head(40).copy()
    rows.loc[0, "patient_id"] = SECRET
    rows["flag_a"], rows["flag_b"] = "0", "0"  # the first record's values repeat
    members = tmp_path / "members.csv"
    rows.to_csv(members, index=False, header=False)
    err = _refused(tmp_path, members, capsys)
    assert "the file seems to have no header row" in err
