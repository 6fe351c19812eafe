"""FHIR R4 resources as MEDS events, with code strings in the MIMIC-IV MEDS style.

==================  ===========================================  ===========================
resource            MEDS code                                    time (first present)
==================  ===========================================  ===========================
Patient             GENDER//M, GENDER//F, GENDER//O, GENDER//UNK  none (a static row)
Patient.birthDate   MEDS_BIRTH                                   birthDate
Patient.deceased    MEDS_DEATH                                   deceasedDateTime
Encounter           VISIT//<class code> (VISIT//AMB, VISIT//IMP)  period.start
Condition           DIAGNOSIS//ICD//10//<code, no dot>            onsetDateTime, onsetPeriod.start,
                    DIAGNOSIS//ICD//9//<code, no dot>             recordedDate
                    DIAGNOSIS//SNOMED//<code>
Observation         LAB//LOINC//<code> (also LAB//SNOMED//...)    effectiveDateTime,
                    numeric_value: valueQuantity.value            effectivePeriod.start, issued
                    text_value: valueString or the value's code
MedicationRequest   MEDICATION//RXNORM//<code>                    authoredOn
Procedure           PROCEDURE//SNOMED//<code>,                    performedDateTime,
                    PROCEDURE//ICD//10//<ICD-10-PCS code>,        performedPeriod.start
                    PROCEDURE//ICD//9//<code>, PROCEDURE//CPT//...
==================  ===========================================  ===========================

Coding systems by URL: http://hl7.org/fhir/sid/icd-10-cm and .../icd-10 (ICD//10),
.../icd-9-cm (ICD//9), http://snomed.info/sct (SNOMED), http://loinc.org (LOINC),
http://www.nlm.nih.gov/research/umls/rxnorm (RXNORM), http://www.cms.gov/Medicare/Coding/ICD10
(ICD-10-PCS, ICD//10), http://www.ama-assn.org/go/cpt (CPT). A concept with several codings
takes the first in that order of preference (ICD-10 before ICD-9 before SNOMED ...).
clinical.code_reading reads every code above, so the sensitive categories, rare codes
and the ICD hierarchy apply to a converted dataset as to MIMIC-IV MEDS.
Skipped and counted, never refused: a resource with no coding in a known system, with no
time, or a MedicationRequest that names its drug by reference (Medication resource).
Times: FHIR dateTime with any offset is stored as UTC; a date ("2019-03-14") is midnight,
a partial date the first day of its month or year.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audit_core.data.fhir_reading import Located
from audit_core.errors import DataError

ICD10_URLS = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
ICD9_URL = "http://hl7.org/fhir/sid/icd-9-cm"
SNOMED_URL = "http://snomed.info/sct"
LOINC_URL = "http://loinc.org"
RXNORM_URL = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10PCS_URL = "http://www.cms.gov/Medicare/Coding/ICD10"
CPT_URL = "http://www.ama-assn.org/go/cpt"

# Per domain, the systems taken, in order of preference, and each one's code-string middle.
_DIAGNOSIS = ((ICD10_URLS[0], "ICD//10"), (ICD10_URLS[1], "ICD//10"), (ICD9_URL, "ICD//9"),
              (SNOMED_URL, "SNOMED"))
_LAB = ((LOINC_URL, "LOINC"), (SNOMED_URL, "SNOMED"))
_MEDICATION = ((RXNORM_URL, "RXNORM"),)
_PROCEDURE = ((ICD10PCS_URL, "ICD//10"), (ICD9_URL, "ICD//9"), (SNOMED_URL, "SNOMED"), (CPT_URL, "CPT"))
_GENDER = {"male": "M", "female": "F", "other": "O", "unknown": "UNK"}


@dataclass(frozen=True, slots=True)
class Event:
    patient: str  # FHIR Patient id (mapped to a MEDS subject_id by data.fhir_meds)
    time: datetime | None  # UTC, naive; None for a static row
    code: str
    numeric_value: float | None = None
    text_value: str | None = None
    description: str | None = None  # the coding's display, for metadata/codes.parquet


def fhir_time(value: Any, where: str, name: str) -> datetime | None:
    """A FHIR date/dateTime/instant as naive UTC; None when absent; refuses a malformed one."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataError(f"{where}: '{name}' is not a FHIR date or dateTime")
    text = value.strip()
    try:
        if len(text) == 4:
            return datetime(int(text), 1, 1)
        if len(text) == 7:
            return datetime(int(text[:4]), int(text[5:7]), 1)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"{where}: '{name}' is not a FHIR date or dateTime") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _first_time(resource: dict[str, Any], where: str, *names: str) -> datetime | None:
    for name in names:
        head, _, tail = name.partition(".")
        value = resource.get(head)
        if tail:
            value = value.get(tail) if isinstance(value, dict) else None
        moment = fhir_time(value, where, name)
        if moment is not None:
            return moment
    return None


def _coded(concept: Any, systems: tuple[tuple[str, str], ...]) -> tuple[str, str | None] | None:
    """(code-string middle + "//" + code, display) of a CodeableConcept's preferred coding."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list):
        return None
    for url, middle in systems:
        for coding in codings:
            if isinstance(coding, dict) and coding.get("system") == url:
                code = coding.get("code")
                if isinstance(code, str) and code.strip():
                    code = code.strip()
                    if middle.startswith("ICD"):
                        code = code.replace(".", "").upper()  # MIMIC-IV MEDS writes ICD without the dot
                    display = coding.get("display")
                    return f"{middle}//{code}", display if isinstance(display, str) else None
    return None


def patient_events(located: Located) -> list[Event]:
    resource, where = located.resource, located.where
    patient = resource["id"]
    events = []
    gender = resource.get("gender")
    if isinstance(gender, str) and gender in _GENDER:
        events.append(Event(patient, None, f"GENDER//{_GENDER[gender]}"))
    birth = fhir_time(resource.get("birthDate"), where, "birthDate")
    if birth is not None:
        events.append(Event(patient, birth, "MEDS_BIRTH"))
    death = fhir_time(resource.get("deceasedDateTime"), where, "deceasedDateTime")
    if death is not None:
        events.append(Event(patient, death, "MEDS_DEATH"))
    return events


def clinical_event(located: Located, patient: str, skipped: Counter[str]) -> Event | None:
    """The MEDS event of an Encounter, Condition, Observation, MedicationRequest or
    Procedure; None (counted in `skipped`) when it has no known code or no time."""
    resource, where = located.resource, located.where
    kind = resource["resourceType"]
    numeric: float | None = None
    text: str | None = None
    coded: tuple[str, str | None] | None
    if kind == "Encounter":
        klass = resource.get("class")
        klass = klass if isinstance(klass, dict) else {}
        code, display = klass.get("code"), klass.get("display")
        coded = (f"VISIT//{code.strip().upper() if isinstance(code, str) and code.strip() else 'UNK'}",
                 display if isinstance(display, str) else None)
        time = _first_time(resource, where, "period.start")
    elif kind == "Condition":
        coded = _prefixed("DIAGNOSIS", _coded(resource.get("code"), _DIAGNOSIS))
        time = _first_time(resource, where, "onsetDateTime", "onsetPeriod.start", "recordedDate")
    elif kind == "Observation":
        coded = _prefixed("LAB", _coded(resource.get("code"), _LAB))
        time = _first_time(resource, where, "effectiveDateTime", "effectivePeriod.start", "issued")
        quantity = resource.get("valueQuantity")
        value = quantity.get("value") if isinstance(quantity, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            numeric = float(value)
        elif isinstance(resource.get("valueString"), str):
            text = resource["valueString"]
        else:
            answer = _coded(resource.get("valueCodeableConcept"), _LAB + _DIAGNOSIS)
            text = answer[0] if answer else None
    elif kind == "MedicationRequest":
        if "medicationReference" in resource and "medicationCodeableConcept" not in resource:
            skipped["MedicationRequest naming its drug by reference (not resolved)"] += 1
            return None
        coded = _prefixed("MEDICATION", _coded(resource.get("medicationCodeableConcept"), _MEDICATION))
        time = _first_time(resource, where, "authoredOn")
    else:  # Procedure
        coded = _prefixed("PROCEDURE", _coded(resource.get("code"), _PROCEDURE))
        time = _first_time(resource, where, "performedDateTime", "performedPeriod.start")
    if coded is None:
        skipped[f"{kind} without a code in a known system"] += 1
        return None
    if time is None:
        skipped[f"{kind} without a time"] += 1
        return None
    return Event(patient, time, coded[0], numeric, text, coded[1])


def _prefixed(domain: str, coded: tuple[str, str | None] | None) -> tuple[str, str | None] | None:
    return None if coded is None else (f"{domain}//{coded[0]}", coded[1])
