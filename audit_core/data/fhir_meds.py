"""Convert a FHIR R4 folder into a MEDS dataset folder a hospital can keep and audit.

    data/0.parquet ...              subject_id, time, code, numeric_value, text_value
    metadata/codes.parquet          code, description (the codings' display), parent_codes
    metadata/subject_splits.parquet subject_id, split ("train" members, "held_out" non-members)
    metadata/dataset.json           dataset_name, etl_name, etl_version, meds_version, created_at
    metadata/fhir_patients.parquet  subject_id, fhir_patient_id (the way back to the EHR)

MEDS subjects are int64, FHIR Patient ids strings: subjects are numbered 1, 2, ... in
the order of the sorted Patient ids (the same folder always gives the same numbers), and
fhir_patients.parquet keeps the map, so records.csv's subject ids lead back to the
Patients. FHIR has no splits: the members (the model's training patients) are named by a
list file of Patient ids, one a line ('#' comments allowed); the non-members are the
other Patients, or those of a second list (Patients in neither list are then left out).
Every table is checked against the `meds` package's schemas before it is written.
Events: data.fhir_events; resources: data.fhir_reading.

A plan with `[data] format = "fhir"` (root = the FHIR folder, members = the list file)
is converted into a temporary folder named like the FHIR folder and read there by the
MEDS reader (data.meds_reading), so FHIR and MEDS audits share one path.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from audit_core.data.cohort import Cohort, Role
from audit_core.data.fhir_events import Event, clinical_event, patient_events
from audit_core.data.fhir_reading import CONVERTED_TYPES, read_fhir_folder, subject_of
from audit_core.errors import DataError
from audit_core.plan.meds_keys import RootedSource
from audit_core.version import TOOL_NAME, __version__

TRAIN, HELD_OUT = "train", "held_out"
SUBJECTS_PER_SHARD = 10_000  # MEDS keeps a subject's rows in one shard; shards stay small
PATIENT_MAP = "metadata/fhir_patients.parquet"


@dataclass(frozen=True, slots=True)
class Conversion:
    """What a conversion wrote, in counts only (it is printed and may be logged)."""

    out: Path
    subjects: int
    members: int
    non_members: int
    left_out: int  # Patients in neither list
    events: int
    shards: int
    skipped: dict[str, int]  # reason -> resources passed over


def load_fhir_cohorts(source: RootedSource) -> dict[Role, Cohort]:
    """The cohorts of a `format = "fhir"` plan: its folder converted, then read as MEDS.
    The same folder and lists give byte-identical shards, so the audit id is stable."""
    import tempfile

    from audit_core.data.meds_reading import load_meds_cohorts

    if source.member_list is None:
        raise DataError("a FHIR plan names its members' Patient ids in 'data.members'")
    with tempfile.TemporaryDirectory(prefix="mnemoscope-fhir-") as work:
        out = Path(work) / source.root.name
        convert_fhir(source.root, out, source.member_list, source.non_member_list)
        return load_meds_cohorts(replace(source, root=out))


def read_id_list(path: Path) -> list[str]:
    """Patient ids, one a line; blank lines and '#' comments ignored; refuses repeats."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the patient list {path}: {exc.__class__.__name__}") from None
    ids: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if value in seen:
            raise DataError(f"{path.name} line {number} repeats the Patient id of line {seen[value]}")
        seen[value] = number
        ids.append(value)
    if not ids:
        raise DataError(f"the patient list {path} names no Patient id")
    return ids


def convert_fhir(root: Path, out: Path, members: Path, non_members: Path | None = None,
                 *, dataset_name: str | None = None) -> Conversion:
    """Write the MEDS folder `out` from the FHIR folder `root` (see the module docstring)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    found = read_fhir_folder(root)
    patients = sorted({p.resource["id"] for p in found.by_type["Patient"]})
    known = set(patients)
    splits = _splits(patients, known, members, non_members)
    subject_ids = {p: i for i, p in enumerate((p for p in patients if p in splits), start=1)}

    events: list[Event] = []
    skipped = Counter(found.skipped)
    for located in found.by_type["Patient"]:
        if located.resource["id"] in subject_ids:
            events.extend(patient_events(located))
    for kind in CONVERTED_TYPES[1:]:
        for located in found.by_type[kind]:
            patient = subject_of(located, found, known)
            if patient in subject_ids:
                event = clinical_event(located, patient, skipped)
                if event is not None:
                    events.append(event)
    # MEDS order: by subject, static rows (no time) first, then by time; stable otherwise.
    events.sort(key=lambda e: (subject_ids[e.patient], e.time is not None, e.time or datetime.min))

    _prepare(out)
    data = out / "data"
    shards = 0
    for start in range(0, max(len(subject_ids), 1), SUBJECTS_PER_SHARD):
        rows = [e for e in events if start < subject_ids[e.patient] <= start + SUBJECTS_PER_SHARD]
        table = pa.table({
            "subject_id": pa.array([subject_ids[e.patient] for e in rows], pa.int64()),
            "time": pa.array([e.time for e in rows], pa.timestamp("us")),
            "code": pa.array([e.code for e in rows], pa.string()),
            "numeric_value": pa.array([e.numeric_value for e in rows], pa.float32()),
            "text_value": pa.array([e.text_value for e in rows], pa.large_string()),
        })
        pq.write_table(_checked("DataSchema", table, f"data/{shards}.parquet"), data / f"{shards}.parquet")
        shards += 1
    _write_metadata(out, events, subject_ids, splits, dataset_name or root.name)
    counts = Counter(splits[p] for p in subject_ids)
    return Conversion(out=out, subjects=len(subject_ids), members=counts[TRAIN],
                      non_members=counts[HELD_OUT], left_out=len(patients) - len(subject_ids),
                      events=len(events), shards=shards, skipped=dict(sorted(skipped.items())))


def _splits(patients: list[str], known: set[str], members: Path,
            non_members: Path | None) -> dict[str, str]:
    """Patient id -> MEDS split; refuses an id the folder lacks or one in both lists."""
    chosen: dict[str, str] = {}
    for path, split in ((members, TRAIN), (non_members, HELD_OUT)):
        if path is None:
            continue
        for number, patient in enumerate(read_id_list(path), start=1):
            if patient not in known:
                raise DataError(f"{path.name}: its entry {number} names no Patient of the FHIR folder")
            if patient in chosen:
                raise DataError(f"{path.name}: its entry {number} is a Patient the members list "
                                "names too; a patient is a member or a non-member, not both")
            chosen[patient] = split
    if non_members is None:
        chosen.update({p: HELD_OUT for p in patients if p not in chosen})
    if HELD_OUT not in chosen.values():
        raise DataError("every Patient is a member: the audit needs non-members to compare with")
    return chosen


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out} is not empty: convert into a new folder, so no older shard mixes in")
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "metadata").mkdir(parents=True, exist_ok=True)


def _checked(schema_name: str, table, where: str):
    """The table aligned to the `meds` schema of that name; a mismatch is our defect, but
    it is named rather than written into a dataset other MEDS tools would then refuse."""
    import meds

    try:
        return getattr(meds, schema_name).align(table)
    except Exception as exc:  # noqa: BLE001 - the schema library raises several kinds
        raise DataError(f"{where} does not meet the MEDS {schema_name}: {exc}") from None


def _write_metadata(out: Path, events: list[Event], subject_ids: dict[str, int],
                    splits: dict[str, str], name: str) -> None:
    from importlib.metadata import version

    import pyarrow as pa
    import pyarrow.parquet as pq

    import meds

    descriptions: dict[str, str | None] = {}
    for event in events:
        if descriptions.get(event.code) is None:
            descriptions[event.code] = event.description
    codes = sorted(descriptions)
    pq.write_table(_checked("CodeMetadataSchema", pa.table({
        "code": pa.array(codes, pa.string()),
        "description": pa.array([descriptions[c] for c in codes], pa.string()),
        "parent_codes": pa.array([[] for _ in codes], pa.list_(pa.string())),
    }), "metadata/codes.parquet"), out / "metadata" / "codes.parquet")
    ordered = sorted(subject_ids, key=lambda p: subject_ids[p])
    pq.write_table(_checked("SubjectSplitSchema", pa.table({
        "subject_id": pa.array([subject_ids[p] for p in ordered], pa.int64()),
        "split": pa.array([splits[p] for p in ordered], pa.string()),
    }), "metadata/subject_splits.parquet"), out / "metadata" / "subject_splits.parquet")
    pq.write_table(pa.table({
        "subject_id": pa.array([subject_ids[p] for p in ordered], pa.int64()),
        "fhir_patient_id": pa.array(ordered, pa.string()),
    }), out / PATIENT_MAP)
    dataset = {"dataset_name": name, "etl_name": f"{TOOL_NAME} convert-fhir", "etl_version": __version__,
               "meds_version": version("meds"), "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        meds.DatasetMetadataSchema.validate(dataset)
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"metadata/dataset.json does not meet the MEDS DatasetMetadataSchema: {exc}") from None
    (out / "metadata" / "dataset.json").write_text(json.dumps(dataset, indent=2) + "\n", encoding="utf-8")
