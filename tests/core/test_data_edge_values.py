"""The data-file edge, values (issue 19, defects 3 and 12): sequence values that are not
text or a flat list of codes, cohorts whose tokens the tokenizer mostly does not know,
and Parquet columns the plan never reads, refused or never unpacked. Through the real CLI:
exit code 2, a message naming the file, column and records, no planted value printed,
the input unchanged (see data_edges.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.kinds.token_inputs import MAX_UNKNOWN_TOKEN_SHARE, check_unknown_tokens, unknown_token_share
from tests.conftest import DEMO, ROOT
from tests.core.data_edges import COLUMNS, NAME, SECRET, demo_frame, refused


@pytest.fixture(scope="module")
def demo_rows() -> pd.DataFrame:
    return demo_frame()


# --- defect 3: malformed sequences and unknown tokens -------------------------------------

def test_nested_lists_in_a_parquet_sequence_are_refused(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40)
    table = pa.table({"patient_id": [SECRET] + list(rows.patient_id[1:]),
                      "codes": [[[i, i + 1], [i + 2]] for i in range(40)],
                      "age_band": list(rows.age_band), "sex": list(rows.sex)})
    members = tmp_path / "members.parquet"
    pq.write_table(table, members)
    err = refused(tmp_path, members, capsys)
    assert ("members.parquet: the sequence column 'codes' holds nested lists in 40 records "
            "(records 1, 2, 3, 4, 5, ...), where an audit reads text or a flat list of codes") in err


def test_a_json_object_as_the_sequence_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    members = tmp_path / "members.jsonl"
    with open(members, "w") as out:
        for i, row in enumerate(demo_rows.head(40).to_dict("records")):
            if i in (6, 9):
                row["codes"] = {"diagnoses": row["codes"].split(), "note": NAME}
            out.write(json.dumps(row) + "\n")
    err = refused(tmp_path, members, capsys)
    assert "the sequence column 'codes' holds objects (key/value pairs, a JSON object or Parquet struct) in 2 records (records 7, 10)" in err


def test_codes_as_decimal_numbers_are_refused(tmp_path: Path, demo_rows, capsys) -> None:
    members = tmp_path / "members.jsonl"
    with open(members, "w") as out:
        for row in demo_rows.head(40).to_dict("records"):
            out.write(json.dumps({**row, "codes": [250.0, 401.9]}) + "\n")
    err = refused(tmp_path, members, capsys)
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
    err = refused(tmp_path, members, capsys)
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
    from audit_core.data.loading import load_cohorts
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, unknown_token_id
    from audit_core.plan.parsing import load_plan

    checked = {}
    for plan_file in sorted((ROOT / "resources").rglob("*.toml")):
        plan = load_plan(plan_file)
        if not (plan.model.path / "tokenizer.json").is_file():
            continue  # a tabular classifier: no tokens
        tokenizer = load_tokenizer(plan.model.path)
        for role, cohort in load_cohorts(plan.data).items():  # files, or a MEDS dataset's splits
            share = unknown_token_share(encode_all(tokenizer, list(cohort.sequences)),
                                        unknown_token_id(tokenizer))
            checked[f"{plan_file.relative_to(ROOT)} {role.value}"] = share
    assert len(checked) >= 10
    assert max(checked.values()) <= MAX_UNKNOWN_TOKEN_SHARE - 0.05, checked  # a margin, too


def test_a_tokenizer_without_an_unknown_token_skips_the_share() -> None:
    ids = {Role.MEMBERS: [np.array([2, 7, 7, 3])]}
    assert unknown_token_share(ids[Role.MEMBERS], None) is None
    check_unknown_tokens(ids, {}, None, "model.onnx")  # no unknown id: nothing to refuse


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
    err = refused(tmp_path, members, capsys)
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
from audit_core.plan.parsing import ColumnMapping

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




def test_a_parquet_struct_as_the_sequence_is_refused(tmp_path: Path, demo_rows, capsys) -> None:
    rows = demo_rows.head(40)
    table = pa.table({"patient_id": [SECRET] + list(rows.patient_id[1:]),
                      "codes": [{"codes": c.split(), "author": NAME} for c in rows.codes],
                      "age_band": list(rows.age_band), "sex": list(rows.sex)})
    members = tmp_path / "members.parquet"
    pq.write_table(table, members)
    err = refused(tmp_path, members, capsys)
    assert "the sequence column 'codes' holds objects (key/value pairs, a JSON object or Parquet struct) in 40" in err
