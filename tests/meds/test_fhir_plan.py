"""`[data] format = "fhir"`: a plan names a FHIR R4 folder and a members list; the run
converts it to MEDS in a temporary folder and reads it with the MEDS reader, so a FHIR
audit gets the same records, events and refusals as a MEDS one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohorts
from audit_core.errors import DataError, PlanError
from audit_core.plan.parsing import load_plan, plan_from_dict
from tests.meds.conftest import DEMO_MODEL

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir"


def _plan(folder: Path, data: str) -> Path:
    shutil.copytree(FIXTURES / "ndjson", folder / "fhir")
    shutil.copy(FIXTURES / "members.txt", folder / "members.txt")
    path = folder / "plan.toml"
    path.write_text(f'[model]\npath = "{DEMO_MODEL}"\n\n[data]\nformat = "fhir"\nroot = "fhir"\n{data}',
                    encoding="utf-8")
    return path


def test_a_fhir_plan_reads_its_folder_through_the_meds_reader(tmp_path: Path) -> None:
    plan = load_plan(_plan(tmp_path, 'members = "members.txt"\n'))
    assert plan.data.format == "fhir" and plan.data.member_list == tmp_path / "members.txt"
    cohorts = load_cohorts(plan.data)
    members, non_members = cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS]
    assert (len(members), len(non_members)) == (2, 1)  # pat-a, pat-c; pat-b
    hiv = next(s for s in members.sequences if "DIAGNOSIS//ICD//10//B20" in s)
    assert hiv.split()[0] == "GENDER//F"  # static rows first
    assert members.events is not None and len(members.events[0]) == len(members.sequences[0].split())
    # The same folder converts to the same bytes: the audit id (input hashes) is stable.
    assert load_cohorts(plan.data)[Role.MEMBERS].info.sha256 == members.info.sha256
    assert "fhir" in members.info.file


def test_a_fhir_plan_round_trips_and_takes_a_non_members_list(tmp_path: Path) -> None:
    (tmp_path / "held_out.txt").write_text("pat-b\n")
    plan = load_plan(_plan(tmp_path, 'members = "members.txt"\nnon_members = "held_out.txt"\n'))
    again = plan_from_dict(plan.as_dict(), base=tmp_path)
    assert again.data == plan.data
    assert plan.as_dict()["data"]["non_members"].endswith("held_out.txt")


@pytest.mark.parametrize("data, message", [
    ("", "'data.members' must name a file of FHIR Patient ids"),
    ('members = "members.txt"\nmembers_splits = ["train"]\n', "unknown key 'data.members_splits' for format 'fhir'"),
    ('members = 3\n', "'data.members' must name a file"),
])
def test_bad_fhir_plans_are_refused(tmp_path: Path, data: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        load_plan(_plan(tmp_path, data))


def test_a_members_list_naming_an_unknown_patient_is_refused_at_loading(tmp_path: Path) -> None:
    plan = load_plan(_plan(tmp_path, 'members = "members.txt"\n'))
    (tmp_path / "members.txt").write_text("pat-a\nnobody\n")
    with pytest.raises(DataError, match="members.txt: its entry 2 names no Patient"):
        load_cohorts(plan.data)
