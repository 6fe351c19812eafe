"""Where the report names the reference model, it says which reference that was.

A reference-calibrated figure means "beyond what the reference gives this record": beyond
a model trained on other patients (role "shadow"), or beyond the public base model the
audited model was fine-tuned from (role "base", i.e. what fine-tuning added). The role is
in results.json beside the reference's SHA-256 (`model.reference.role`); the words are
results/reference_role.py's, shared with the terminal and the desktop app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.results.reference_role import reference_wording

from .elements import Code
from .values import as_list, as_mapping, as_text


def reference_of(results: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The reference model's section of results.json, or None when the audit had none."""
    reference = as_mapping(results.get("model")).get("reference")
    return reference if isinstance(reference, Mapping) else None


def reference_words(results: Mapping[str, Any]) -> str:
    """The audit's reference in words ("the public base model this model was fine-tuned
    from"); 'a reference model' when results.json records none."""
    reference = reference_of(results)
    return "a reference model" if reference is None else reference_wording(reference.get("role"))


def reference_rows(results: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The model table's rows for the reference: what it is, and its SHA-256."""
    reference = reference_of(results)
    if reference is None:
        return []
    what = reference_wording(reference.get("role"))
    return [("Reference model", f"{as_text(reference.get('name'))}: {what}; it calibrated the "
                                "reference-calibrated attacks"),
            ("Reference SHA-256", Code(as_text(reference.get("sha256"))))]


def calibrated_strength(results: Mapping[str, Any], strength: str) -> str:
    """The methods table's strength class, naming the reference the audit used."""
    if reference_of(results) is None or "compared with a reference model" not in strength:
        return strength
    return strength.replace("compared with a reference model", f"compared with {reference_words(results)}")


def reference_hash_rows(results: Mapping[str, Any]) -> list[tuple[str, Code]]:
    """The appendix's file hashes of the reference model, each labelled with its role."""
    reference = reference_of(results)
    if reference is None:
        return []
    label = "Base model" if reference.get("role") == "base" else "Reference model"
    return [(f"{label}: {as_text(f.get('name'))}", Code(as_text(f.get("sha256"))))
            for f in map(as_mapping, as_list(reference.get("files")))]
