"""Every refusal of a bad MEDS dataset or plan: exit 2 through the CLI on a real folder,
a message naming the file and column with counts and row numbers, never a code, value or
subject id, and no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit_core.cli.main import main
from tests.meds.conftest import meds_plan
from tests.meds.datasets import MIMIC_ROWS, MIMIC_SPLITS, write_shard, write_splits

ROOT = Path(__file__).resolve().parents[2]
# Values of the MIMIC-style fixture that must never appear in a message.
SECRETS = ("E119", "51237", "GENDER//F", "2150", "1.1", "EMERGENCY")


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], root: Path, extra: str = "") -> str:
    plan = meds_plan(tmp_path, root, extra=extra)
    code = main(["run", str(plan), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for secret in SECRETS:
        assert secret not in err.replace(str(tmp_path), ""), (secret, err)
    return err


def test_subject_split_across_shards(tmp_path, capsys, mimic_root: Path) -> None:
    write_shard(mimic_root / "data" / "train" / "1.parquet", [(11, "2151-01-01T00:00:00", "LAB//51237//UNK", 1.0)])
    err = refused(tmp_path, capsys, mimic_root)
    assert "data/train/0.parquet and data/train/1.parquet both hold rows of 1 subject(s)" in err


def test_missing_split_file(tmp_path, capsys, mimic_root: Path) -> None:
    (mimic_root / "metadata" / "subject_splits.parquet").unlink()
    assert "metadata/subject_splits.parquet not found" in refused(tmp_path, capsys, mimic_root)


def test_subject_in_two_splits(tmp_path, capsys, mimic_root: Path) -> None:
    write_splits(mimic_root, [*MIMIC_SPLITS, (11, "held_out")])
    err = refused(tmp_path, capsys, mimic_root)
    assert "metadata/subject_splits.parquet: 1 subjects are in two splits (row 4)" in err


def test_named_split_without_subjects_with_events(tmp_path, capsys, mimic_root: Path) -> None:
    shutil.rmtree(mimic_root / "data" / "held_out")
    err = refused(tmp_path, capsys, mimic_root)
    assert "no subject of the non-members split 'held_out' has events" in err


def test_split_name_not_present(tmp_path, capsys, mimic_root: Path) -> None:
    err = refused(tmp_path, capsys, mimic_root, 'non_members_splits = ["tuning"]\n')
    assert "the non-members split 'tuning' is not in metadata/subject_splits.parquet" in err
    assert "holds 2 split names, among them 'train', 'held_out'" in err


def test_member_and_non_member_split_overlap(tmp_path, capsys, mimic_root: Path) -> None:
    err = refused(tmp_path, capsys, mimic_root, 'members_splits = ["train", "held_out"]\n')
    assert "split 'held_out' is named in both data.members_splits and data.non_members_splits" in err


@pytest.mark.parametrize("column", ["subject_id", "code"])
def test_null_subject_id_or_code(tmp_path, capsys, mimic_root: Path, column: str) -> None:
    rows = list(MIMIC_ROWS["train/0.parquet"])
    subject, time, code, value = rows[4]
    rows[4] = (None, time, code, value) if column == "subject_id" else (subject, time, None, value)
    write_shard(mimic_root / "data" / "train" / "0.parquet", rows)
    err = refused(tmp_path, capsys, mimic_root)
    assert f"data/train/0.parquet: 1 rows have no value in column '{column}' (row 5)" in err


def test_empty_code(tmp_path, capsys, mimic_root: Path) -> None:
    rows = list(MIMIC_ROWS["train/0.parquet"])
    rows[1] = (10, "2150-03-01T08:00:00", " ", None)
    write_shard(mimic_root / "data" / "train" / "0.parquet", rows)
    assert "data/train/0.parquet: 1 rows have an empty 'code' (row 2)" in refused(tmp_path, capsys, mimic_root)


def test_column_missing_or_mistyped(tmp_path, capsys, mimic_root: Path) -> None:
    shard = mimic_root / "data" / "train" / "0.parquet"
    table = pq.read_table(shard)
    pq.write_table(table.drop_columns(["code"]), shard)
    assert "data/train/0.parquet: the MEDS column 'code' is missing" in refused(tmp_path, capsys, mimic_root)
    pq.write_table(table.set_column(0, "subject_id", table.column("subject_id").cast(pa.string())), shard)
    err = refused(tmp_path, capsys, mimic_root)
    assert "data/train/0.parquet: column 'subject_id' is string, not the MEDS type (a 64-bit integer)" in err


def test_no_shards_and_no_folder(tmp_path, capsys, mimic_root: Path) -> None:
    shutil.rmtree(mimic_root / "data")
    assert "no data/**/*.parquet shard found" in refused(tmp_path, capsys, mimic_root)
    shutil.rmtree(mimic_root)
    assert "MEDS dataset folder not found" in refused(tmp_path, capsys, mimic_root)


def test_unreadable_shard(tmp_path, capsys, mimic_root: Path) -> None:
    (mimic_root / "data" / "train" / "0.parquet").write_bytes(b"PAR1 not parquet E119 PAR1")
    assert "data/train/0.parquet cannot be read as Parquet" in refused(tmp_path, capsys, mimic_root)


def test_refusal_in_a_process_of_its_own(tmp_path, mimic_root: Path) -> None:
    """`python -m audit_core run` itself: exit 2, one line, no traceback."""
    (mimic_root / "metadata" / "subject_splits.parquet").unlink()
    plan = meds_plan(tmp_path, mimic_root)
    done = subprocess.run([sys.executable, "-m", "audit_core", "run", str(plan), "--out",
                           str(tmp_path / "out"), "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "subject_splits.parquet not found" in done.stderr


def test_a_tabular_classifier_on_a_meds_folder(tmp_path, capsys, mimic_root: Path) -> None:
    """A classifier reads feature rows: a MEDS folder is refused with what it needs instead."""
    plan = meds_plan(tmp_path, mimic_root, model=ROOT / "resources" / "examples" / "tabular" / "model")
    assert main(["run", str(plan), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "tabular classifier: it reads feature columns from two files" in err and "Traceback" not in err


def test_ids_past_the_int64_range(tmp_path, capsys, mimic_root: Path) -> None:
    shard = mimic_root / "data" / "train" / "0.parquet"
    table = pq.read_table(shard)
    ids = pa.array([2**63 + 5] * table.num_rows, pa.uint64())
    pq.write_table(table.set_column(0, "subject_id", ids), shard)
    err = refused(tmp_path, capsys, mimic_root)
    assert "data/train/0.parquet: a MEDS column cannot be cast to its MEDS type" in err
