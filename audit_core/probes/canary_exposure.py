"""Canary exposure: how far did the model memorize secrets inserted into its training data?

Carlini, Liu, Erlingsson, Kos and Song, "The Secret Sharer: Evaluating and Testing
Unintended Memorization in Neural Networks" (USENIX Security 2019). Before training,
the hospital inserts the canaries that `mnemoscope canaries` made (each a given number
of times); after training this probe rebuilds them from the secret seed and ranks each
canary's secret among every other secret of its randomness space by the model's
log-perplexity. Exposure = log2 |R| - log2 rank: 0 bits is chance, log2 |R| bits means
the model ranks the inserted secret first. Secrets never leave the probe: results hold
exposures, ranks and insertion counts only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit_core.canaries.design import render
from audit_core.canaries.exposure import (
    all_secrets,
    estimated_exposure,
    exact_exposure,
    log_perplexities,
    symbol_tree,
    tree_log_perplexities,
)
from audit_core.canaries.files import load_canary_set
from audit_core.data.cohort import Role
from audit_core.errors import PlanError
from audit_core.families import Family
from audit_core.families.canaries import CanaryThresholds
from audit_core.models.tokenizer_loading import unknown_token_id
from audit_core.probes.base import Headline, Needs, ProbeContext, ProbeOutcome
from audit_core.results.figures import format_bits, format_count, format_general, format_share
from audit_core.results.verdicts import Verdict
from audit_core.settings import param


@dataclass(frozen=True, slots=True, kw_only=True)
class CanaryExposureConfig:
    manifest: str = param("", label="Canary manifest (manifest.json)",
                          help="Written by `mnemoscope canaries`; a relative path is read from "
                               "the plan file's folder. The seed file it names is read from the "
                               "path recorded in it (relative to the manifest).")
    max_enumerate: int = param(100_000, label="Largest randomness space ranked exactly", min=2,
                               max=10_000_000,
                               help="Larger spaces are estimated from a sample (skew-normal fit).")
    estimate_samples: int = param(2_000, label="Candidates sampled for the estimate", min=50,
                                  max=10_000_000)
    batch_size: int = param(256, label="Candidates per batch", min=1, max=65_536)


class CanaryExposure:
    id = "canary_exposure"
    title = "Canary exposure (Secret Sharer)"
    family = Family.CANARIES
    question = ("How strongly did the model memorize synthetic canary records inserted into its "
                "training data, by how often they were inserted?")
    citation = "Carlini et al., USENIX Security 2019"
    config_type = CanaryExposureConfig
    needs = Needs(canaries=True)
    weight = 10.0
    path_settings = ("manifest",)  # resolved against the plan's folder (plan.parsing.PROBE_PATH_SETTINGS)

    def validate(self, config: CanaryExposureConfig, context_length: int) -> None:
        if not config.manifest:
            raise PlanError("'probes.canary_exposure.manifest' is required: the manifest.json "
                            "that `mnemoscope canaries` wrote before training")
        canary_set, canaries = load_canary_set(Path(config.manifest))
        longest = max(len(c.prefix) for c in canaries) + len(canary_set.lead) + canary_set.secret_length
        if longest + 2 > context_length:
            raise PlanError(f"'probes.canary_exposure': canaries of {longest} symbols do not fit "
                            f"the model's context of {context_length} tokens")

    def run(self, config: CanaryExposureConfig, ctx: ProbeContext) -> ProbeOutcome:
        model, tokenizer = ctx.causal_lm(), ctx.text_tokenizer()
        self.validate(config, model.context_length)
        canary_set, canaries = load_canary_set(Path(config.manifest))
        if ctx.columns is not None and ctx.columns.kind != canary_set.kind:
            raise PlanError(f"'probes.canary_exposure': the canaries are {canary_set.kind} records "
                            f"but data.columns.kind is '{ctx.columns.kind}'")
        unk = unknown_token_id(tokenizer)
        if unk is not None:
            encoded = tokenizer.encode(" ".join(canary_set.alphabet), add_special_tokens=False).ids
            if unk in encoded:
                raise PlanError("'probes.canary_exposure': the model's tokenizer does not know every "
                                "symbol of the canaries' alphabet; the canaries were made for another "
                                "cohort or tokenizer")
        space = canary_set.space_size
        exact = space <= config.max_enumerate
        size = len(canary_set.alphabet)
        exposures, ranks = [], []
        for done, canary in enumerate(canaries):
            truth = render(canary_set, canary.prefix, canary.secret)
            tree = symbol_tree(tokenizer, canary_set.alphabet, truth, canary.secret) if exact else None
            if tree is not None:  # one token per symbol: expand the tree of partial secrets
                scores = tree_log_perplexities(model, tree[0], tree[1], canary_set.secret_length,
                                               config.batch_size)
            elif exact:
                texts = [render(canary_set, canary.prefix, s)
                         for s in all_secrets(size, canary_set.secret_length)]
                scores = log_perplexities(model, tokenizer, texts, config.batch_size)
            if exact:
                position = sum(s * size ** (canary_set.secret_length - 1 - i)
                               for i, s in enumerate(canary.secret))
                bits, rank = exact_exposure(scores[position], scores, space)
            else:
                draws = ctx.rng.integers(0, size, size=(config.estimate_samples, canary_set.secret_length))
                texts = [truth] + [render(canary_set, canary.prefix, tuple(int(x) for x in row))
                                   for row in draws]
                scores = log_perplexities(model, tokenizer, texts, config.batch_size)
                bits = estimated_exposure(scores[0], scores[1:], space)
                rank = None
            exposures.append(bits)
            ranks.append(rank)
            ctx.progress.advance((done + 1) / len(canaries), "ranking canaries among their candidates")
        return _assess(ctx, canary_set, canaries, np.array(exposures), ranks, exact,
                       config.estimate_samples)


def _assess(ctx: ProbeContext, canary_set, canaries, exposures: np.ndarray, ranks, exact: bool,
            samples: int) -> ProbeOutcome:
    t = ctx.thresholds_of(CanaryThresholds)
    repeats = np.array([c.repeats for c in canaries])
    space_bits = canary_set.space_bits
    needed = math.log2(len(canaries) / t.alpha)
    exposed = exposures >= needed
    levels = sorted({int(r) for r in repeats})
    table = {"repeats": [float(r) for r in levels], "canaries": [], "mean": [], "median": [],
             "min": [], "max": [], "exposed": []}
    for level in levels:
        values = exposures[repeats == level]
        table["canaries"].append(float(len(values)))
        table["mean"].append(float(values.mean()))
        table["median"].append(float(np.median(values)))
        table["min"].append(float(values.min()))
        table["max"].append(float(values.max()))
        table["exposed"].append(float(exposed[repeats == level].sum()))
    metrics: dict[str, object] = {
        "canaries": len(canaries),
        "randomness_space_bits": round(space_bits, 3),
        "exact_ranks": exact,
        "exposed_threshold_bits": round(needed, 3),
        "canaries_exposed": int(exposed.sum()),
        "max_exposure_bits": float(exposures.max()),
        "median_exposure_bits": float(np.median(exposures)),
    }
    for level, mean in zip(levels, table["mean"]):
        metrics[f"mean_exposure_bits_inserted_{level}x"] = mean
    if exact:
        metrics["canaries_ranked_first"] = int(sum(r == 1 for r in ranks))
    method = ("every candidate secret ranked" if exact else
              f"estimated from a skew-normal fit to {format_count(samples)} sampled candidates per canary")
    # The bits as the result holds them (rounded), so that prose and tables agree.
    space, threshold = metrics["randomness_space_bits"], metrics["exposed_threshold_bits"]
    findings = [f"{format_count(len(canaries))} canaries, randomness space {format_bits(space)} bits "
                f"({method}); a canary counts as exposed above {format_bits(threshold)} bits, where an "
                f"unseen secret lands with probability {format_general(t.alpha)} across all canaries."]
    for i, level in enumerate(levels):
        findings.append(f"Inserted {format_count(level)} time{'s' if level != 1 else ''}: mean exposure "
                        f"{format_bits(table['mean'][i])} bits (lowest {format_bits(table['min'][i])}, "
                        f"highest {format_bits(table['max'][i])}), "
                        f"{format_share(table['exposed'][i], table['canaries'][i])} exposed.")
    if needed > space_bits:
        verdict = Verdict.INCONCLUSIVE
        findings.append(f"The space of {format_bits(space)} bits is too small to call any of "
                        f"{format_count(len(canaries))} canaries exposed at this level; make canaries "
                        "with longer secrets.")
    elif exposed[repeats <= t.fail_max_repeats].any():
        verdict = Verdict.FAIL
    elif exposed.any():
        verdict = Verdict.WARN
    else:
        verdict = Verdict.PASS
    headline = Headline(label="Canaries exposed", value=float(exposed.mean()),
                        text=f"{format_share(int(exposed.sum()), len(canaries))} canaries exposed; "
                             f"highest {format_bits(exposures.max())} of {format_bits(space)} bits")
    scores = {role: np.full(len(ctx.cohorts[role]), np.nan) for role in Role}
    return ProbeOutcome(verdict=verdict, headline=headline, metrics=metrics,
                        findings=tuple(findings), scores=scores,
                        curves={"exposure_by_repeats": table,
                                "canary_exposure": {"repeats": [float(r) for r in repeats],
                                                    "exposure_bits": [float(e) for e in exposures]}})
