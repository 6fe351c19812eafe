"""What the rest of the code needs to know about one probe family, as one typed record.

Each family module (membership.py, extraction.py, ...) builds one `FamilySpec`; the
package's `FAMILIES` gathers them. The plan reads a family's thresholds, the report its
wording and methods text, the desktop app its plain sentences, `mnemoscope validate` its
known answers: none of them keeps a table of family names of its own.

This package imports neither probes nor models nor data, so the report (which reads
results only) and the desktop app can read it without loading the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from audit_core.results.verdicts import Verdict


class Family(StrEnum):
    """The probe families, in the order a reader weighs their risks: who was in the
    training data, what comes out of the model verbatim or identifies a patient, then what
    can be inferred about them (the report's front pages group findings in this order).

    Each value is the string results.json records as a probe's "family" and the name of
    the plan's [thresholds.<value>] table: renaming one breaks every plan and result."""

    MEMBERSHIP = "membership"
    EXTRACTION = "extraction"
    IDENTIFIERS = "identifiers"
    REIDENTIFICATION = "reidentification"
    ATTRIBUTE = "attribute"
    EMBEDDING = "embedding"
    TRAJECTORY = "trajectory"
    PERTURBATION = "perturbation"
    SUBGROUPS = "subgroups"
    CANARIES = "canaries"


@dataclass(frozen=True, slots=True, kw_only=True)
class Wording:
    """The report's words for the family (NIST AI 100-2 E2025, EDPB Opinion 28/2024,
    compliance.md 1.4, 1.7, 2.1, 6.2)."""

    name: str  # the report's plain name for the question
    nist: str  # NIST AI 100-2 E2025 attack class
    edpb: str  # the attack named in EDPB Opinion 28/2024
    patient: str  # what a positive result means for one patient, in plain words
    mitigations: tuple[str, ...]  # the probe section's own, specific advice
    # The front pages: the risk in a patient's words (rows are grouped by it), what a
    # positive result found in one short sentence, and the required actions it calls for
    # (keys of the report's ACTIONS, most effective first), so that an action shared by
    # several probes is listed once and each finding points at it by number.
    risk: str = "Other privacy risk"
    found: str = "The probe found a signal specific to training patients."
    actions: tuple[str, ...] = ("dp", "access")


@dataclass(frozen=True, slots=True)
class CalibrationNote:
    """A methods sentence that depends on where the decision threshold was placed: on
    non-members held out from those it is judged on, or on the same ones."""

    held_out: str
    same_sample: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Methods:
    """The report's methods text for the family (compliance.md 6.7)."""

    # The attack-strength class (a key of the report's STRENGTH) of a probe that names none.
    strength: str
    # The primary endpoint fixed in the plan before the run, as the policies list says it;
    # "" when the family has none named there.
    endpoint: str = ""
    # The family's own rules, printed once when any of its probes ran.
    policies: tuple[str | CalibrationNote, ...] = ()


Check = dict[str, Any]  # one line of the validation certificate
Audit = Callable[[Path], dict[str, Any]]  # plan path -> results.json document


class KnownAnswers(NamedTuple):
    """A committed control `mnemoscope validate` audits twice (validation.toml: the model
    memorized on purpose; validation_negative.toml: nothing to find) and its checks."""

    label: str  # the checks' id prefix
    title: str
    where: str  # folder under resources/
    manifest: bool  # has model/manifest.json: its model file is checked against it
    checks: Callable[[Path, Audit], list[Check]]
    progress_end: float  # the ranges follow the audits' measured times (the demo about 65%
    #                      of the whole, sensitive attributes and canaries about 10% each)


@dataclass(frozen=True, slots=True, kw_only=True)
class FamilySpec:
    family: Family
    # The frozen dataclass of `param()` fields the plan's [thresholds.<family>] table
    # fills; a probe of the family is judged by it (ctx.thresholds).
    thresholds: type
    wording: Wording
    methods: Methods
    # The desktop app's sentence per verdict, one a privacy officer can repeat; a verdict
    # without one shows the probe's first finding.
    plain: Mapping[Verdict, str]
    # The controls `mnemoscope validate` audits for this family; () where the family's
    # known answer is one of the install checks (the demo) or no control exists yet.
    known_answers: tuple[KnownAnswers, ...]

    @property
    def table(self) -> str:
        """The plan's thresholds table, [thresholds.<table>]."""
        return self.family.value
