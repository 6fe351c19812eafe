"""T5 on event data (issue 20, section 3): the time and age perturbations change the
events the model reads with the prompt (`events=`), and on a model that reads no time or
age input they are reported as not applicable, never as a result."""

from __future__ import annotations

import dataclasses

import numpy as np

from audit_core.clinical.event_times import prompt_events
from audit_core.clinical.sensitive_inputs import sensitive_inputs
from audit_core.data.cohort import Role
from audit_core.data.events import EventFeatures
from audit_core.models.onnx_causal_lm import Samples
from audit_core.probes.perturbation import NOT_APPLICABLE, PATIENT_SPECIFIC, Perturbation
from tests.probes.demo_slice import clinical_context, flat_loss

START_DAYS = 18_000.0


def _token_events(token_ids) -> dict[Role, list[EventFeatures]]:
    """Per token: start, age and sex tokens static; then one event a month, aged 50 on."""
    out = {}
    for role in Role:
        out[role] = []
        for ids in token_ids[role]:
            days = START_DAYS + 30.0 * np.arange(len(ids), dtype=np.float64)
            days[:3] = np.nan
            ages = 50.0 + np.nan_to_num(days - START_DAYS, nan=0.0) / 365.25
            out[role].append(EventFeatures(days, ages, np.zeros(len(ids), dtype=np.int64)))
    return out


@dataclasses.dataclass
class _TokensOnly:
    """A model without side inputs: its `sample` takes no events (it would fail if given
    some), and it reveals nothing."""

    context_length: int = 128
    vocab_size: int = 1024

    def sample(self, prompts, steps, *, n, rng, temperature=1.0, top_p=1.0, stop_ids=(), watch=(),
               batch_size=64):
        return Samples(tokens=np.full((len(prompts), n, steps), -1, dtype=np.int64),
                       mass=np.full((len(prompts), n, steps, len(watch)), 0.001))


@dataclasses.dataclass
class _ReadsTime:
    """A model with time inputs that remembers one patient at their true dates: it reveals
    the sensitive categories for that prompt only while its events are unshifted."""

    target: np.ndarray
    first_day: float
    context_length: int = 128
    vocab_size: int = 1024
    needs_events: bool = True
    ages_seen: set = dataclasses.field(default_factory=set)
    days_seen: set = dataclasses.field(default_factory=set)

    def sample(self, prompts, steps, *, n, rng, temperature=1.0, top_p=1.0, stop_ids=(), watch=(),
               batch_size=64, events=None):
        mass = np.full((len(prompts), n, steps, len(watch)), 0.001)
        for b, prompt in enumerate(prompts):
            # No explicit events: the wrapper looks the record's own up (the model API's rule).
            given = None if events is None else events[b]
            if given is not None:
                self.ages_seen.add(round(float(np.nanmin(given.age_years)), 3))
                self.days_seen.add(float(np.nanmin(given.time_days)))
            unshifted = given is None or np.nanmin(given.time_days) == self.first_day
            if np.array_equal(prompt, self.target) and unshifted:
                mass[b] = 0.2
        return Samples(tokens=np.full((len(prompts), n, steps), -1, dtype=np.int64), mass=mass)


def _run(demo_slice, model, events):
    probe = Perturbation()
    config = dataclasses.replace(probe.config_type(), samples=1, horizon=8, max_records=5,
                                 top_membership=0, max_flagged=3)
    ctx = dataclasses.replace(clinical_context(demo_slice, model, "perturbation", flat_loss(demo_slice)),
                              token_events=events)
    return probe.run(config, ctx)


def test_time_perturbation_is_not_applicable_to_a_model_without_time_inputs(demo_slice):
    events = _token_events(demo_slice[1])
    outcome = _run(demo_slice, _TokensOnly(), events)  # would raise had events been passed
    assert NOT_APPLICABLE in outcome.findings
    assert outcome.metrics["event_perturbations_applicable"] is False
    # Files of codes (no events): the old path, nothing said about event perturbations.
    plain = _run(demo_slice, _TokensOnly(), None)
    assert NOT_APPLICABLE not in plain.findings and "event_perturbations_applicable" not in plain.metrics


def test_time_and_age_perturbations_shift_the_events_the_model_reads(demo_slice):
    events = _token_events(demo_slice[1])
    probe_ctx = clinical_context(demo_slice, _TokensOnly(), "perturbation", flat_loss(demo_slice))
    inputs = sensitive_inputs(probe_ctx, 20, "", "test")
    record = next(i for i in range(len(inputs.prompts[Role.MEMBERS]))
                  if any(inputs.after[Role.MEMBERS][c][i] == 1.0 for c in inputs.categories))
    target = inputs.prompts[Role.MEMBERS][record]
    truth = prompt_events(demo_slice[1][Role.MEMBERS][record], events[Role.MEMBERS][record],
                          inputs.sensitive_ids, len(target))
    model = _ReadsTime(target, float(np.nanmin(truth.time_days)))
    outcome = _run(demo_slice, model, events)
    assert outcome.metrics[f"{PATIENT_SPECIFIC}_signals_members"] >= 1
    assert outcome.scores[Role.MEMBERS][record] == 1.0
    assert any("under time" in f for f in outcome.findings)
    assert NOT_APPLICABLE not in outcome.findings
    # The time variants reached the model as the patient's dates one year earlier and later.
    assert {model.first_day - 365.25, model.first_day + 365.25} <= model.days_seen
    # The age variants reached the model as shifted ages (the patient's 50 and 50 +- offsets).
    base_age = round(float(np.nanmin(truth.age_years)), 3)
    assert {round(base_age + k, 3) for k in (-10, -1, 1, 10)} <= model.ages_seen
