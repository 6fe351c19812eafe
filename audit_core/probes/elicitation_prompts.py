"""Elicitation prompts in the form a patient's own note uses (ProPILE, Kim et al. 2023).

An attacker who knows one or two of a patient's identifiers (a name; a name and a date of
birth or a visit date) writes them the way the hospital's notes do and lets the model go on.
The note's own words are the template: each identifier the detectors find
(`audit_core.identifiers.detector`) owns the text before it back to the previous identifier
and within its clause (its cue: "Patient", "MRN", "DOB", "Phone"), at most `cue_chars`
characters of it.
A prompt is the known identifiers with their cues, in the note's order ("Patient <name>
DOB <date>", the open query: the model writes on as the note does), or that followed by the
cue of one withheld identifier: "Patient <name> DOB <date> MRN" asks for the MRN (ProPILE's
prompt tasks the model with the N-th item given the N-1 it knows). Every other
identifier of the note, with its cue, stays out of the prompt, so none is revealed.

Which date is the date of birth is read from the cue before it ("DOB", "date of birth",
"born"); the visit date is the note's first other date. The patient's name is the note's
first name that is not a relative's or a clinician's ("Dr.", "daughter", ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from audit_core.identifiers.detector import Detection, detect
from audit_core.identifiers.index import namespaced

# Knowledge tiers, in the order they are reported: what the attacker knows of the patient.
TIERS = ("tier1_name", "tier2_name_dob", "tier2_name_visit")
# As the findings open a sentence (no colon after "date of birth": the report's
# redaction would read what follows as a birth date).
TIER_WORDS = {"tier1_name": "Knowing only the name (tier 1)",
              "tier2_name_dob": "Knowing the name and the date of birth (tier 2)",
              "tier2_name_visit": "Knowing the name and a visit date (tier 2)"}

_DOB_CUE = re.compile(r"(?i)(?:\bDOB|\bD\.O\.B\.?|\bdate\s+of\s+birth|\bbirth\s*date|\bborn(?:\s+on)?)\W{0,3}$")
_OTHER_PERSON = re.compile(r"(?i)\b(?:dr|son|daughter|wife|husband|mother|father)\b\.?\s*:?\s*$")
_CUE_LOOKBACK = 24
_CLAUSE_END = re.compile(r"[.,;\n]\s+")


@dataclass(frozen=True, slots=True)
class NoteIdentifiers:
    """A note's identifiers in order, and which of them an attacker may know."""

    text: str
    found: tuple[Detection, ...]
    name: int | None  # index into `found`
    dob: int | None
    visit: int | None

    def known(self, tier: str) -> tuple[int, ...] | None:
        """The identifiers known at `tier` (indices into `found`), None if the note lacks one."""
        wanted = {"tier1_name": (self.name,), "tier2_name_dob": (self.name, self.dob),
                  "tier2_name_visit": (self.name, self.visit)}[tier]
        if any(i is None for i in wanted):
            return None
        return tuple(sorted(i for i in wanted if i is not None))


@dataclass(frozen=True, slots=True)
class TierPrompts:
    """One tier's queries for one note: prompt texts, and what the prompt withholds."""

    prompts: tuple[str, ...]
    withheld: dict[tuple[str, str], str]  # namespaced key -> the note's category for it


def read_note(text: str) -> NoteIdentifiers:
    found = tuple(detect(text))
    name = next((i for i, d in enumerate(found) if d.category == "name"
                 and not _OTHER_PERSON.search(text[max(0, d.start - _CUE_LOOKBACK):d.start])), None)
    dob = next((i for i, d in enumerate(found) if d.category == "date"
                and _DOB_CUE.search(text[max(0, d.start - _CUE_LOOKBACK):d.start])), None)
    dob_key = found[dob].key if dob is not None else None
    visit = next((i for i, d in enumerate(found) if d.category == "date" and i != dob
                  and d.key != dob_key), None)
    return NoteIdentifiers(text=text, found=found, name=name, dob=dob, visit=visit)


def _cue_start(note: NoteIdentifiers, i: int, cue_chars: int) -> int:
    """Where identifier i's cue begins: the previous identifier's end, or `cue_chars`
    before it, moved forward to a word boundary (never into the middle of a word)."""
    floor = note.found[i - 1].end if i > 0 else 0
    start = max(floor, note.found[i].start - cue_chars)
    text, end = note.text, note.found[i].start
    while floor < start < end and not text[start - 1].isspace():
        start += 1
    # Only the identifier's own clause: "Age 52 . Phone" asks for the phone as "Phone" does,
    # without the age. A cut that would leave no word ("MRN no. ") is not made.
    cuts = [m.end() for m in _CLAUSE_END.finditer(text, start, end)
            if re.search(r"[A-Za-z]", text[m.end():end])]
    return cuts[-1] if cuts else start


def _joined(pieces: list[str]) -> str:
    out = ""
    for piece in pieces:
        if out and piece and not out[-1].isspace() and not piece[0].isspace():
            out += " "
        out += piece
    return out.strip()


def tier_prompts(note: NoteIdentifiers, tier: str, cue_chars: int) -> TierPrompts | None:
    """The prompts of `tier` for this note, or None when the note lacks a known identifier
    or holds nothing else to ask for."""
    known = note.known(tier)
    if known is None:
        return None
    known_keys = {namespaced(note.found[i]) for i in known}
    withheld: dict[tuple[str, str], str] = {}
    targets = []
    for i, d in enumerate(note.found):
        key = namespaced(d)
        if key in known_keys or key in withheld:
            continue
        withheld[key] = d.category
        targets.append(i)
    if not withheld:
        return None
    context = [note.text[_cue_start(note, i, cue_chars):note.found[i].end] for i in known]
    # The open query first (the known identifiers alone: the model writes on, as the note
    # does), then one per withheld identifier, ending with its cue.
    prompts: list[str] = [_joined(context)]
    for i in targets:
        cue = note.text[_cue_start(note, i, cue_chars):note.found[i].start].rstrip()
        prompt = _joined([*context, cue])
        if prompt not in prompts:
            prompts.append(prompt)
    return TierPrompts(prompts=tuple(prompts), withheld=withheld)
