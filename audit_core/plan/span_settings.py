"""The [thresholds.memorized_spans] table: which records are localised, and what a span is.

Not a probe family's table: no verdict is judged by it. The localisation step
(run/memorized_spans.py) reads it after the probes, like the split check's table is read
before them, and the report prints the values it used.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.settings import param

MEMORIZED_SPANS = "memorized_spans"
# The step's progress messages, and its phase in the time estimate (kinds/estimates.py).
LOCALISATION_LABEL = "which tokens are memorized"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemorizedSpansSettings:
    records: int = param(
        20, label="Records localised per cohort", min=0, max=1000,
        help="The members the strongest membership attack scores highest (the records most at "
             "risk), and as many of the non-members it scores highest, for comparison; every "
             "extracted record is added. 0 turns the localisation off.",
        anchor="product default")
    min_contrast: float = param(
        2.0, label="Memorized when the model scores a token above its baseline by at least",
        min=0.0, max=20.0, unit="nats",
        help="log p(token) under the audited model minus the baseline's: the reference model's, "
             "or the mean the model gives the same token among non-members. 2 nats: the model "
             "finds the token over seven times likelier than the baseline does. A floor: the "
             "threshold used is also above all but the false-highlight share of non-members' tokens.",
        anchor="product default")
    false_highlight: float = param(
        0.01, label="Share of an unseen record's tokens above the threshold", min=0.0001, max=0.5,
        help="The threshold is raised until at most this share of the baseline non-members' own "
             "tokens (each held out of the baseline) would be highlighted.",
        anchor="product default")
    min_tokens: int = param(
        2, label="Shortest span", min=1, max=64, unit="tokens",
        help="A run of memorized tokens shorter than this is not a span (one lucky token is not "
             "a reproduced passage).", anchor="product default")
    max_gap: int = param(
        3, label="Gap merged inside a span", min=0, max=16, unit="tokens",
        help="Runs of memorized tokens separated by at most this many other tokens are one span: "
             "tokens every record has at that place (a visit marker, a time gap, a template word) "
             "score high for everyone, so their contrast is small even inside a reproduced passage.",
        anchor="product default")
    baseline_records: int = param(
        200, label="Non-members in the token baseline", min=10, max=100000,
        help="Without a reference model: how many non-members (none of them localised) the "
             "model scores to learn what it gives each token id when it has not seen the record.",
        anchor="product default")
