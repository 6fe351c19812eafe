"""What each token of a localised record is: an identifier category (notes) or a code category.

Notes: the Safe Harbor detector (identifiers/detector.py) finds the identifiers in the
record's text; a token is in a category when its characters overlap one, else it is plain
"text". Code records: the token is read as a code (clinical/code_reading.py) and put in a
sensitive category (clinical/code_sets.py) when it is in one, else in a broad kind of code.
Only category names leave this module, never a token or a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from audit_core.clinical import code_reading as cr
from audit_core.clinical.code_sets import BUILTIN_CODE_SETS, in_code_set
from audit_core.identifiers.detector import detect

TEXT = "text"  # a note's token that is part of no identifier
# The report's words for the categories that are not identifiers (whose words the report has).
LABELS = {TEXT: "Other text", **{s.name: s.label for s in BUILTIN_CODE_SETS}}
_KINDS = {cr.ICD10CM: "diagnosis", cr.ICD9CM: "diagnosis", cr.SNOMED: "diagnosis",
          cr.ICD10PCS: "procedure", cr.ICD9PROC: "procedure", cr.CPT: "procedure",
          cr.RXNORM: "medication", cr.MEDICATION: "medication", cr.LAB: "lab", cr.LOINC: "lab",
          cr.VISIT: "visit_or_time"}
# Plain tokens of the flat code exports (the demo's): their prefix says what they are.
_PREFIXES = (("RX_", "medication"), ("LAB_", "lab"), ("AGE_", "demographic"),
             ("SEX_", "demographic"), ("GAP_", "visit_or_time"), ("VISIT", "visit_or_time"))


def text_categories(text: str, offsets: Sequence[tuple[int, int]]) -> list[str]:
    """Each token's identifier category (or TEXT), by its (start, end) characters in `text`."""
    found = detect(text)
    out = []
    for start, end in offsets:
        hit = next((d.category for d in found if end > start and start < d.end and d.start < end), TEXT)
        out.append(hit)
    return out


@lru_cache(maxsize=1 << 16)  # a vocabulary's tokens recur in every record
def code_category(token: str) -> str:
    """A code token's category: a sensitive set's name, else the kind of code it is."""
    for code_set in BUILTIN_CODE_SETS:
        if in_code_set(token, code_set):
            return code_set.name
    code = cr.read_code(token)
    if code.vocabulary in cr.STATIC_VOCABULARIES:
        return "demographic"
    if code.vocabulary in _KINDS:
        return _KINDS[code.vocabulary]
    upper = token.upper()
    return next((kind for prefix, kind in _PREFIXES if upper.startswith(prefix)), "other")
