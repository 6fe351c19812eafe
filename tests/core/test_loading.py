"""Reading cohorts from CSV, Parquet and JSONL, and refusing what cannot be audited."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from audit_core.data.cohort import Role
from audit_core.data.loading import check_disjoint, load_cohort
from audit_core.errors import DataError
from audit_core.plan.parsing import ColumnMapping

COLUMNS = ColumnMapping(id="pid", sequence="codes", kind="codes", subgroups=("sex",))
ROWS = [{"pid": "007", "codes": ["E11.9", "I10"], "sex": "F"},
        {"pid": "010", "codes": ["J45.909"], "sex": "M"}]


def _write(path: Path, rows: list[dict], fmt: str) -> Path:
    frame = pd.DataFrame(rows)
    if fmt == "csv":
        frame.assign(codes=[" ".join(c) if isinstance(c, list) else c for c in frame.codes]).to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path)
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_every_format_gives_the_same_cohort(tmp_path: Path, fmt: str) -> None:
    cohort = load_cohort(_write(tmp_path / f"m.{fmt}", ROWS, fmt), Role.MEMBERS, COLUMNS)
    assert cohort.ids == ("007", "010")  # leading zeros kept
    assert cohort.sequences == ("E11.9 I10", "J45.909")  # list columns joined by spaces
    assert list(cohort.subgroups["sex"]) == ["F", "M"]
    assert cohort.info.records == 2 and len(cohort.info.sha256) == 64


def test_missing_column_names_it_and_describes_the_columns(tmp_path: Path) -> None:
    # Only the plan's own names are quoted; the file's others may be data (issue 19, defect 5).
    path = _write(tmp_path / "m.csv", ROWS, "csv")
    with pytest.raises(DataError, match=r"m.csv has no column 'text' \(its 3 columns: 'pid', "
                                        r"column 2 \(5 characters\), column 3 \(3 characters\);"):
        load_cohort(path, Role.MEMBERS, ColumnMapping(id="pid", sequence="text"))


def test_problems_are_reported_without_values(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.csv", ROWS + [{"pid": "007", "codes": ["Z00.00"], "sex": "F"}], "csv")
    with pytest.raises(DataError) as info:
        load_cohort(path, Role.MEMBERS, COLUMNS)
    assert "repeat an id" in str(info.value) and "record 3" in str(info.value)
    assert "007" not in str(info.value)
    path = _write(tmp_path / "e.csv", ROWS + [{"pid": "011", "codes": "", "sex": "F"}], "csv")
    with pytest.raises(DataError, match="1 records have an empty 'codes' value"):
        load_cohort(path, Role.MEMBERS, COLUMNS)


def test_empty_unreadable_and_unknown_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.csv is empty"):
        load_cohort(empty, Role.MEMBERS, COLUMNS)
    header_only = tmp_path / "header.csv"
    header_only.write_text("pid,codes,sex\n")
    with pytest.raises(DataError, match="header.csv holds no records"):
        load_cohort(header_only, Role.MEMBERS, COLUMNS)
    binary = tmp_path / "latin.csv"
    binary.write_bytes(b"pid,codes,sex\n1,\xe9\xff,F\n")
    with pytest.raises(DataError, match="not UTF-8"):
        load_cohort(binary, Role.MEMBERS, COLUMNS)
    with pytest.raises(DataError, match="unsupported file type '.xlsx'"):
        (tmp_path / "m.xlsx").write_text("x")
        load_cohort(tmp_path / "m.xlsx", Role.MEMBERS, COLUMNS)
    with pytest.raises(DataError, match="data file not found"):
        load_cohort(tmp_path / "absent.csv", Role.MEMBERS, COLUMNS)


def test_members_and_non_members_must_not_share_ids(tmp_path: Path) -> None:
    m = load_cohort(_write(tmp_path / "m.csv", ROWS, "csv"), Role.MEMBERS, COLUMNS)
    n = load_cohort(_write(tmp_path / "n.csv", ROWS[1:], "csv"), Role.NON_MEMBERS, COLUMNS)
    with pytest.raises(DataError, match="share 1 ids"):
        check_disjoint(m, n)
