"""The sensitive carriers a probe named as memorised diagnoses (T2, T6: the "carriers"
of results.json, probes.carrier_assessment), by keyed pseudonym (`ref`) only: the record
`id` is a patient identifier and is never read here. Carriers not named are counted in the
findings; their figures stay in results.json and records.csv on the workstation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Align, Block, Code, Heading, Paragraph, Table, TextStyle
from .values import (
    as_list,
    as_mapping,
    as_text,
    format_count,
    format_p_value,
    format_probability,
    format_rank,
)


def carrier_blocks(probe: Mapping[str, Any], limit: int) -> list[Block]:
    """A heading and the table of named carriers; nothing for a probe without carriers."""
    carriers = [as_mapping(c) for c in as_list(probe.get("carriers"))]
    if not carriers:
        return []
    named = [c for c in carriers if c.get("named") is True]
    blocks: list[Block] = [Heading("Sensitive diagnoses named", 3)]
    if not named:
        # Named by its test: T2 and T6 both carry this section, and a regulator reading one
        # paragraph twice cannot tell which test it speaks for.
        return blocks + [Paragraph(f"{as_text(probe.get('title'), 'This test')} named no carrier of "
                                   "a sensitive category: no member's sensitive code stood out "
                                   "against the non-members.", TextStyle.SMALL)]
    listed = named[:limit]
    rows = tuple((Code(as_text(c.get("ref"), "(no reference)")),
                  as_text(c.get("label") or c.get("category")), format_rank(c.get("rank")),
                  format_probability(c.get("probability")),
                  format_rank(c.get("best_other_carrier_rank")), format_p_value(c.get("p_value")))
                 for c in listed)
    more = len(named) - len(listed)
    return blocks + [Table(
        header=("Member", "Category", "Rank", "Probability", "Best non-member rank", "Empirical p"),
        rows=rows, widths=(0.2, 0.3, 0.08, 0.12, 0.17, 0.13),
        align=(Align.LEFT, Align.LEFT, Align.RIGHT, Align.RIGHT, Align.RIGHT, Align.RIGHT),
        caption=(f"{format_count(len(named))} member carrier(s) named by "
                 f"{as_text(probe.get('title'), 'this test')}, by keyed pseudonym: with every "
                 "sensitive code "
                 "removed, the model ranks the member's code among its first codes after the rest "
                 "of the record, above every non-member examined (rank 1: its first choice)"
                 + (f"; {format_count(more)} more not listed here." if more > 0 else ".")))]
