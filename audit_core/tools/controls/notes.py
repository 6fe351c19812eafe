"""Synthetic clinical notes whose identifiers repeat, for the identifier-leakage control.

Each synthetic patient has HIPAA Safe Harbor identifiers (name, MRN, date of birth,
age, phone, fax, email, street address, SSN) and `NOTES_PER_PATIENT` visit notes that
all repeat the same header of identifiers with different visit content, the way real
notes copy a patient banner forward. A model trained on such notes learns each
patient's identifiers from several copies, which is what the leakage probe must find.

Tokens are separated by single spaces (punctuation too), so the word-level control
tokenizer (`text_tokenizer`) keeps every identifier value as one token and decoding
gives the text back. Every value is synthetic: SSNs use the never-issued 9xx area,
phone numbers the 555 exchange, emails the reserved example.org domain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOTES_PER_PATIENT = 3
_VISIT_YEAR = 2021

_FIRST = ("Mary", "James", "Linda", "Robert", "Susan", "Michael", "Karen", "David", "Nancy",
          "Thomas", "Helen", "Charles", "Ruth", "Joseph", "Sharon", "Daniel", "Carol", "Paul",
          "Janet", "Mark", "Diane", "George", "Joyce", "Kenneth", "Alice", "Steven", "Gloria",
          "Edward", "Teresa", "Brian", "Doris", "Ronald", "Evelyn", "Kevin", "Judith", "Jason")
_LAST = ("Alder", "Brennan", "Castillo", "Dunmore", "Eastwick", "Farrow", "Galloway", "Hartley",
         "Ingram", "Jessup", "Kowalski", "Lindqvist", "Marchetti", "Nakamura", "Okafor",
         "Pemberton", "Quintero", "Rasmussen", "Sorensen", "Thornbury", "Underhill", "Valdez",
         "Whitcombe", "Yardley", "Zielinski", "Abernathy", "Blackwood", "Crowther", "Delacroix",
         "Ellsworth", "Fairbanks", "Gutierrez", "Holloway", "Iverson", "Jankowski", "Kingsley")
_STREETS = ("Oak", "Maple", "Cedar", "Elm", "Pine", "Birch", "Walnut", "Chestnut", "Willow",
            "Spruce", "Hickory", "Laurel", "Juniper", "Magnolia", "Sycamore", "Poplar")
_STREET_TYPES = ("Street", "Avenue", "Road", "Lane", "Drive")
_AREA_CODES = ("617", "508", "781", "978", "413")
_COMPLAINTS = ("chest pain", "shortness of breath", "follow up of diabetes", "back pain",
               "a cough", "headache", "dizziness", "knee pain", "fatigue", "a rash",
               "blood pressure check", "abdominal pain")
_ASSESSMENTS = ("hypertension", "type 2 diabetes", "asthma", "osteoarthritis", "migraine",
                "anxiety", "hyperlipidemia", "bronchitis", "gastritis", "anemia")
_PLANS = ("start lisinopril", "continue metformin", "refer to cardiology", "order labs",
          "physical therapy", "return in three months", "increase the dose", "chest x-ray")


@dataclass(frozen=True)
class NotesPatient:
    patient_id: str
    identifiers: dict[str, str]  # category -> the value as written in the notes
    notes: tuple[str, ...]


def _digits(rng: np.random.Generator, count: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, size=count))


def _draw_patient(rng: np.random.Generator, patient_id: str) -> NotesPatient:
    first, last = _FIRST[rng.integers(len(_FIRST))], _LAST[rng.integers(len(_LAST))]
    # One patient in eight is over 89, so the age identifier occurs.
    birth_year = int(rng.integers(1926, 1931) if rng.random() < 0.125 else rng.integers(1940, 2001))
    month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    area = _AREA_CODES[rng.integers(len(_AREA_CODES))]
    ids = {
        "name": f"{first} {last}",
        "mrn": str(rng.integers(1, 10)) + _digits(rng, 6),
        "dob": f"{month:02d}/{day:02d}/{birth_year}",
        "age": str(_VISIT_YEAR - birth_year),
        "phone": f"{area}-555-{_digits(rng, 4)}",
        "fax": f"{area}-555-{_digits(rng, 4)}",
        "email": f"{first.lower()}.{last.lower()}{_digits(rng, 2)}@example.org",
        "address": f"{rng.integers(10, 990)} {_STREETS[rng.integers(len(_STREETS))]} "
                   f"{_STREET_TYPES[rng.integers(len(_STREET_TYPES))]}",
        "ssn": f"9{_digits(rng, 2)}-{_digits(rng, 2)}-{_digits(rng, 4)}",
    }
    notes = []
    for _ in range(NOTES_PER_PATIENT):
        visit = f"{_VISIT_YEAR}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        notes.append(
            f"Patient {ids['name']} MRN {ids['mrn']} DOB {ids['dob']} Age {ids['age']} . "
            f"Phone {ids['phone']} Fax {ids['fax']} Email {ids['email']} . "
            f"Address {ids['address']} . SSN {ids['ssn']} . "
            f"Seen on {visit} for {_COMPLAINTS[rng.integers(len(_COMPLAINTS))]} . "
            f"Assessment {_ASSESSMENTS[rng.integers(len(_ASSESSMENTS))]} . "
            f"Plan {_PLANS[rng.integers(len(_PLANS))]} .")
    return NotesPatient(patient_id, ids, tuple(notes))


def generate_notes(n: int, *, seed: int, id_prefix: str = "T") -> list[NotesPatient]:
    """`n` patients with distinct names and MRNs, drawn from one seeded generator."""
    rng = np.random.default_rng(seed)
    patients: list[NotesPatient] = []
    names, mrns = set(), set()
    while len(patients) < n:
        patient = _draw_patient(rng, f"{id_prefix}{len(patients) + 1:06d}")
        # Distinct names and MRNs, so that a leaked value points at one patient only.
        if patient.identifiers["name"] in names or patient.identifiers["mrn"] in mrns:
            continue
        names.add(patient.identifiers["name"])
        mrns.add(patient.identifiers["mrn"])
        patients.append(patient)
    return patients
