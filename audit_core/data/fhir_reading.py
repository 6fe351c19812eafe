"""Read FHIR R4 resources from a folder: bulk-export NDJSON files or JSON Bundles.

A bulk export ($export) writes one file per resource type, one resource per line
(Patient.ndjson, Condition.ndjson, ...); an EHR or a generator (clinosim) may instead
write Bundles, JSON files whose `entry[].resource` hold the resources. Both are read
here, from the folder's *.ndjson and *.json files (sorted, not recursive), and turned
into MEDS events by data.fhir_events; data.fhir_meds writes the MEDS folder.

What is refused (DataError, naming the file and line, never a value): a line or file
that is not JSON, a line that is not a JSON object, a clinical resource without a
subject reference, a reference to a Patient the folder does not hold. What is skipped
and counted (the conversion summary prints the counts): resources of a type that has no
MEDS event (Practitioner, Location, ...), JSON files that are not FHIR (an export's
manifest), and resources of a known type with nothing to place (no code in a known
system, no time).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_core.errors import DataError

# The resource types that become MEDS events (data.fhir_events), Patient first.
CONVERTED_TYPES = ("Patient", "Encounter", "Condition", "Observation", "MedicationRequest", "Procedure")


@dataclass(frozen=True, slots=True)
class Located:
    """A resource and where it was read, for messages that name the place, not the data."""

    resource: dict[str, Any]
    file: str  # file name within the folder
    line: int  # line number in an NDJSON file; entry number (from 1) in a Bundle

    @property
    def where(self) -> str:
        kind = "line" if self.file.endswith(".ndjson") else "entry"
        return f"{self.file} {kind} {self.line}"


@dataclass
class FhirResources:
    """The folder's convertible resources, by type, and what was passed over."""

    by_type: dict[str, list[Located]] = field(default_factory=lambda: {t: [] for t in CONVERTED_TYPES})
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    files: int = 0
    # Bundle fullUrl ("urn:uuid:...") -> Patient id, so a bundle's references resolve.
    patient_urls: dict[str, str] = field(default_factory=dict)
    patient_ids: set[str] = field(default_factory=set)


def read_fhir_folder(root: Path) -> FhirResources:
    """Every resource of the folder's NDJSON and JSON files; refuses malformed input."""
    if not root.is_dir():
        raise DataError(f"FHIR folder {root} does not exist or is not a folder")
    paths = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in (".ndjson", ".json"))
    if not paths:
        raise DataError(f"FHIR folder {root} holds no .ndjson or .json file")
    found = FhirResources()
    for path in paths:
        found.files += 1
        for located, full_url in _resources(path):
            _add(found, located, full_url)
    if not found.by_type["Patient"]:
        raise DataError(f"FHIR folder {root} holds no Patient resource: every MEDS subject is a Patient")
    return found


def _resources(path: Path) -> Iterator[tuple[Located, str | None]]:
    try:
        yield from _read(path)
    except UnicodeDecodeError:
        raise DataError(f"{path.name} is not UTF-8 text (FHIR JSON is UTF-8)") from None
    except OSError as exc:
        raise DataError(f"cannot read {path.name}: {exc.__class__.__name__}") from None


def _read(path: Path) -> Iterator[tuple[Located, str | None]]:
    if path.suffix.lower() == ".ndjson":
        # utf-8-sig: a byte-order mark an editor put at the start is not part of the JSON.
        with path.open(encoding="utf-8-sig", errors="strict") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path.name} line {number}"
                yield Located(_object(_parse(line, where), where), path.name, number), None
        return
    document = _object(_parse(path.read_text(encoding="utf-8-sig"), path.name), path.name)
    if document.get("resourceType") != "Bundle":
        yield Located(document, path.name, 1), None
        return
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        raise DataError(f"{path.name}: the Bundle's 'entry' is not a list")
    for number, entry in enumerate(entries, start=1):
        entry = _object(entry, f"{path.name} entry {number}")
        resource = entry.get("resource")
        if resource is None:
            continue  # a bundle entry may hold only a request or a response
        full_url = entry.get("fullUrl")
        yield Located(_object(resource, f"{path.name} entry {number}"), path.name, number), \
            full_url if isinstance(full_url, str) else None


def _parse(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # Only the position: the decoder's own message may quote the data.
        raise DataError(f"{where}: not valid JSON (column {exc.colno})") from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply to be a FHIR resource") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataError(f"{where}: a FHIR resource must be a JSON object")
    return value


def _add(found: FhirResources, located: Located, full_url: str | None) -> None:
    kind = located.resource.get("resourceType")
    if not isinstance(kind, str):
        found.skipped["JSON without a resourceType (not FHIR)"] += 1
        return
    if kind not in found.by_type:
        found.skipped[f"{kind} (no MEDS event)"] += 1
        return
    found.by_type[kind].append(located)
    if kind == "Patient":
        patient_id = located.resource.get("id")
        if not isinstance(patient_id, str) or not patient_id:
            raise DataError(f"{located.where}: a Patient without an id cannot be a MEDS subject")
        if patient_id in found.patient_ids:
            raise DataError(f"{located.where}: a second Patient with the id of an earlier one")
        found.patient_ids.add(patient_id)
        if full_url:
            found.patient_urls[full_url] = patient_id


def subject_of(located: Located, found: FhirResources, patients: set[str]) -> str:
    """The Patient id a clinical resource belongs to (its `subject`, or `patient` for the
    few R4 types that name it so); refuses a resource without one."""
    reference = located.resource.get("subject") or located.resource.get("patient")
    text = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(text, str) or not text:
        raise DataError(f"{located.where}: {located.resource.get('resourceType')} has no subject "
                        "reference (subject.reference = \"Patient/<id>\")")
    if text in found.patient_urls:
        return found.patient_urls[text]
    kind, _, patient_id = text.rstrip("/").rpartition("/")
    if not kind.endswith("Patient") or patient_id not in patients:
        raise DataError(f"{located.where}: the subject reference names no Patient of the folder "
                        "(a partial export? export the Patient resources with the rest)")
    return patient_id
