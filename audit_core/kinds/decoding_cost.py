"""How much longer a causal language model exported without a KV cache takes to generate
(issue 21): the figure `inspect`, the plan check before a run, the desktop Model step and
the time estimate all take from here.

`torch.onnx.export` of a plain forward gives input_ids/attention_mask -> logits and no
past/present tensors; models/onnx_causal_lm.py then decodes by running the whole sequence
again at every step. With a KV cache a step costs one token's forward per sequence;
without, a step of a sequence at length L costs a forward over L tokens, about as fast per
token as the scoring pass (both are full-sequence forwards). A recomputing step is a KV
step (one token's forward, the sampling of the next token) plus L - 1 more tokens'
forward, so a generated token costs kv + (L - 1) x scoring-per-token, weighted by how
many tokens each generating probe decodes (generation_work.py) at its mean length.
Measured on the notes control at 24-40-token prompts (2-core VM): a step's time grew by
2.8 us per token of length, the scoring pass's 2.8 us per token. The rates come from the workstation calibration (`mnemoscope
bench`, scaled by the model's size as the estimate scales them) when there is one, else
from a forward timed on the audited model itself.

The sentence that says it is formatted once, in run/decoding_notice.py.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from audit_core.clinical.record_layout import DEMOGRAPHICS, NOTHING, parse_tiers
from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohorts
from audit_core.generation import Request
from audit_core.kinds.generation_estimate import declared_requests
from audit_core.kinds.generation_work import ELICITATION_PROMPTS_PER_TIER, ON_THE_SPOT_SHARE, decoding_of
from audit_core.models.inspection import CAUSAL_LM, inspect_model, require_causal_lm
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.plan.parsing import AuditPlan
from audit_core.probes import PROBES
from audit_core.probes.base import Probe
from audit_core.probes.selection import resolve_probes

# The timed fallback: one batch of rows x tokens scored in full (a recomputing step's
# forward, per token), and a few sampled steps from one-token prompts (what a KV step
# costs: one new token per sequence and the sampling after it), medians of a few repeats
# because one timing on a shared machine can double.
TIMING_ROWS, TIMING_TOKENS, TIMING_REPEATS = 16, 64, 5
TIMING_SECONDS = 0.5  # a small model's timings take milliseconds: repeated up to this long
# Sampled as most generating probes sample (nucleus, top-p 0.95: its sort is a good part of
# a small model's step), in a batch of 32 sequences as the probes' default batches hold.
STEP_TIMING_PROMPTS, STEP_TIMING_SAMPLES, STEP_TIMING_STEPS, STEP_TIMING_TOP_P = 8, 4, 4, 0.95
# Tokens of a "demographics" tier prompt beyond the start token (a record's sex, age and
# visit tokens on the demo's layout); a tier of k known codes holds k tokens.
DEMOGRAPHIC_PROMPT_TOKENS = 3
# The nominal workload for a model seen without a plan (`inspect`, the Model step): the
# standard generating probes at their default settings, on this many records a cohort,
# each filling the model's context (capped: a long context is not filled by the probes'
# short prompts anyway).
NOMINAL_RECORDS, NOMINAL_RECORD_TOKENS = 100, 256
# An elicitation prompt: one or two identifiers with their cues ("Patient <name> DOB
# <date> MRN"): 7.6 tokens on average over the notes control's 1,518 prompts.
ELICITATION_PROMPT_TOKENS = 8
PLAN, NOMINAL = "plan", "nominal"


@dataclass(frozen=True, slots=True)
class DecodingRates:
    """Seconds per token: `token_seconds` of a full-sequence forward (the scoring pass's
    speed), `kv_token_seconds` of one generated token with a KV cache."""

    token_seconds: float
    kv_token_seconds: float
    source: str  # "calibration" (`mnemoscope bench`) or "sample" (timed on this model)


@dataclass(frozen=True, slots=True)
class ProbeDecoding:
    """One generating probe's decoding: tokens decoded in all, and the mean sequence length
    (prompt plus what was generated so far) at those steps."""

    probe: str
    row_steps: float
    mean_length: float
    in_step: bool = False  # decoded in the run's generation step (declared ahead), not the probe's own


@dataclass(frozen=True, slots=True)
class RecomputeCost:
    """Generation with and without a KV cache on one workload (`basis`: PLAN, the plan's
    generating probes; NOMINAL, the standard ones at their defaults)."""

    work: tuple[ProbeDecoding, ...]
    rates: DecodingRates
    basis: str

    def kv_seconds(self, probe: str | None = None) -> float:
        return sum(w.row_steps for w in self._of(probe)) * self.rates.kv_token_seconds

    def recompute_seconds(self, probe: str | None = None) -> float:
        return self.kv_seconds(probe) + self.extra_seconds(probe)

    def extra_seconds(self, probe: str | None = None, *, counted_length: float | None = None,
                      in_step: bool | None = None) -> float:
        """Seconds the recomputation adds to KV decoding: L - 1 more tokens' forward a step.
        `counted_length`: a timing that already ran the plain graph at that length
        (estimates.py's decode step) counted that much of each step, too much for a probe
        whose sequences are shorter (then this is negative: that timing's surplus)."""
        counted = 1.0 if counted_length is None else counted_length
        return sum(w.row_steps * (w.mean_length - counted) for w in self._of(probe)
                   if in_step is None or w.in_step == in_step) * self.rates.token_seconds

    @property
    def factor(self) -> float:
        """How many times as long generation takes without the cache (>= 1)."""
        kv = self.kv_seconds()
        return max(1.0, self.recompute_seconds() / kv) if kv > 0 else 1.0  # mean_length >= 1

    @property
    def probes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.probe for w in self.work))

    def _of(self, probe: str | None) -> list[ProbeDecoding]:
        return [w for w in self.work if probe is None or w.probe == probe]


def calibrated_rates(calibration: dict[str, Any], parameters: int,
                     precision: str = "fp32") -> DecodingRates:
    """The calibration's scoring and batch-16 generation rates, scaled by the model's size
    as estimates.py scales them (`calibration_prices` says when they hold)."""
    rates = calibration["int8"] if precision == "int8" and "int8" in calibration else calibration
    scale = size_scale(calibration, parameters)
    return DecodingRates(scale / rates["scoring_tokens_per_s"],
                         scale / rates["generation"]["batch_16_tokens_per_s"], "calibration")


def timed_rates(model: OnnxCausalLM) -> DecodingRates:
    """Both rates timed on the audited model: a batch scored in full (per token), and a few
    sampled steps from one-token prompts (per generated token: a plain graph has no cache
    to time, and at a length of a few tokens its step does a KV step's work)."""
    tokens = max(1, min(TIMING_TOKENS, model.context_length - 1))
    rng = np.random.default_rng(0)
    ids = rng.integers(1, max(2, model.vocab_size), (TIMING_ROWS, tokens))
    mask = np.ones(ids.shape, dtype=np.int64)
    prompts = ids[:STEP_TIMING_PROMPTS, :1]
    steps = max(1, min(STEP_TIMING_STEPS, model.context_length - 1))
    scored, stepped = _median_seconds(
        lambda: model.logits(ids, mask),
        lambda: model.sample(prompts, steps, n=STEP_TIMING_SAMPLES, rng=rng, top_p=STEP_TIMING_TOP_P,
                             batch_size=STEP_TIMING_PROMPTS * STEP_TIMING_SAMPLES))
    return DecodingRates(scored / ids.size, stepped / (prompts.size * STEP_TIMING_SAMPLES * steps), "sample")


def _median_seconds(*runs: Callable[[], object]) -> list[float]:
    """Each run's median time, the runs interleaved so that a busy spell of a shared machine
    slows both alike (the figure said is their ratio)."""
    for run in runs:
        run()  # the first call of a shape pays for its allocations
    times: list[list[float]] = [[] for _ in runs]
    until = time.perf_counter() + TIMING_SECONDS
    while len(times[0]) < TIMING_REPEATS or (time.perf_counter() < until and len(times[0]) < 5 * TIMING_REPEATS):
        for run, kept in zip(runs, times):
            start = time.perf_counter()
            run()
            kept.append(time.perf_counter() - start)
    return [statistics.median(kept) for kept in times]


def generating(selected: Sequence[tuple[Probe, Any]]) -> list[tuple[Probe, Any]]:
    """The probes of `selected` that decode (generation_work.py counts them)."""
    return [(p, c) for p, c in selected if decoding_of(p.id, c, _NO_RECORDS, 2) is not None]


def probe_work(selected: Sequence[tuple[Probe, Any]], lengths: Sequence[np.ndarray],
               context_length: int) -> tuple[ProbeDecoding, ...]:
    """Each generating probe's decoded tokens and mean sequence length on cohorts whose
    records have `lengths` tokens (members first)."""
    out = []
    for probe, config in selected:
        decoding = decoding_of(probe.id, config, lengths, context_length)
        if decoding is not None and decoding.row_steps > 0:
            out.append(ProbeDecoding(probe.id, decoding.row_steps,
                                     mean_length(probe.id, config, lengths, context_length)))
    return tuple(out)


def request_work(declared: Mapping[str, Sequence[Request]], typical: float) -> tuple[ProbeDecoding, ...]:
    """The generation step's decoding, per declaring probe, from the requests themselves:
    each prompt's own length, and a continuation that can stop (EOS) taken to stop about
    where a record of `typical` tokens ends (a finished row leaves its batch: counted to
    its horizon, re-identification's records of up to 100 tokens from the start token made
    the recomputation 7x the measured step on the notes control, whose notes hold 42). A
    request two probes ask for is decoded once: the first one's."""
    seen: set[str] = set()
    out = []
    for probe, asked in declared.items():
        tokens = weighted = 0.0
        for request in asked:
            if request.key in seen:
                continue
            seen.add(request.key)
            steps = request.steps if not request.stops else max(
                1.0, min(request.steps, typical - len(request.prompt)))
            tokens += request.n * steps
            weighted += request.n * steps * (len(request.prompt) + steps / 2)
        if tokens:
            out.append(ProbeDecoding(probe, tokens, weighted / tokens, in_step=True))
    return tuple(out)


def plan_work(selected: Sequence[tuple[Probe, Any]], declared: Mapping[str, Sequence[Request]],
              lengths: Sequence[np.ndarray], context_length: int) -> tuple[ProbeDecoding, ...]:
    """All a plan's decoding, as the estimate counts it (kinds/estimates.py): the declared
    requests in the generation step, and by their formulas the probes that decode on their
    own and the share a probe decodes on the spot (T5's variants)."""
    own = probe_work([(p, c) for p, c in selected if p.id not in declared], lengths, context_length)
    spot = probe_work([(p, c) for p, c in selected if p.id in declared and p.id in ON_THE_SPOT_SHARE],
                      lengths, context_length)
    return (request_work(declared, typical_length(lengths, context_length)) + own
            + tuple(replace(w, row_steps=w.row_steps * ON_THE_SPOT_SHARE[w.probe]) for w in spot))


def nominal_cost(model: OnnxCausalLM, calibration: dict[str, Any] | None) -> RecomputeCost | None:
    """For a model seen without a plan: the standard generating probes at their defaults, on
    records filling its context (None for a model with a KV cache)."""
    if model.kv_cache:
        return None
    record = min(model.context_length, NOMINAL_RECORD_TOKENS)
    lengths = [np.full(NOMINAL_RECORDS, record, dtype=np.int64)] * 2
    defaults = [(p, p.config_type()) for p in PROBES if p.needs.applies_to("causal_lm")]
    work = probe_work(generating(defaults), lengths, model.context_length)
    return RecomputeCost(work, rates_for(model, calibration), NOMINAL)


def plan_cost(plan: AuditPlan, calibration: dict[str, Any] | None) -> RecomputeCost | None:
    """The plan's generating probes on its own cohorts; None when the model is no causal LM,
    has a KV cache, or the plan generates nothing (then the model and data are not read
    beyond the graph's signature)."""
    info = inspect_model(plan.model.path, plan.model.context_length)
    if info.kind != CAUSAL_LM or info.kv_cache:
        return None
    if not generating(resolve_probes(plan)):
        return None
    require_causal_lm(info)  # a known context length among the rest, as the run requires
    # Loaded as the run loads it: the probes list their requests against it.
    model = OnnxCausalLM(info, plan.model.threads, provider=plan.model.provider,
                         precision=plan.model.precision, inputs=plan.model.inputs,
                         token_types=plan.model.token_types)
    tokenizer = load_tokenizer(info.folder)
    cohorts = load_cohorts(plan.data)
    token_ids = {role: encode_all(tokenizer, list(cohorts[role].sequences)) for role in Role}
    lengths = [np.array([len(x) for x in token_ids[role]], dtype=np.int64) for role in Role]
    chosen = resolve_probes(plan)
    declared = declared_requests(plan, chosen, model, cohorts, token_ids, tokenizer, info)
    return RecomputeCost(plan_work(chosen, declared, lengths, model.context_length),
                         rates_for(model, calibration), PLAN)


def rates_for(model: OnnxCausalLM, calibration: dict[str, Any] | None) -> DecodingRates:
    """The calibration's rates when they price the model, else timed on it."""
    if calibration_prices(calibration, model.info.parameters, model.precision):
        assert calibration is not None
        return calibrated_rates(calibration, model.info.parameters, model.precision)
    return timed_rates(model)


def calibration_prices(calibration: dict[str, Any] | None, parameters: int, precision: str) -> bool:
    """Whether the workstation calibration's rates hold for a model of `parameters` run in
    `precision`; where they do not, the estimate times the model itself on a sample.

    A calibration made before bench measured int8 does not say an int8 plan's rates; none
    says fp16's (bench measures fp32 and int8 on the CPU). And none prices a model smaller
    than its reference: a forward's FLOPs shrink with the model, but not what each model
    call and each sampled row cost around them (the graph's many small operators, the
    sampling over the vocabulary), so the reference's rates cannot be scaled down, and
    taken as they are they priced the demo (0.9M parameters, 20M reference) at 130 s for
    an audit of 18-23 s. A model that small is timed on a sample in about a second."""
    if not calibration or not (precision == "fp32" or precision in calibration):
        return False
    return parameters >= calibration.get("reference", {}).get("parameters", 0)


def size_scale(calibration: dict[str, Any], parameters: int) -> float:
    """How many times the calibration's reference work one token of a model of `parameters`
    costs: FLOPs per token grow with the parameter count (at least 1 for a model the
    calibration prices)."""
    return max(1.0, parameters / max(1, calibration["reference"]["parameters"]))


def mean_length(probe_id: str, config: Any, lengths: Sequence[np.ndarray], context_length: int) -> float:
    """The mean sequence length over a probe's decoding steps: its prompt (from its settings;
    a record's first tokens, never more than the records hold) plus half its horizon."""
    typical = typical_length(lengths, context_length)
    prompt, steps = _prompt_and_steps(probe_id, config, typical)
    steps = max(1, min(steps, context_length - 1))
    prompt = max(1.0, min(prompt, typical, context_length - steps))
    return prompt + steps / 2


def typical_length(lengths: Sequence[np.ndarray], context_length: int) -> float:
    """A record's mean length in tokens (the context's when there are no records)."""
    records = np.concatenate([np.asarray(x, dtype=np.float64) for x in lengths]) if lengths else np.zeros(0)
    return float(records.mean()) if records.size else float(context_length)


def _prompt_and_steps(probe_id: str, config: Any, typical: float) -> tuple[float, int]:
    if probe_id == "extraction":
        return config.prefix_tokens, config.suffix_tokens
    if probe_id == "reidentification":  # from the start token alone, up to a record's length
        return 1.0, int(min(config.max_tokens, typical))
    if probe_id == "elicitation":
        # The known identifiers with their cues (one open query, `new_tokens`), then each
        # withheld identifier's cue (`query_tokens`): the steps' mean, weighted by tokens.
        queries = ELICITATION_PROMPTS_PER_TIER - 1
        steps = (config.new_tokens ** 2 + queries * config.query_tokens ** 2) / (
            config.new_tokens + queries * config.query_tokens)
        return ELICITATION_PROMPT_TOKENS, int(round(steps))
    if probe_id in ("trajectory", "sensitive_attributes"):
        tiers = parse_tiers(config.tiers, f"probes.{probe_id}.tiers")
        known = [1 if t.name == NOTHING else 1 + DEMOGRAPHIC_PROMPT_TOKENS if t.name == DEMOGRAPHICS
                 else 1 + int(t.known_tokens or 0) for t in tiers]
        return float(np.mean(known)), config.horizon
    prompt = getattr(config, "prompt_tokens", None) or getattr(config, "prefix_tokens", None)
    steps = (getattr(config, "horizon", None) or getattr(config, "new_tokens", None)
             or getattr(config, "suffix_tokens", None) or 1)
    return float(prompt) if prompt else typical / 2, int(steps)


_NO_RECORDS = [np.zeros(0, dtype=np.int64)] * 2
