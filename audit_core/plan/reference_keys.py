"""The plan's `[model] reference_role`: what the reference model is (results/reference_role.py).

`reference = "path"` names a second model of the same tokenizer; `reference_role` says
whether it is a model trained without the members ("shadow", the default) or the public
base model the audited model was fine-tuned from ("base"). A role without a reference
names nothing, and is refused rather than ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.errors import PlanError
from audit_core.results.reference_role import DEFAULT_REFERENCE_ROLE, REFERENCE_ROLES


def reference_role(model: Mapping[str, Any]) -> str:
    """The [model] table's reference role, checked; the default when it is not given."""
    if "reference_role" not in model:
        return DEFAULT_REFERENCE_ROLE
    role = model["reference_role"]
    choices = " or ".join(f'"{r}"' for r in REFERENCE_ROLES)
    if not isinstance(role, str) or role not in REFERENCE_ROLES:
        shown = f"'{role}'" if isinstance(role, str) and len(role) <= 40 else "a value of another kind"
        raise PlanError(f"'model.reference_role' must be {choices} (got {shown}): \"base\" when the "
                        "reference is the public base model this model was fine-tuned from, "
                        "\"shadow\" when it is a model trained without the members")
    if not model.get("reference"):
        raise PlanError("'model.reference_role' is set but 'model.reference' is not: name the "
                        "reference model's folder (for \"base\", the base model this model was "
                        "fine-tuned from, converted to ONNX like the model)")
    return role
