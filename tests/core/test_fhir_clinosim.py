"""A FHIR R4 cohort as a generator writes it (clinosim, offline: bulk-export NDJSON with
every resource type an EHR exports) converts into a MEDS folder the `meds` schemas accept,
with its diagnoses, labs and drugs in the codes every clinical path reads."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from audit_core.clinical.code_reading import ICD10CM, LOINC, RXNORM, read_code
from audit_core.data.fhir_meds import convert_fhir

pytest.importorskip("clinosim")


@pytest.fixture(scope="module")
def clinosim_export(tmp_path_factory) -> Path:
    """A dozen simulated people, generated with every network call refused.

    clinosim spends most of its time parsing its protocol YAML with PyYAML's pure-Python
    safe loader: the fixture has `yaml.safe_load` use libyaml's C safe loader instead (the
    same documents, the same objects, about ten times faster; 28 s -> 4 s here)."""
    import yaml
    from clinosim.simulator.cli import main

    out = tmp_path_factory.mktemp("clinosim")
    patch = pytest.MonkeyPatch()

    def refuse(*args, **kwargs):
        raise AssertionError("clinosim opened a network connection")

    for name in ("create_connection", "getaddrinfo"):
        patch.setattr(socket, name, refuse)
    patch.setattr(socket.socket, "connect", refuse)
    if yaml.__with_libyaml__:
        patch.setattr(yaml, "safe_load", lambda stream: yaml.load(stream, Loader=yaml.CSafeLoader))
    patch.setattr(sys, "argv", ["clinosim", "simulate", "--country", "US", "--population", "12",
                                "--seed", "42", "--output", str(out), "--format", "fhir-r4"])
    try:
        main()
    except SystemExit as stop:
        assert not stop.code
    finally:
        patch.undo()
    return out / "fhir_r4"


def test_a_clinosim_cohort_converts_to_a_valid_meds_dataset(clinosim_export: Path, tmp_path: Path) -> None:
    import meds

    patients = [json.loads(line)["id"] for line in (clinosim_export / "Patient.ndjson").read_text().splitlines()]
    assert len(patients) >= 3
    (tmp_path / "members.txt").write_text("\n".join(patients[: len(patients) // 2]) + "\n")
    done = convert_fhir(clinosim_export, tmp_path / "meds", tmp_path / "members.txt")
    assert done.subjects == len(patients) and done.members == len(patients) // 2
    table = meds.DataSchema.align(pq.read_table(tmp_path / "meds" / "data" / "0.parquet"))
    meds.SubjectSplitSchema.align(pq.read_table(tmp_path / "meds" / "metadata" / "subject_splits.parquet"))
    rows = table.to_pylist()
    assert sum(r["code"] == "MEDS_BIRTH" for r in rows) == len(patients)
    vocabularies = {read_code(r["code"]).vocabulary for r in rows}
    assert {ICD10CM, LOINC, RXNORM} <= vocabularies
    assert any(r["numeric_value"] is not None for r in rows if r["code"].startswith("LAB//LOINC//"))
    # Practitioners, locations and the like have no MEDS event: skipped, and said so.
    assert any("Practitioner" in reason for reason in done.skipped)
