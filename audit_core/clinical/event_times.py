"""Real time in the clinical tests (issue 20, section 3): on event data (MEDS), T1's
time-aware distance, the attacker-knowledge tiers and T5's time and age perturbations
read the events' own timestamps and ages (`data.events.EventFeatures`, aligned with the
token ids as `ProbeContext.token_events`) instead of GAP_* tokens. Without events (files
of codes) every function here gives exactly what `clinical.record_layout` gives.

* The true continuation's times (T1): each code's event time in years since the end of
  the prompt (the last timed prompt token; with no timed prompt token, the continuation's
  first). A generated continuation has no timestamps: its times come from the
  vocabulary's time tokens when it has them (`RecordLayout.codes_and_times`), else every
  generated code sits at the time of the last prompt token (0 years after it).
* The demographics tier: the record's static words (`EventFeatures.static`: rows with no
  time, such as sex and birth), after the start token(s).
* T5's perturbations: the prompt's event times shifted by one year either way, and the
  ages by the age offsets, given to the model with the prompt (`events=`). A model that
  reads no time or age input ignores them: the perturbation is then not applicable, and
  none is made (`perturbs_events`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audit_core.clinical.prompt_variants import YEAR_OFFSETS, Variant
from audit_core.clinical.record_layout import DEMOGRAPHICS, RecordLayout, Tier
from audit_core.data.events import DAYS_PER_YEAR, EventFeatures

Trajectory = tuple[np.ndarray, np.ndarray]  # codes, times in years since the prompt ended
TIME_SHIFT_YEARS = (-1, 1)


def prompt_length(layout: RecordLayout, ids: np.ndarray, tier: Tier,
                  events: EventFeatures | None = None) -> int | None:
    """`RecordLayout.prompt_length`, but on event data the demographics tier is the start
    token(s) and the static words that follow them."""
    if events is None or tier.name != DEMOGRAPHICS:
        return layout.prompt_length(ids, tier)
    start = layout.leading(ids, layout.start_ids)
    static = events.static
    length = start
    while length < len(ids) and length < len(static) and static[length] and int(ids[length]) not in layout.stop_ids:
        length += 1
    body_end = len(ids) - (1 if len(ids) and int(ids[-1]) in layout.stop_ids else 0)
    return length if 0 < length < body_end else None


def truth_trajectory(layout: RecordLayout, ids: np.ndarray, prompt: int, horizon: int,
                     events: EventFeatures | None = None) -> Trajectory:
    """The record's true continuation after `prompt` tokens (`horizon` of them): its codes
    and their times, from the events when given, else from the gap tokens."""
    if events is None:
        return layout.codes_and_times(ids[prompt:prompt + horizon])
    structural = layout.structural_ids
    years = events.time_days / DAYS_PER_YEAR
    before = years[:prompt][~np.isnan(years[:prompt])]
    codes, times = [], []
    for position in range(prompt, min(prompt + horizon, len(ids))):
        token = int(ids[position])
        if token < 0 or token in layout.stop_ids:
            break
        if token not in structural:
            codes.append(token)
            times.append(years[position])
    times_array = np.asarray(times, dtype=np.float64)
    timed = times_array[~np.isnan(times_array)]
    origin = before[-1] if len(before) else (timed[0] if len(timed) else 0.0)
    # A static word after the prompt (rare) has no time: it sits at the prompt's end.
    return np.asarray(codes, dtype=np.int64), np.nan_to_num(times_array - origin, nan=0.0)


def generated_trajectory(layout: RecordLayout, tokens: np.ndarray) -> Trajectory:
    """A sampled continuation: times from the vocabulary's time tokens; without any, every
    code at the last prompt token's time (0)."""
    return layout.codes_and_times(tokens)


def prompt_events(record: np.ndarray, events: EventFeatures, removed: np.ndarray, length: int) -> EventFeatures:
    """The events of a prompt built as `sensitive_signal.without(record[:cut], removed)`
    (`length` tokens): the record's kept positions, in order (the start token always kept)."""
    keep = ~np.isin(record, removed)
    keep[:1] = True
    return events.take(np.flatnonzero(keep)[:length])


def perturbs_events(model) -> bool:
    """Whether the model reads time or age inputs (a side-input export): only then can a
    change of the events' times or ages change its output."""
    return bool(getattr(model, "needs_events", False))


def shifted_times(events: EventFeatures, years: float) -> EventFeatures:
    """Every event `years` later (static rows stay without time); ages unchanged."""
    return EventFeatures(events.time_days + years * DAYS_PER_YEAR, events.age_years, events.visit)


def shifted_ages(events: EventFeatures, years: float) -> EventFeatures:
    """The patient `years` older at every event (unknown ages stay unknown)."""
    return EventFeatures(events.time_days, events.age_years + years, events.visit)


def record_events(token_events, role) -> Sequence[EventFeatures] | None:
    """A cohort's aligned events, or None without event data."""
    return None if token_events is None else token_events[role]


def event_variants(ids: np.ndarray, events: EventFeatures,
                   age_offsets: Sequence[int] = YEAR_OFFSETS) -> list[Variant]:
    """T5's variants of a prompt on event data: the same ids, the events' times shifted by
    one year either way, then the ages by each offset (exact years)."""
    variants = [Variant("time", int(shift), "years", ids, events=shifted_times(events, shift))
                for shift in TIME_SHIFT_YEARS if not np.isnan(events.time_days).all()]
    if not np.isnan(events.age_years).all():
        variants += [Variant("age", int(offset), "years", ids, events=shifted_ages(events, offset))
                     for offset in age_offsets]
    return variants


def variant_events(base: EventFeatures, variant: Variant) -> EventFeatures:
    """The events that go with a variant's ids: its own, or the prompt's with the left-out
    token's taken out too."""
    if variant.events is not None:
        return variant.events
    if variant.kind == "leave_one_out":
        return base.take(np.delete(np.arange(len(base)), variant.offset))
    return base
