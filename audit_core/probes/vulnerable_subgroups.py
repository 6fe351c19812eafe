"""Vulnerable subgroups (T6): are some patients memorized more than the cohort as a whole?

Tonekaboni et al., "An Investigation of Memorization Risk in Healthcare Foundation
Models", NeurIPS 2025, test T6: rare conditions and the very old are the patients a
model can single out (Carlini et al., "The Secret Sharer", USENIX Security 2019: rare
sequences are the ones memorized). Strata: every value of every declared subgroup
column, carriers of a code seen in at most k members (the training count, as far as
the audit can see it), age over 85 and 90 and over (HIPAA Safe Harbor's age limit), and
the carriers of each sensitive category (`probes.vulnerable_strata`).

Per stratum two metrics, each with a 95% interval: membership (the LOSS score's AUC,
members against non-members, through `membership_strata.assess_strata`) and sensitive
disclosure (the T2 signal's AUROC for the patient's own categories, members minus
non-members). What T6 adds is the disparity: each metric in the stratum minus the same
metric in the whole cohort, with a paired bootstrap and a one-sided p-value,
Benjamini-Hochberg across strata; a stratum is flagged on the one-sided lower bound that
matches its q-value, and that bound is what the report prints
(`probes.vulnerable_assessment`). Cells under `min_cell` patients are suppressed, counts
too; the stratum with the strongest evidence is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audit_core.clinical.carrier_disclosure import carriers_of
from audit_core.clinical.record_layout import build_layout
from audit_core.clinical.sensitive_inputs import (
    carrier_masks,
    check_prompt_fits,
    sensitive_inputs,
    signal_requests_of,
    signals_of,
)
from audit_core.clinical.sensitive_signal import SIGNAL_TOPIC
from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.families.subgroups import SubgroupThresholds
from audit_core.generation import Request
from audit_core.passes.chunked_scoring import mean_logprobs
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.carrier_assessment import carrier_disclosure, examined_in, with_carriers
from audit_core.probes.clinical_context import vocabulary_of
from audit_core.probes.membership_strata import assess_strata
from audit_core.probes.vulnerable_assessment import SIGNALS, flag_strata, vulnerable_outcome
from audit_core.probes.vulnerable_strata import vulnerable_strata
from audit_core.settings import param
from audit_core.stats.bootstrap_curves import RankedAuc
from audit_core.stats.disparity import evaluate_once, stratum_disparity


@dataclass(frozen=True, slots=True, kw_only=True)
class VulnerableSubgroupsConfig:
    prompt_tokens: int = param(20, label="Prompt length (codes)", min=1, max=100_000,
                               help="The sensitive-disclosure signal (T2) is read from the "
                                    "record's first codes, sensitive codes removed.")
    code_sets: str = param("", label="Sensitive code sets (edits to the built-in ones)",
                           help="'name=prefix,prefix;name=' adds or replaces a category, or drops "
                                "it; empty keeps the built-in sets (ICD-10 prefixes, icd9:042 for ICD-9; clinical.code_sets).",
                           anchor="Tonekaboni et al. 2025 (T2) categories, plus reproductive health")
    horizon: int = param(24, label="Continuation length (tokens)", min=1, max=100_000)
    samples: int = param(4, label="Continuations per patient", min=1, max=1000,
                         help="Sampled continuations behind each patient's disclosure signal.")
    temperature: float = param(1.0, label="Sampling temperature", min=0.0, max=10.0,
                               anchor="Tonekaboni et al. 2025: temperature 1.0")
    top_p: float = param(0.95, label="Nucleus (top-p) mass", min=0.01, max=1.0,
                         anchor="Tonekaboni et al. 2025: top-p 0.95")
    max_records: int = param(100, label="Patients without a sensitive code screened per cohort",
                             min=0, max=10_000_000,
                             help="The T2 signal and the carrier disclosure figure are computed "
                                  "for every carrier of a sensitive category; this bounds the "
                                  "seeded random subset of the others (0: every record). "
                                  "Membership uses every record.")
    resamples: int = param(1000, label="Bootstrap resamples", min=100, max=100_000)
    batch_size: int = param(256, label="Sequences per decoding batch", min=1, max=65_536)


class VulnerableSubgroups:
    id = "vulnerable_subgroups"
    title = "Vulnerable subgroups (T6)"
    family = Family.SUBGROUPS
    question = ("Are some patients (rare conditions, the very old, carriers of sensitive "
                "diagnoses, any declared subgroup) easier to single out, or to expose, than "
                "the cohort as a whole?")
    citation = "Tonekaboni et al., NeurIPS 2025 (test T6)"
    config_type = VulnerableSubgroupsConfig
    needs = Needs(token_scores=True, generation=True)
    weight = 10.0

    def validate(self, config: VulnerableSubgroupsConfig, context_length: int) -> None:
        check_prompt_fits(self.id, config, context_length)

    def reduce(self, config: VulnerableSubgroupsConfig, target: TokenScores,
               reference: TokenScores | None) -> np.ndarray:
        return mean_logprobs(target)  # LOSS, compared stratum by stratum

    def generation(self, config: VulnerableSubgroupsConfig, ctx: ProbeContext) -> list[Request]:
        """The disclosure signal's continuations for the screened patients."""
        inputs = sensitive_inputs(ctx, config.prompt_tokens, config.code_sets, f"probes.{self.id}.code_sets")
        return [r for _, requests in _screen(config, ctx, inputs).values() for r in requests]

    def run(self, config: VulnerableSubgroupsConfig, ctx: ProbeContext) -> ProbeOutcome:
        ctx.progress.advance(0.0, "membership scores")
        loss = {r: ctx.reduced[r] for r in Role}
        inputs = sensitive_inputs(ctx, config.prompt_tokens, config.code_sets,
                                  f"probes.{self.id}.code_sets")
        signal, screened = {}, {}
        ctx.progress.advance(0.05, "sensitive disclosure signal")
        for role, (examined, requests) in _screen(config, ctx, inputs).items():
            screened[role] = examined
            signal[role] = np.zeros((len(loss[role]), len(inputs.categories)))
            signal[role][examined] = signals_of(inputs, ctx.generate(requests), len(examined))
        t = ctx.thresholds_of(SubgroupThresholds)
        strata = vulnerable_strata(ctx.cohorts, t.rare_code_max_members, carrier_masks(inputs),
                                   inputs.names, t.min_cell)
        rows = assess_strata(strata, loss[Role.MEMBERS], loss[Role.NON_MEMBERS], None, None, t,
                             ctx.rng)
        labels = {}
        for role in Role:  # T2's labels; NaN (left out) for patients not screened
            labels[role] = np.full((len(loss[role]), len(inputs.categories)), np.nan)
            if inputs.categories:
                stacked = np.stack([inputs.after[role][c] for c in inputs.categories], axis=1)
                labels[role][screened[role]] = stacked[screened[role]]
        membership = RankedAuc(loss[Role.MEMBERS], loss[Role.NON_MEMBERS])  # the LOSS AUC
        disclosure = _DisclosureStatistic(signal, labels, inputs.eligible)
        draws: dict[str, list[np.ndarray | None]] = {key: [None] * len(rows) for key, _ in SIGNALS}
        for index, (stratum, row) in enumerate(zip(strata, rows)):
            ctx.progress.advance(0.75 + 0.25 * index / max(len(strata), 1), "disparities")
            _clear(row)
            if row["suppressed"]:
                continue
            d = stratum_disparity(membership, stratum.members, stratum.non_members, ctx.rng,
                                  config.resamples, keep_draws=True)
            row.update({"auc_disparity": d["value"], "auc_disparity_p_value": d["p_value"]})
            draws["auc_disparity"][index] = d["draws"]
            inside = evaluate_once(disclosure, stratum.members.astype(np.int64),
                                   stratum.non_members.astype(np.int64))
            row["disclosure_gap"] = inside if np.isfinite(inside) else None
            if row["disclosure_gap"] is not None:
                s = stratum_disparity(disclosure, stratum.members, stratum.non_members, ctx.rng,
                                      config.resamples, keep_draws=True)
                row.update({"disclosure_gap_disparity": s["value"],
                            "disclosure_gap_disparity_p_value": s["p_value"]})
                draws["disclosure_gap_disparity"][index] = s["draws"]
        confidence = flag_strata(rows, draws, t.subgroup_fdr)
        everyone = {r: np.ones(len(loss[r]), dtype=np.int64) for r in Role}
        overall_auc = evaluate_once(membership, everyone[Role.MEMBERS], everyone[Role.NON_MEMBERS])
        overall_gap = evaluate_once(disclosure, everyone[Role.MEMBERS], everyone[Role.NON_MEMBERS])
        verdict, headline, metrics, findings = vulnerable_outcome(
            rows, confidence, overall_auc, overall_gap,
            (len(loss[Role.MEMBERS]), len(loss[Role.NON_MEMBERS])), t)
        outcome = ProbeOutcome(verdict=verdict, headline=headline, metrics=metrics,
                               findings=tuple(findings), scores=dict(loss), subgroups=tuple(rows))
        vocabulary = vocabulary_of(ctx)
        figures = carrier_disclosure(ctx, build_layout(vocabulary), inputs.categories, screened,
                                     top_rank=t.carrier_top_rank, batch_size=config.batch_size)
        # T6 reads a named carrier as its sensitive-carriers stratum exposed: WARN, never FAIL
        # on one case (probes.carrier_assessment).
        return with_carriers(outcome, figures, labels=inputs.names,
                             code_names={i: token for token, i in vocabulary.items()},
                             top_rank=t.carrier_top_rank, test="T6")


def _clear(row: dict[str, Any]) -> None:
    # The strata test's own q (AUC above 0.5 within the stratum) answers another question
    # than T6's; left in, it would read as the q behind the flag.
    for key in ("p_value", "q_value", "significant"):
        row.pop(key, None)
    for key in ("auc_disparity", "disclosure_gap", "disclosure_gap_disparity"):
        row.setdefault(key, None)
    for key, _name in SIGNALS:
        row.setdefault(key + "_p_value", None)


class _DisclosureStatistic:
    """Members' pair AUROC minus non-members', over records long enough to be continued.

    A pair AUROC is over (patient, category) pairs: the signal for categories the patient
    has after the prompt (label 1) against those they have nowhere (0); NaN labels are
    left out. A pair counts as often as its patient is drawn; NaN without a pair of
    either label."""

    def __init__(self, signal: dict[Role, np.ndarray], labels: dict[Role, np.ndarray],
                 eligible: dict[Role, np.ndarray]) -> None:
        self._owners, self._auc = {}, {}
        for role in Role:
            positive = (labels[role] == 1.0) & eligible[role][:, None]
            negative = (labels[role] == 0.0) & eligible[role][:, None]
            self._auc[role] = RankedAuc(signal[role][positive], signal[role][negative])
            # The negative pairs' owners already in the AUC's score order: one gather per
            # resample block instead of two.
            self._owners[role] = np.nonzero(positive)[0], np.nonzero(negative)[0][self._auc[role].order]
        self.width = sum(a.width for a in self._auc.values()) + sum(
            len(p) + len(n) for p, n in self._owners.values())

    def __call__(self, counts_m: np.ndarray, counts_n: np.ndarray) -> np.ndarray:
        gaps = [self._auc[role].ranked(np.take(counts, self._owners[role][0], axis=1),
                                       np.take(counts, self._owners[role][1], axis=1))
                for role, counts in ((Role.MEMBERS, counts_m), (Role.NON_MEMBERS, counts_n))]
        return gaps[0] - gaps[1]


def _screen(config: VulnerableSubgroupsConfig, ctx: ProbeContext,
            inputs) -> dict[Role, tuple[np.ndarray, list[Request]]]:
    """Per cohort, the patients screened for the disclosure signal and their requests."""
    out = {}
    for role in Role:
        rows = examined_in(ctx, role, carriers_of(ctx.token_ids[role], inputs.sensitive_ids), config.max_records)
        out[role] = (rows, signal_requests_of(
            inputs, [inputs.prompts[role][i] for i in rows], [ctx.prompt_seed(SIGNAL_TOPIC, inputs.prompts[role][i]) for i in rows],
            horizon=config.horizon, samples=config.samples, temperature=config.temperature,
            top_p=config.top_p))
    return out
