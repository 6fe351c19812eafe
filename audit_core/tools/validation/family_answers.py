"""Known answers of the probe families beyond the demo's membership and extraction.

Each committed control is audited twice through `run_audit`, from plan files shipped with
it: `validation.toml` (a model that memorized something on purpose: it must be found) and
`validation_negative.toml` (a model or cohort where there is nothing to find: it must not
be). Each family's module (audit_core/families/) declares its controls and their checks;
this module only gathers them, in the order `validate` runs them (the order of their
progress ranges): sensitive attributes, canaries, clinical notes, tabular.
"""

from __future__ import annotations

from audit_core.families import FAMILIES
from audit_core.families.answers import NEGATIVE, POSITIVE
from audit_core.families.spec import KnownAnswers

__all__ = ["FAMILY_CONTROLS", "NEGATIVE", "POSITIVE"]

FAMILY_CONTROLS: tuple[KnownAnswers, ...] = tuple(sorted(
    (control for spec in FAMILIES.values() for control in spec.known_answers),
    key=lambda control: control.progress_end))
