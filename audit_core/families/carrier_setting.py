"""The one setting T2 (attribute family) and T6 (subgroup family) share: when a sensitive
carrier is named (clinical/carrier_disclosure.py). Declared once so the two tables cannot
drift apart; each family's thresholds dataclass holds its own field built here."""

from __future__ import annotations

from audit_core.settings import param


def carrier_top_rank() -> int:
    """The `carrier_top_rank` threshold field (a dataclass field typed as its value)."""
    return param(
        3, label="Named carrier: code ranked at most", min=1, max=1_000_000,
        help="A member carrier of a sensitive category is named as a memorised diagnosis when "
             "the model ranks their code among this many first codes after the rest of their "
             "record (sensitive codes removed), better than for every non-member carrying the "
             "category (at least one), and no non-member examined gets as high a probability of "
             "that code. A named "
             "member moves the verdict to WARN at least.",
        anchor="product default: the code among the model's first three choices, above every "
               "non-member control")
