"""FHIR R4 (bulk-export NDJSON or Bundles) converts into a MEDS dataset folder, checked
against the `meds` schemas, whose codes every clinical path reads; bad input is refused
with the file and line and never a value."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from audit_core.clinical.code_sets import BUILTIN_CODE_SETS, in_code_set
from audit_core.data.fhir_meds import convert_fhir
from audit_core.errors import DataError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir"
NDJSON, BUNDLE, MEMBERS = FIXTURES / "ndjson", FIXTURES / "bundle", FIXTURES / "members.txt"
SETS = {s.name: s for s in BUILTIN_CODE_SETS}

# pat-a, pat-b, pat-c are subjects 1, 2, 3 (sorted ids); times in UTC.
EXPECTED = [
    (1, None, "GENDER//F", None, None),
    (1, "1960-05-02 00:00:00", "MEDS_BIRTH", None, None),
    (1, "2019-01-10 09:30:00", "VISIT//IMP", None, None),
    (1, "2019-01-10 10:00:00", "DIAGNOSIS//ICD//10//B20", None, None),  # ICD-10 preferred to SNOMED
    (1, "2019-01-10 11:00:00", "LAB//LOINC//2236-8", 7.5, None),
    (1, "2019-01-11 00:00:00", "MEDICATION//RXNORM//1999563", None, None),
    (1, "2019-01-11 08:00:00", "PROCEDURE//SNOMED//57485005", None, None),
    (2, None, "GENDER//M", None, None),
    (2, "1971-11-20 00:00:00", "MEDS_BIRTH", None, None),
    (2, "2018-06-01 00:00:00", "DIAGNOSIS//ICD//9//30500", None, None),
    (2, "2018-06-01 18:00:00", "LAB//LOINC//11331-6", None, "SNOMED//105542008"),
    (2, "2018-06-01 18:00:00", "VISIT//AMB", None, None),  # 14:00 at -04:00
    (2, "2020-03-01 07:00:00", "MEDS_DEATH", None, None),
    (3, None, "GENDER//UNK", None, None),
    (3, "2021-02-01 00:00:00", "DIAGNOSIS//SNOMED//44054006", None, None),
]


def _rows(out: Path) -> list[tuple]:
    table = pq.read_table(out / "data" / "0.parquet").to_pylist()
    return [(r["subject_id"], None if r["time"] is None else str(r["time"]), r["code"],
             None if r["numeric_value"] is None else round(r["numeric_value"], 3), r["text_value"])
            for r in table]


@pytest.mark.parametrize("source", [NDJSON, BUNDLE], ids=["ndjson", "bundle"])
def test_ndjson_and_bundles_convert_to_the_same_meds_events(tmp_path: Path, source: Path) -> None:
    done = convert_fhir(source, tmp_path / "meds", MEMBERS)
    assert sorted(_rows(tmp_path / "meds"), key=lambda r: (r[0], r[1] or "", r[2])) == \
        sorted(EXPECTED, key=lambda r: (r[0], r[1] or "", r[2]))
    assert (done.subjects, done.members, done.non_members, done.left_out) == (3, 2, 1, 0)
    assert done.skipped == {"Condition without a code in a known system": 1,
                            "Location (no MEDS event)": 1, "Practitioner (no MEDS event)": 1,
                            "MedicationRequest naming its drug by reference (not resolved)": 1}
    splits = pq.read_table(tmp_path / "meds" / "metadata" / "subject_splits.parquet").to_pylist()
    assert splits == [{"subject_id": 1, "split": "train"}, {"subject_id": 2, "split": "held_out"},
                      {"subject_id": 3, "split": "train"}]
    patients = pq.read_table(tmp_path / "meds" / "metadata" / "fhir_patients.parquet").to_pylist()
    assert [p["fhir_patient_id"] for p in patients] == ["pat-a", "pat-b", "pat-c"]


def test_the_written_folder_meets_the_meds_schemas(tmp_path: Path) -> None:
    import meds

    convert_fhir(NDJSON, tmp_path / "meds", MEMBERS, dataset_name="fixture")
    root = tmp_path / "meds"
    meds.DataSchema.align(pq.read_table(root / meds.data_subdirectory / "0.parquet"))
    codes = pq.read_table(root / meds.code_metadata_filepath)
    meds.CodeMetadataSchema.align(codes)
    meds.SubjectSplitSchema.align(pq.read_table(root / meds.subject_splits_filepath))
    dataset = json.loads((root / meds.dataset_metadata_filepath).read_text())
    meds.DatasetMetadataSchema.validate(dataset)
    assert dataset["dataset_name"] == "fixture" and dataset["meds_version"] == "0.4.1"
    described = {r["code"]: r["description"] for r in codes.to_pylist()}
    assert described["DIAGNOSIS//ICD//10//B20"] == "HIV disease"
    # Static rows first, then time order, within each subject.
    rows = _rows(root)
    for subject in {r[0] for r in rows}:
        times = [r[1] for r in rows if r[0] == subject]
        assert times == sorted(times, key=lambda t: (t is not None, t or ""))


def test_converted_codes_fall_in_the_sensitive_categories(tmp_path: Path) -> None:
    convert_fhir(NDJSON, tmp_path / "meds", MEMBERS)
    codes = {r[2] for r in _rows(tmp_path / "meds")}
    assert in_code_set("DIAGNOSIS//ICD//10//B20", SETS["hiv_sti"])
    assert in_code_set("DIAGNOSIS//ICD//9//30500", SETS["alcohol"])
    assert {"DIAGNOSIS//ICD//10//B20", "DIAGNOSIS//ICD//9//30500"} <= codes


def test_a_second_list_names_the_non_members_and_the_rest_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "members.txt").write_text("pat-a\n")
    (tmp_path / "non_members.txt").write_text("pat-b\n")
    done = convert_fhir(NDJSON, tmp_path / "meds", tmp_path / "members.txt", tmp_path / "non_members.txt")
    assert (done.subjects, done.members, done.non_members, done.left_out) == (2, 1, 1, 1)
    assert {r[0] for r in _rows(tmp_path / "meds")} == {1, 2}


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "fhir"
    shutil.copytree(NDJSON, folder)
    return folder


SECRET = "Zanzibar-4471"  # a value that must never reach a message


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "Condition.ndjson").write_text(
        (f / "Condition.ndjson").read_text() + '{"resourceType": "Condition", "id": "' + SECRET + '"\n'),
     r"Condition.ndjson line 5: not valid JSON"),
    (lambda f: (f / "Observation.ndjson").write_text(
        json.dumps({"resourceType": "Observation", "id": SECRET, "code": {}}) + "\n"),
     r"Observation.ndjson line 1: Observation has no subject reference"),
    (lambda f: (f / "Procedure.ndjson").write_text(
        json.dumps({"resourceType": "Procedure", "subject": {"reference": f"Patient/{SECRET}"}}) + "\n"),
     r"Procedure.ndjson line 1: the subject reference names no Patient"),
    (lambda f: (f / "Encounter.ndjson").write_text(
        json.dumps({"resourceType": "Encounter", "subject": {"reference": "Patient/pat-a"},
                    "period": {"start": SECRET}}) + "\n"),
     r"Encounter.ndjson line 1: 'period.start' is not a FHIR date"),
    (lambda f: (f / "Patient.ndjson").write_text(
        (f / "Patient.ndjson").read_text() + json.dumps({"resourceType": "Patient", "id": "pat-a"}) + "\n"),
     r"Patient.ndjson line 4: a second Patient"),
    (lambda f: (f / "Condition.ndjson").write_text("[1, 2]\n"),
     r"Condition.ndjson line 1: a FHIR resource must be a JSON object"),
])
def test_bad_resources_are_refused_naming_file_and_line_never_a_value(tmp_path: Path, damage, message) -> None:
    folder = _copy(tmp_path)
    damage(folder)
    with pytest.raises(DataError, match=message) as caught:
        convert_fhir(folder, tmp_path / "meds", MEMBERS)
    assert SECRET not in str(caught.value) and "pat-" not in str(caught.value)
    assert not (tmp_path / "meds").exists()  # refused before anything is written


def test_bad_patient_lists_are_refused(tmp_path: Path) -> None:
    (tmp_path / "unknown.txt").write_text(f"pat-a\n{SECRET}\n")
    with pytest.raises(DataError, match="unknown.txt: its entry 2 names no Patient") as caught:
        convert_fhir(NDJSON, tmp_path / "a", tmp_path / "unknown.txt")
    assert SECRET not in str(caught.value)
    (tmp_path / "all.txt").write_text("pat-a\npat-b\npat-c\n")
    with pytest.raises(DataError, match="every Patient is a member"):
        convert_fhir(NDJSON, tmp_path / "b", tmp_path / "all.txt")
    (tmp_path / "both.txt").write_text("pat-a\n")
    with pytest.raises(DataError, match="not both"):
        convert_fhir(NDJSON, tmp_path / "c", tmp_path / "both.txt", tmp_path / "both.txt")


def test_convert_fhir_command_writes_the_folder_and_exits_2_on_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "meds"
    command = [sys.executable, "-m", "audit_core", "convert-fhir", str(NDJSON), "--out", str(out),
               "--members", str(MEMBERS)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "3 subjects (2 members" in done.stdout and (out / "metadata" / "dataset.json").exists()
    again = subprocess.run(command, capture_output=True, text=True, check=False)
    assert again.returncode == 2 and "is not empty" in again.stderr and "Traceback" not in again.stderr


ODD = [
    {"resourceType": "Condition", "subject": "Patient/pat-a", "code": "B20"},
    {"resourceType": "Condition", "subject": {"reference": "Patient/pat-a"}, "code": {"coding": {"code": 1}},
     "onsetDateTime": "2019-01-01"},
    {"resourceType": "Observation", "subject": {"reference": "Patient/pat-a"}, "effectiveDateTime": ["2019"],
     "code": {"coding": [{"system": "http://loinc.org", "code": "1-8"}]}},
    {"resourceType": "Observation", "subject": {"reference": "Patient/pat-a"}, "effectiveDateTime": "2019-02-30",
     "code": {"coding": [{"system": "http://loinc.org", "code": "1-8"}]}},
    {"resourceType": "Observation", "subject": {"reference": "Patient/pat-a"}, "issued": "2019-01-01T00:00:00Z",
     "code": {"coding": [{"system": "http://loinc.org", "code": "1-8"}]}, "valueQuantity": {"value": "7"}},
    {"resourceType": "Encounter", "subject": {"reference": "Patient/pat-a"}, "class": [1], "period": {"start": 5}},
    {"resourceType": 7},
    {"resourceType": "Patient", "id": 12},
    {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": "x"}}]},
]


@pytest.mark.parametrize("resource", ODD, ids=range(len(ODD)))
def test_oddly_shaped_resources_convert_or_are_refused_never_crash(tmp_path: Path, resource) -> None:
    folder = _copy(tmp_path)
    with (folder / "Extra.ndjson").open("w") as handle:
        handle.write(json.dumps(resource) + "\n")
    try:
        convert_fhir(folder, tmp_path / "meds", MEMBERS)
    except DataError as refused:
        assert "Extra.ndjson line 1" in str(refused)


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe{}\n", "is not UTF-8"),
    (b"[" * 100_000 + b"\n", "nested too deeply|not valid JSON"),
])
def test_undecodable_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    folder = _copy(tmp_path)
    (folder / "Extra.ndjson").write_bytes(content)
    with pytest.raises(DataError, match=message):
        convert_fhir(folder, tmp_path / "meds", MEMBERS)


def test_a_byte_order_mark_is_not_an_error(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    patients = folder / "Patient.ndjson"
    patients.write_bytes(b"\xef\xbb\xbf" + patients.read_bytes())
    assert convert_fhir(folder, tmp_path / "meds", MEMBERS).subjects == 3
