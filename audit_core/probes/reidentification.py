"""Quasi-identifier re-identification: do generated records single out training patients?

Singling out (Article 29 Working Party Opinion 05/2014; EMA Policy 0070 risk model,
2016): sample records from the model without a prompt, read each one's
quasi-identifiers (age band, sex, region or site, rare diagnoses, full dates; see
`quasi_identifiers`) and count how often the combination matches exactly one member,
the "prosecutor" uniqueness of Sweeney ("k-anonymity", 2002) and El Emam (2008). The
control is the same count against the non-members: a model that generates plausible
records of the population singles out a non-member as often as a member; one that
reproduces its training patients singles out members. The difference is tested on
paired outcomes (exact McNemar) with a paired bootstrap interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.families.reidentification import ReidentificationThresholds
from audit_core.generation import Request
from audit_core.probes.base import Headline, Needs, ProbeContext, ProbeOutcome
from audit_core.probes.quasi_identifiers import (
    QuasiIdentifierIndex,
    code_quasi_identifiers,
    rare_tokens,
    text_quasi_identifiers,
)
from audit_core.probes.sampled_records import (
    continuation_requests,
    decode,
    sample_continuations,
    start_prompt,
    stop_ids,
)
from audit_core.results.figures import (
    format_count,
    format_p_value,
    format_percent,
    format_share,
    format_signed_percent,
    format_signed_percent_interval,
)
from audit_core.results.verdicts import Verdict
from audit_core.settings import param
from audit_core.stats.intervals import clopper_pearson

_RESAMPLES = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class ReidentificationConfig:
    generated: int = param(200, label="Generated records", min=10, max=1_000_000,
                           help="Records sampled from the start token alone (no prompt).")
    max_tokens: int = param(100, label="Tokens per generated record (at most)", min=4, max=100_000)
    temperature: float = param(0.7, label="Sampling temperature", min=0.05, max=5.0,
                               help="Below 1 the samples favour what the model holds most strongly, "
                                    "as an extraction attacker would (Carlini et al. 2021).")
    top_p: float = param(1.0, label="Nucleus (top-p) mass", min=0.01, max=1.0)
    code_max_share: float = param(0.05, label="Code counts as a quasi-identifier below this share",
                                  min=0.0001, max=1.0,
                                  help="Codes held by at most this share of all records (members "
                                       "and non-members together, so that rarity favours neither) "
                                       "are quasi-identifiers; common codes single out nobody.")
    batch_size: int = param(64, label="Sequences per batch", min=1, max=4096)


class Reidentification:
    id = "reidentification"
    title = "Quasi-identifier re-identification"
    family = Family.REIDENTIFICATION
    question = ("Do records the model generates single out one training patient by their "
                "quasi-identifiers, more often than they single out a patient it never saw?")
    citation = "Sweeney 2002; Article 29 WP Opinion 05/2014; El Emam 2008"
    config_type = ReidentificationConfig
    needs = Needs(generation=True)
    weight = 10.0

    def generation(self, config: ReidentificationConfig, ctx: ProbeContext) -> list[Request]:
        """The generated records: one continuation of the start prompt each."""
        return _requests(config, ctx)

    def run(self, config: ReidentificationConfig, ctx: ProbeContext) -> ProbeOutcome:
        kind = ctx.columns.kind if ctx.columns is not None else "codes"
        extract = _extractor(kind, ctx, config.code_max_share)
        indices = {role: QuasiIdentifierIndex([extract(s) for s in ctx.cohorts[role].sequences])
                   for role in Role}
        drawn = [samples[0] for samples in sample_continuations(
            ctx, _requests(config, ctx), ctx.progress.slice(0.0, 0.9), "generating records")]
        unique = {role: np.zeros(len(drawn), dtype=bool) for role in Role}
        hits = {role: np.zeros(len(ctx.cohorts[role])) for role in Role}
        sizes = []
        for g, sample in enumerate(drawn):
            qis = extract(_as_text(ctx, sample))
            sizes.append(len(qis))
            for role in Role:
                matched = indices[role].matches(qis)
                if len(matched) == 1:
                    unique[role][g] = True
                    hits[role][next(iter(matched))] += 1
        ctx.progress.advance(1.0, "matching quasi-identifiers")
        initial = _initial_risk(indices[Role.MEMBERS], [extract(s) for s in ctx.cohorts[Role.MEMBERS].sequences])
        return _assess(ctx, unique, hits, initial, np.array(sizes))


def _extractor(kind: str, ctx: ProbeContext, max_share: float):
    if kind == "text":
        return text_quasi_identifiers
    records = [s.split() for role in Role for s in ctx.cohorts[role].sequences]
    rare = rare_tokens(records, max(1, int(max_share * len(records))))
    demographic = {str(v) for role in Role for values in ctx.cohorts[role].subgroups.values()
                   for v in values}
    return lambda text: code_quasi_identifiers(text.split(), rare, demographic)


def _as_text(ctx: ProbeContext, sample: np.ndarray) -> str:
    if ctx.tokenizer is not None:
        return decode(ctx.tokenizer, sample)
    return " ".join(str(int(i)) for i in sample)


def _initial_risk(index: QuasiIdentifierIndex, records: list[frozenset[str]]) -> float:
    """Share of members unique in their own cohort on their quasi-identifiers."""
    if not records:
        return 0.0
    return float(np.mean([len(index.matches(q)) == 1 for q in records]))


def _requests(config: ReidentificationConfig, ctx: ProbeContext) -> list[Request]:
    """`generated` records, each one continuation of the start prompt with its own seed
    (one prompt run once: its cache serves them all)."""
    start = start_prompt(ctx.tokenizer) if ctx.tokenizer is not None else None
    if start is None:
        start = np.asarray([ctx.token_ids[Role.MEMBERS][0][0]], dtype=np.int64)
    steps = min(config.max_tokens, ctx.causal_lm().context_length - len(start))
    return continuation_requests(
        [start] * config.generated, [ctx.request_seed("record", g) for g in range(config.generated)],
        steps=steps, n=1, temperature=config.temperature, top_p=config.top_p,
        stops=stop_ids(ctx.tokenizer) if ctx.tokenizer is not None else ())


def _assess(ctx: ProbeContext, unique, hits, initial: float, sizes: np.ndarray) -> ProbeOutcome:
    from scipy.stats import binomtest

    t = ctx.thresholds_of(ReidentificationThresholds)
    n = len(unique[Role.MEMBERS])
    um, un = unique[Role.MEMBERS], unique[Role.NON_MEMBERS]
    k_m, k_n = int(um.sum()), int(un.sum())
    only_m, only_n = int((um & ~un).sum()), int((un & ~um).sum())
    # Exact McNemar on the discordant pairs: one generated record, two outcomes.
    p_value = float(binomtest(only_m, only_m + only_n, 0.5, alternative="greater").pvalue) \
        if only_m + only_n else 1.0
    difference = (k_m - k_n) / n if n else 0.0
    boot = np.empty(_RESAMPLES)
    diff = um.astype(float) - un.astype(float)
    for i in range(_RESAMPLES):
        boot[i] = diff[ctx.rng.integers(0, n, n)].mean() if n else 0.0
    low, high = (float(x) for x in np.percentile(boot, [2.5, 97.5]))
    singled = int((hits[Role.MEMBERS] > 0).sum())
    n_members = len(hits[Role.MEMBERS])
    # The rates are over the generated records, not over the cohorts: each names its
    # denominator (`<metric>_n`) so that the report prints the n actually used.
    metrics: dict[str, object] = {
        "generated_records": n,
        "records_singling_out_members": k_m,
        "records_singling_out_non_members": k_n,
        "mean_quasi_identifiers_per_record": float(sizes.mean()) if len(sizes) else 0.0,
        "mean_quasi_identifiers_per_record_n": n,
        "singling_out_rate_members": k_m / n if n else None,
        "singling_out_rate_members_ci": list(clopper_pearson(k_m, n)),
        "singling_out_rate_members_n": n,
        "singling_out_rate_non_members": k_n / n if n else None,
        "singling_out_rate_non_members_ci": list(clopper_pearson(k_n, n)),
        "singling_out_rate_non_members_n": n,
        "rate_difference": difference,
        "rate_difference_ci": [low, high],
        "rate_difference_n": n,
        "mcnemar_p_value": p_value,
        "mcnemar_p_value_n": n,
        "members_singled_out": singled,
        "n_members": n_members,
        "n_non_members": len(hits[Role.NON_MEMBERS]),
        "initial_risk_members_unique": initial,
        "initial_risk_members_unique_n": n_members,
    }
    findings = [
        f"Of {format_count(n)} records generated without a prompt, {format_count(k_m)} single out "
        f"exactly one member by their quasi-identifiers and {format_count(k_n)} exactly one "
        f"non-member (the control): difference {format_signed_percent(difference)} (95% paired "
        f"bootstrap {format_signed_percent_interval((low, high))}; exact McNemar p = "
        f"{format_p_value(p_value)}).",
        f"{format_count(singled)} distinct members were singled out. Initial risk: "
        f"{format_percent(initial)} of members are unique in their cohort on their own "
        f"quasi-identifiers; the residual risk is what the model adds beyond the control.",
    ]
    if n == 0:
        verdict = Verdict.INCONCLUSIVE
    elif p_value < t.alpha and low > t.fail_rate_difference:
        verdict = Verdict.FAIL
    elif p_value < t.alpha:
        verdict = Verdict.WARN
    elif high <= t.fail_rate_difference:
        verdict = Verdict.PASS
    else:
        verdict = Verdict.INCONCLUSIVE
        findings.append(f"No significant excess, but the interval "
                        f"({format_signed_percent_interval((low, high))}) reaches above the "
                        f"{format_percent(t.fail_rate_difference)} residual-risk threshold: "
                        "generate more records.")
    headline = Headline(label="Singling-out rate, members minus non-members", value=difference,
                        text=f"{format_share(k_m, n)} generated records single out a member vs "
                             f"{format_count(k_n)} a non-member")
    extracted = tuple((Role.MEMBERS, int(i)) for i in np.nonzero(hits[Role.MEMBERS] > 0)[0])
    return ProbeOutcome(verdict=verdict, headline=headline, metrics=metrics,
                        findings=tuple(findings), scores=hits, extracted=extracted)
