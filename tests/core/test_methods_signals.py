"""The report's Methods table names each language-model attack's signal in words: an attack
added to the registry without one would be described only by its family's name, and a
regulator could not tell CAMIA from LOSS."""

from __future__ import annotations

from audit_core.probes import PROBES
from audit_core.report.sections.methods import SIGNALS


def test_every_language_model_probe_has_its_signal_in_words() -> None:
    missing = [p.id for p in PROBES if p.needs.applies_to("causal_lm") and p.id not in SIGNALS]
    assert missing == []
