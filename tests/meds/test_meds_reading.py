"""Known answers of the MEDS reader: each subject's words and events, splits to cohorts,
subgroups, the dataset hash, in MEDS's sample data, MIMIC-IV MEDS and OMOP code styles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohorts
from audit_core.plan.parsing import plan_from_dict
from tests.meds.datasets import MIMIC_ROWS, write_shard


def cohorts_of(root: Path, **data):
    plan = plan_from_dict({"model": {"path": "m"}, "data": {"format": "meds", "root": str(root), **data}})
    return load_cohorts(plan.data)


def record(cohort, subject: str):
    index = cohort.ids.index(subject)
    return cohort.sequences[index], cohort.events[index]


def test_mimic_subject_words_and_events(mimic_root: Path) -> None:
    cohorts = cohorts_of(mimic_root)
    members, non_members = cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS]
    assert members.ids == ("10", "11") and non_members.ids == ("20",)
    words, events = record(members, "10")
    # Static row first, then the birth row (written later in the file), then events by time;
    # the two rows at 08:00 keep their file order; spaces in a code become "_".
    assert words.split() == ["GENDER//F", "MEDS_BIRTH", "HOSPITAL_ADMISSION//EW_EMER.//EMERGENCY_ROOM",
                             "DIAGNOSIS//ICD//10//E119", "LAB//51237//UNK", "HOSPITAL_DISCHARGE//HOME",
                             "HOSPITAL_ADMISSION//URGENT//TRANSFER", "LAB//51237//UNK"]
    assert events.visit.tolist() == [0, 0, 1, 1, 1, 1, 2, 2]
    assert np.isnan(events.time_days[:2]).all() and np.isnan(events.age_years[:2]).all()
    admitted = np.datetime64("2150-03-01T08:00:00", "us").astype(np.int64) / 86_400_000_000
    assert events.time_days[2] == pytest.approx(admitted)
    assert events.time_days[4] - events.time_days[2] == pytest.approx(1.5 / 24)
    born = np.datetime64("2100-03-01T00:00:00", "us").astype(np.int64) / 86_400_000_000
    assert events.age_years[2] == pytest.approx((admitted - born) / 365.25)
    assert 49.9 < events.age_years[2] < 50.1 and 50.9 < events.age_years[-1] < 51.1


def test_visits_fall_back_to_calendar_days_without_admissions(mimic_root: Path) -> None:
    """Subject 20 has no admission row: one visit per day (two labs the same day, a
    diagnosis two days later)."""
    words, events = record(cohorts_of(mimic_root)[Role.NON_MEMBERS], "20")
    assert words.split()[2:] == ["LAB//51237//UNK", "LAB//51237//UNK", "DIAGNOSIS//ICD//10//I10"]
    assert events.visit.tolist() == [0, 0, 1, 1, 2]
    # visit_codes = [] : calendar days for everyone, subject 10 then has 3 days of events.
    _, days = record(cohorts_of(mimic_root, visit_codes=[])[Role.MEMBERS], "10")
    assert days.visit.tolist() == [0, 0, 1, 1, 1, 2, 3, 3]


def test_omop_style_codes_and_tuning_as_non_members(omop_root: Path) -> None:
    cohorts = cohorts_of(omop_root, non_members_splits=["tuning"], columns={"subgroups": ["Gender"]})
    members, non_members = cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS]
    assert members.ids == ("1", "2") and non_members.ids == ("3",)
    words, events = record(members, "1")
    assert words == "Gender/F MEDS_BIRTH Visit/OP ICD10CM/E11.9 LOINC/2236-8"
    assert events.visit.tolist() == [0, 0, 1, 1, 1]  # Visit/OP opens the visit
    assert members.subgroups["Gender"].tolist() == ["F", "M"]
    assert non_members.subgroups["Gender"].tolist() == ["M"]
    assert non_members.info.file == "omop [tuning]" and non_members.info.format == "meds"


def test_meds_sample_dataset_splits(sample_root: Path) -> None:
    """MEDS's own sample (meds-testing-helpers): train in two shards, tuning, held_out."""
    cohorts = cohorts_of(sample_root)
    assert cohorts[Role.MEMBERS].ids == ("68729", "239684", "814703", "1195293")
    assert cohorts[Role.NON_MEMBERS].ids == ("1500733",)
    words, events = record(cohorts[Role.MEMBERS], "68729")
    assert words == "EYE_COLOR//HAZEL HEIGHT MEDS_BIRTH ADMISSION//PULMONARY HR TEMP DISCHARGE"
    assert events.visit.tolist() == [0, 0, 0, 1, 1, 1, 1]
    both = cohorts_of(sample_root, members_splits=["train", "tuning"])
    assert len(both[Role.MEMBERS]) == 5 and both[Role.MEMBERS].info.file == "sample [train+tuning]"
    assert cohorts[Role.MEMBERS].subgroups == {}


def test_subgroups_come_from_static_code_heads(mimic_root: Path) -> None:
    cohorts = cohorts_of(mimic_root, columns={"subgroups": ["GENDER", "RACE"]})
    assert cohorts[Role.MEMBERS].subgroups["GENDER"].tolist() == ["F", "M"]
    assert cohorts[Role.MEMBERS].subgroups["RACE"].tolist() == ["(missing)", "(missing)"]


def test_prefix_map_and_edges(mimic_root: Path) -> None:
    tokens = {"prefixes": {"DIAGNOSIS//ICD//10//": "ICD10//", "DIAGNOSIS//ICD//": "ICD"},
              "numeric": "edges", "edges": {"LAB//51237//UNK": [1.2, 2.0]}}
    members = cohorts_of(mimic_root, tokens=tokens)[Role.MEMBERS]
    ten, _ = record(members, "10")
    assert ten.split()[3:5] == ["ICD10//E119", "LAB//51237//UNK//Q1"]  # 1.1 < 1.2: first bin
    assert ten.split()[-1] == "LAB//51237//UNK//Q3"  # 2.4 >= 2.0: third bin
    eleven, _ = record(members, "11")
    assert eleven.split()[3:] == ["LAB//51237//UNK//Q2", "ICD9//25000"]  # longest prefix wins


def test_quantile_bins_from_members_values(mimic_root: Path) -> None:
    """Members' values of LAB//51237//UNK are 1.1, 2.4, 1.3: with 2 bins the cut is their
    median 1.3, so 1.1 -> Q1 and 1.3, 2.4 -> Q2; non-members are binned with the same cut."""
    cohorts = cohorts_of(mimic_root, tokens={"numeric": "quantiles", "bins": 2})
    assert record(cohorts[Role.MEMBERS], "10")[0].split()[4] == "LAB//51237//UNK//Q1"
    assert record(cohorts[Role.MEMBERS], "11")[0].split()[3] == "LAB//51237//UNK//Q2"
    assert record(cohorts[Role.NON_MEMBERS], "20")[0].split()[2:4] == ["LAB//51237//UNK//Q1",
                                                                       "LAB//51237//UNK//Q2"]


def test_quantile_bins_from_codes_metadata(mimic_root: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    quantiles = pa.array([{"values/quantile/0.5": 2.0}], pa.struct([("values/quantile/0.5", pa.float64())]))
    pq.write_table(pa.table({"code": ["LAB//51237//UNK"], "values/quantiles": quantiles}),
                   mimic_root / "metadata" / "codes.parquet")
    members = cohorts_of(mimic_root, tokens={"numeric": "quantiles"})[Role.MEMBERS]
    ten = record(members, "10")[0].split()
    assert (ten[4], ten[-1]) == ("LAB//51237//UNK//Q1", "LAB//51237//UNK//Q2")  # cut at 2.0


def test_hash_changes_with_the_data(mimic_root: Path) -> None:
    before = cohorts_of(mimic_root)[Role.MEMBERS].info.sha256
    assert cohorts_of(mimic_root)[Role.NON_MEMBERS].info.sha256 == before
    rows = list(MIMIC_ROWS["held_out/0.parquet"])
    rows[2] = (20, "2160-01-01T07:00:00", "LAB//51237//UNK", 1.5)
    write_shard(mimic_root / "data" / "held_out" / "0.parquet", rows)
    assert cohorts_of(mimic_root)[Role.MEMBERS].info.sha256 != before


def test_compatible_types_are_accepted(tmp_path: Path) -> None:
    """A hospital export's widths (timestamp[ns], float64 values, large_string codes,
    int32 ids) are read as MEDS's own types."""
    import pyarrow as pa

    from tests.meds.datasets import write_splits

    root = tmp_path / "wide"
    schema = pa.schema([("subject_id", pa.int32()), ("time", pa.timestamp("ns")),
                        ("code", pa.large_string()), ("numeric_value", pa.float64())])
    write_shard(root / "data" / "0.parquet", [(1, None, "GENDER//F", None),
                                              (1, "2020-01-01T00:00:00", "LAB//1//UNK", 2.0),
                                              (2, "2020-01-02T00:00:00", "LAB//1//UNK", 3.0)], schema)
    write_splits(root, [(1, "train"), (2, "held_out")])
    cohorts = cohorts_of(root)
    assert cohorts[Role.MEMBERS].sequences == ("GENDER//F LAB//1//UNK",)
    assert cohorts[Role.NON_MEMBERS].events[0].time_days.tolist() == [18263.0]
