"""What the reference model is, in the plan's word and in the report's.

A reference-calibrated attack (RMIA, offline LiRA, EZ-MIA) subtracts what a second model
gives a record from what the audited model gives it. Which second model that was changes
what the figure means, so the plan says it (`[model] reference_role`), results.json keeps
it beside the reference's SHA-256 (`model.reference.role`), and every place that names the
reference (report, terminal, desktop) words it with `reference_wording`:

- "shadow" (the default): a model of the same tokenizer trained without the members (a
  model the hospital trained on other patients);
- "base": the public base model the audited model was fine-tuned from (EZ-MIA, Ilic et al.,
  arXiv 2601.12104; WBC, Chen et al., arXiv 2601.02751): no shadow training at all, and
  what the audited model gives a record beyond its base is what fine-tuning added.
"""

from __future__ import annotations

SHADOW, BASE = "shadow", "base"
REFERENCE_ROLES = (SHADOW, BASE)
DEFAULT_REFERENCE_ROLE = SHADOW

_WORDING = {
    SHADOW: "a model trained without the members",
    BASE: "the public base model this model was fine-tuned from",
}


def reference_wording(role: object) -> str:
    """The reference in words, for a sentence ("calibrated against <this>"). Results written
    before roles existed carry none: their reference was a model trained without the members."""
    return _WORDING.get(role if isinstance(role, str) else DEFAULT_REFERENCE_ROLE, _WORDING[SHADOW])
