"""Tables of the identifier, re-identification and canary probes, drawn from the columns
they store in `curves`: identifiers per HIPAA Safe Harbor category (compliance.md 1.1:
a PHI-leakage result broken down by category) and canary exposure per insertion count
(Carlini et al. 2019). Counts and bits only: no identifier value, no secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.results.figures import format_bits, format_count

from .elements import Align, Block, Heading, Table
from .values import as_list, as_mapping

# One label per category of audit_core.identifiers.detector.CATEGORIES, in its order (the
# probe stores one row per category in that order; older results have the first nine).
_CATEGORY_LABELS = {
    "name": "Name", "mrn": "Medical record number", "date": "Date (more than the year)",
    "phone": "Telephone", "fax": "Fax", "email": "Email", "address": "Street address",
    "ssn": "Social security number", "age_over_89": "Age over 89",
    "health_plan": "Health plan member number", "account": "Account number",
    "certificate": "Certificate or licence number", "vehicle": "Vehicle id or licence plate",
    "device": "Device id or serial number", "url": "Web address (URL)", "ip_address": "IP address",
    "other_id": "Other identifier (cued)",
}
_CATEGORY_COLUMNS = (("detected", "Detected"),
                     ("leaked_training_patient", "Training patient's"),
                     ("leaked_prompt_patient", "Prompt patient's own"),
                     ("control_non_member_match", "Non-member's (control)"),
                     ("plausible_fakes", "Nobody's (fake)"))


def _count(value: Any) -> str:
    return format_count(value)


def _bits(value: Any) -> str:
    return format_bits(value)


def privacy_blocks(probe: Mapping[str, Any]) -> list[Block]:
    curves = as_mapping(probe.get("curves"))
    blocks: list[Block] = []
    categories = as_mapping(curves.get("identifier_categories"))
    if categories:
        columns = [as_list(categories.get(key)) for key, _ in _CATEGORY_COLUMNS]
        direct = as_list(categories.get("direct"))
        stored = max((len(col) for col in columns), default=0) or len(_CATEGORY_LABELS)
        # "*" marks a direct identifier (the FAIL rule counts those); results written
        # before the column existed show no marks.
        rows = tuple((label + (" *" if i < len(direct) and direct[i] else ""),
                      *(_count(col[i]) if i < len(col) else "—" for col in columns))
                     for i, label in enumerate(list(_CATEGORY_LABELS.values())[:stored]))
        blocks += [Heading("Identifiers by Safe Harbor category", 3), Table(
            header=("Category", *(title for _, title in _CATEGORY_COLUMNS)), rows=rows,
            widths=(0.28, 0.12, 0.15, 0.15, 0.16, 0.14),
            align=(Align.LEFT,) + (Align.RIGHT,) * len(_CATEGORY_COLUMNS),
            caption="Detected identifiers in generated text (prompted and unprompted), and whose "
                    "record each matches: a training patient (leaked), the very patient of the "
                    "prompt, a non-member (what chance gives), or nobody. * marks a direct "
                    "identifier. Account, member, licence, vehicle, device and other numbers count "
                    "only after a cue word (acct #, S/N, member ID ...); biometric identifiers and "
                    "face photographs cannot occur in text and are not looked for. Values are "
                    "never shown; the findings give masked examples.")]
    exposure = as_mapping(curves.get("exposure_by_repeats"))
    if exposure:
        levels = as_list(exposure.get("repeats"))
        fields = [as_list(exposure.get(k)) for k in ("canaries", "mean", "median", "min", "max", "exposed")]
        rows = tuple((_count(level), _count(fields[0][i]), *(_bits(f[i]) for f in fields[1:5]),
                      _count(fields[5][i])) for i, level in enumerate(levels))
        blocks += [Heading("Canary exposure by insertion count", 3), Table(
            header=("Inserted (times)", "Canaries", "Mean (bits)", "Median", "Min", "Max", "Exposed"),
            rows=rows, widths=(0.18, 0.12, 0.15, 0.14, 0.13, 0.13, 0.15),
            align=(Align.RIGHT,) * 7,
            caption="Exposure = log2 |R| - log2 rank of the inserted secret among all candidates "
                    "(Carlini et al. 2019); 0 bits is chance. Exposure should not rise with the "
                    "number of insertions in a model that does not memorize.")]
    return blocks
