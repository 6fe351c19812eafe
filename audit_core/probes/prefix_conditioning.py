"""Scoring a record again after a prefix of other records: the extra pass of ReCaLL (Xie et
al., EMNLP 2024) and Con-ReCall (Wang et al., COLING 2025).

Both attacks ask how a record's likelihood changes when the model first reads a few other
records (the "shots"). The shared pass gives LL(x), the record's mean token log-likelihood;
this module gives LL(x | P), the mean over the same positions (every token after the first)
with the prefix P prepended, from one more forward pass per record.

* The prefix is the chosen records' token ids joined in order (each keeps its own start and
  end tokens, as in the shared pass), cut to its last `max_tokens` tokens and to at most half
  the model's context, so the record always has at least half a context to itself.
* A record that does not fit after the prefix is scored in the shared pass's overlapping
  windows (passes/token_scores.py): its first window reads the whole prefix, later windows
  read less of it or none, so only the record's beginning is fully conditioned.
* A record used in a prefix is never scored (it would be scored conditioned on itself); the
  scored records are a seeded sample of at most `max_records` per cohort, for cost.
* For a model with side inputs the events go with the ids: the prefix records' own times,
  ages and visits, then the record's (a lookup by ids could not place the record after a
  prefix).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.events import EventFeatures
from audit_core.models.tokenizer_loading import pad_token_id
from audit_core.passes.token_scores import score_tokens
from audit_core.probes.base import ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import REFERENCE_FREE, assess_membership
from audit_core.results.figures import format_count, format_share
from audit_core.settings import param
from audit_core.work.progress import Progress

# A record predicted perfectly has LL(x) = 0; the ratio's denominator is kept below this.
_LL_CEILING = -1e-9


# The settings ReCaLL and Con-ReCall share: each probe's config declares these fields with
# these functions (a frozen dataclass with slots cannot inherit another's fields).

def shots_param() -> Any:
    return param(7, label="Records in each prefix (shots)", min=1, max=64,
                 help="How many other records are joined to make the prefix; those records "
                      "are then left out of the scoring.",
                 anchor="Wang et al. 2025 (Con-ReCall), the 7-shot example of their code")


def prefix_tokens_param() -> Any:
    return param(64, label="Longest prefix (tokens)", min=1, max=65_536, unit="tokens",
                 help="The prefix keeps its last tokens up to this length, and at most half the "
                      "model's context.")


def max_records_param() -> Any:
    return param(200, label="Records scored per cohort", min=10, max=10_000_000,
                 help="A seeded sample of each cohort is scored again with the prefix (one more "
                      "forward pass per record and prefix); raise it for the full cohorts.")


def batch_size_param() -> Any:
    return param(32, label="Records per batch", min=1, max=4096)


@dataclass(frozen=True, slots=True)
class Prefix:
    ids: np.ndarray
    events: EventFeatures | None
    role: Role  # the cohort its records came from
    rows: np.ndarray  # those records' indices in the cohort


def draw_rows(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    """`count` distinct record indices out of `n` (fewer if there are not that many)."""
    return np.sort(rng.permutation(n)[:min(count, n)])


def make_prefix(ctx: ProbeContext, role: Role, rows: np.ndarray, max_tokens: int) -> Prefix:
    """The records `rows` of cohort `role` joined and cut to their last tokens (see the
    module docstring for the length)."""
    keep = max(1, min(max_tokens, ctx.causal_lm().context_length // 2))
    # No rows (a cohort of one record keeps it for scoring): an empty prefix, LL(x | P) = LL(x).
    ids = np.concatenate([np.zeros(0, dtype=np.int64)]
                         + [np.asarray(ctx.token_ids[role][i]) for i in rows])[-keep:]
    events = None
    if ctx.token_events is not None:
        joined = _joined([_no_events()] + [ctx.token_events[role][i] for i in rows])
        events = joined.take(slice(len(joined) - len(ids), None))
    return Prefix(ids=ids.astype(np.int64), events=events, role=role, rows=rows)


def conditional_loglik(ctx: ProbeContext, prefix: Prefix, role: Role, rows: np.ndarray,
                       batch_size: int, progress: Progress) -> np.ndarray:
    """LL(x | prefix) for the records `rows` of cohort `role`: the mean log-probability of
    each record's tokens after the first, read after the prefix."""
    records = [np.asarray(ctx.token_ids[role][i], dtype=np.int64) for i in rows]
    joined = [np.concatenate([prefix.ids, r]) for r in records]
    events = None
    if ctx.token_events is not None and prefix.events is not None:
        events = [_joined([prefix.events, ctx.token_events[role][i]]) for i in rows]
    scores = score_tokens(ctx.causal_lm(), joined, batch_size=batch_size,
                          pad_id=pad_token_id(ctx.text_tokenizer()), progress=progress, events=events)
    start = len(prefix.ids)  # joined position start + j is record position j; index = position - 1
    return np.array([float(np.mean(lp[start:start + len(r) - 1]))
                     for lp, r in zip(scores.logprobs, records)])


def relative(conditional: np.ndarray, unconditional: np.ndarray) -> np.ndarray:
    """A conditional log-likelihood over the record's own, LL(x | P) / LL(x) (both <= 0)."""
    return conditional / np.minimum(unconditional, _LL_CEILING)


def scored_rows(rng: np.random.Generator, n: int, excluded: np.ndarray, max_records: int) -> np.ndarray:
    """The records of a cohort to score: not in a prefix, a seeded sample of `max_records`."""
    free = np.setdiff1d(np.arange(n), excluded)
    if len(free) <= max_records:
        return free
    return np.sort(rng.choice(free, size=max_records, replace=False))


def assess_scored(ctx: ProbeContext, values: dict[Role, np.ndarray], rows: dict[Role, np.ndarray],
                  attack: str, prefixes: Sequence[Prefix], progress: Progress) -> ProbeOutcome:
    """assess_membership on the scored records only (subgroups read from those records),
    with one score per record of each cohort in the outcome (NaN: not scored) and what the
    prefixes left out said in the findings and metrics."""
    cohorts = {role: _subset(ctx.cohorts[role], rows[role]) for role in Role}
    outcome = assess_membership(values[Role.MEMBERS], values[Role.NON_MEMBERS],
                                replace(ctx, cohorts=cohorts, progress=progress), attack, REFERENCE_FREE)
    scores = {}
    for role in Role:
        full = np.full(len(ctx.cohorts[role]), np.nan)
        full[rows[role]] = values[role]
        scores[role] = full
    in_prefix = {role: sum(len(p.rows) for p in prefixes if p.role is role) for role in Role}
    metrics = {**outcome.metrics,
               "prefix_tokens": int(max(len(p.ids) for p in prefixes)),
               "prefix_members": in_prefix[Role.MEMBERS],
               "prefix_non_members": in_prefix[Role.NON_MEMBERS]}
    read = "; and again after ".join(
        f"a prefix of {format_count(len(p.rows))} {p.role.value.replace('_', '-')} "
        f"({format_count(len(p.ids))} tokens)" if len(p.rows) else
        "no prefix (a cohort too small to spare a record)" for p in prefixes)
    note = (f"Each scored record was read again after {read}; the records in a prefix are left "
            "out of the scoring. Scored: "
            f"{format_share(len(rows[Role.MEMBERS]), len(ctx.cohorts[Role.MEMBERS]))} members and "
            f"{format_share(len(rows[Role.NON_MEMBERS]), len(ctx.cohorts[Role.NON_MEMBERS]))} "
            "non-members (a seeded sample, max_records).")
    return replace(outcome, scores=scores, metrics=metrics, findings=(*outcome.findings, note))


def _subset(cohort: Cohort, rows: np.ndarray) -> Cohort:
    return replace(cohort, ids=tuple(cohort.ids[i] for i in rows),
                   sequences=tuple(cohort.sequences[i] for i in rows),
                   subgroups={name: values[rows] for name, values in cohort.subgroups.items()},
                   events=None if cohort.events is None else tuple(cohort.events[i] for i in rows))


def _no_events() -> EventFeatures:
    return EventFeatures(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))


def _joined(parts: Sequence[EventFeatures]) -> EventFeatures:
    return EventFeatures(np.concatenate([p.time_days for p in parts]),
                         np.concatenate([p.age_years for p in parts]),
                         np.concatenate([p.visit for p in parts]))
