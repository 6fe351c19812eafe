"""Small MEDS dataset folders for the tests, written with pyarrow in MEDS's types.

Three datasets: MEDS's own sample (tests/meds/sample_data.py), one in MIMIC-IV MEDS code
style (GENDER//F, MEDS_BIRTH, HOSPITAL_ADMISSION//..., DIAGNOSIS//ICD//10//E119,
LAB//51237//UNK with values) and one in OMOP-derived style (Gender/F, Visit/IP,
ICD10CM/E11.9, LOINC/2236-8). Each subject's known words and events are asserted in
test_meds_reading.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.meds.sample_data import SAMPLE

Row = tuple[int | None, str | None, str | None, float | None]  # subject_id, time, code, value
DATA_SCHEMA = pa.schema([("subject_id", pa.int64()), ("time", pa.timestamp("us")),
                         ("code", pa.string()), ("numeric_value", pa.float32())])


def write_shard(path: Path, rows: Sequence[Row], schema: pa.Schema = DATA_SCHEMA) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    times = [None if t is None else datetime.fromisoformat(t) for t in columns[1]]
    table = pa.table({"subject_id": pa.array(columns[0], pa.int64()),
                      "time": pa.array(times, pa.timestamp("us")),
                      "code": pa.array(columns[2], pa.string()),
                      "numeric_value": pa.array(columns[3], pa.float32())})
    pq.write_table(table.cast(schema) if schema != DATA_SCHEMA else table, path)


def write_splits(root: Path, splits: Sequence[tuple[int | None, str | None]]) -> None:
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    ids, names = (list(c) for c in zip(*splits, strict=True))
    pq.write_table(pa.table({"subject_id": pa.array(ids, pa.int64()), "split": pa.array(names, pa.string())}),
                   root / "metadata" / "subject_splits.parquet")


def write_dataset(root: Path, shards: Mapping[str, Sequence[Row]],
                  splits: Sequence[tuple[int | None, str | None]]) -> Path:
    for name, rows in shards.items():
        write_shard(root / "data" / name, rows)
    write_splits(root, splits)
    return root


def sample_dataset(root: Path) -> Path:
    """MEDS's own sample dataset (train 4 subjects in 2 shards, tuning 1, held_out 1)."""
    for path, text in SAMPLE.items():
        records = list(csv.DictReader(io.StringIO(text)))
        if path.endswith("subject_splits.parquet"):
            write_splits(root, [(int(r["subject_id"]), r["split"]) for r in records])
        elif path.endswith("codes.parquet"):
            pq.write_table(pa.table({
                "code": [r["code"] for r in records],
                "description": [r["description"] for r in records],
                "parent_codes": pa.array([[r["parent_codes"]] if r["parent_codes"] else None
                                          for r in records], pa.list_(pa.string()))}),
                root / path)
        else:
            write_shard(root / path, [(int(r["subject_id"]),
                                       datetime.strptime(r["time"], "%m/%d/%Y, %H:%M:%S").isoformat()
                                       if r["time"] else None, r["code"],
                                       float(r["numeric_value"]) if r["numeric_value"] else None)
                                      for r in records])
    return root


# MIMIC-IV MEDS code style. Subject 10 (train) has two admissions; rows of one timestamp
# keep their file order; the birth row comes after the static GENDER row whatever its place.
MIMIC_ROWS: dict[str, list[Row]] = {
    "train/0.parquet": [
        (10, "2150-03-01T08:00:00", "HOSPITAL_ADMISSION//EW EMER.//EMERGENCY ROOM", None),
        (10, "2150-03-01T08:00:00", "DIAGNOSIS//ICD//10//E119", None),
        (10, None, "GENDER//F", None),
        (10, "2100-03-01T00:00:00", "MEDS_BIRTH", None),
        (10, "2150-03-01T09:30:00", "LAB//51237//UNK", 1.1),
        (10, "2150-03-04T12:00:00", "HOSPITAL_DISCHARGE//HOME", None),
        (10, "2151-03-01T10:00:00", "HOSPITAL_ADMISSION//URGENT//TRANSFER", None),
        (10, "2151-03-01T11:00:00", "LAB//51237//UNK", 2.4),
        (11, None, "GENDER//M", None),
        (11, "2080-01-01T00:00:00", "MEDS_BIRTH", None),
        (11, "2150-06-01T00:00:00", "HOSPITAL_ADMISSION//ELECTIVE//PHYSICIAN REFERRAL", None),
        (11, "2150-06-01T01:00:00", "LAB//51237//UNK", 1.3),
        (11, "2150-06-01T02:00:00", "DIAGNOSIS//ICD//9//25000", None),
    ],
    "held_out/0.parquet": [
        (20, None, "GENDER//F", None),
        (20, "2090-05-01T00:00:00", "MEDS_BIRTH", None),
        (20, "2160-01-01T07:00:00", "LAB//51237//UNK", 1.0),
        (20, "2160-01-01T09:00:00", "LAB//51237//UNK", 3.0),
        (20, "2160-01-03T09:00:00", "DIAGNOSIS//ICD//10//I10", None),
    ],
}
MIMIC_SPLITS = [(10, "train"), (11, "train"), (20, "held_out")]


def mimic_dataset(root: Path) -> Path:
    return write_dataset(root, MIMIC_ROWS, MIMIC_SPLITS)


OMOP_ROWS: dict[str, list[Row]] = {
    "0.parquet": [
        (1, None, "Gender/F", None),
        (1, "1960-01-01T00:00:00", "MEDS_BIRTH", None),
        (1, "2020-02-01T10:00:00", "Visit/OP", None),
        (1, "2020-02-01T10:05:00", "ICD10CM/E11.9", None),
        (1, "2020-02-01T10:10:00", "LOINC/2236-8", 7.5),
        (2, None, "Gender/M", None),
        (2, "1970-01-01T00:00:00", "MEDS_BIRTH", None),
        (2, "2021-05-05T08:00:00", "SNOMED/3950001", None),
    ],
    "1.parquet": [
        (3, None, "Gender/M", None),
        (3, "1955-07-01T00:00:00", "MEDS_BIRTH", None),
        (3, "2019-01-01T08:00:00", "ICD10CM/I10", None),
        (3, "2019-01-02T08:00:00", "LOINC/2236-8", 6.1),
    ],
}
OMOP_SPLITS = [(1, "train"), (2, "train"), (3, "tuning")]


def omop_dataset(root: Path) -> Path:
    return write_dataset(root, OMOP_ROWS, OMOP_SPLITS)
