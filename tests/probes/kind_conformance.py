"""The conformance promises of test_conformance.py, for probes of other model kinds.

Each kind's tests build a context factory (progress, seed -> ProbeContext) over its own
control model and call these checks for every probe that applies to the kind.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.plan.params import build_settings, settings_dict
from audit_core.probes.base import ProbeContext
from audit_core.results.verdicts import Verdict
from audit_core.work.progress import Cancelled, CancelToken, Progress

ContextFactory = Callable[..., ProbeContext]


def check_probe(probe, make_context: ContextFactory) -> None:
    """Config round trip, monotonic progress, finite metrics, clean findings, strata,
    cancel honoured, same seed same result."""
    config = probe.config_type()
    assert dataclasses.is_dataclass(config) and type(config).__dataclass_params__.frozen
    assert build_settings(probe.config_type, settings_dict(config), f"probes.{probe.id}") == config

    seen: list[float] = []
    context = make_context(Progress(lambda f, m: seen.append(f)), seed=5)
    outcome = probe.run(config, context)
    assert seen and seen == sorted(seen) and all(0 <= f <= 1 for f in seen)
    assert isinstance(outcome.verdict, Verdict)
    for key, value in outcome.metrics.items():
        for v in value if isinstance(value, list) else [value]:
            assert v is None or isinstance(v, (bool, int)) or math.isfinite(v), key
    ids = {i for c in context.cohorts.values() for i in c.ids}
    for role in Role:
        assert len(outcome.scores[role]) == len(context.cohorts[role])
    for sentence in outcome.findings + (outcome.headline.text,):
        assert not set(sentence.replace(",", " ").split()) & ids, "a finding names a record id"
    assert outcome.attack_strength in ("reference-free", "reference-calibrated")
    columns = {row["column"] for row in outcome.subgroups}
    assert {"age_band", "sex"} <= columns

    again = probe.run(config, make_context(Progress(), seed=5))
    assert again.metrics == outcome.metrics and again.verdict == outcome.verdict
    for role in Role:
        np.testing.assert_array_equal(again.scores[role], outcome.scores[role])

    token = CancelToken()
    with pytest.raises(Cancelled):
        probe.run(config, make_context(Progress(lambda f, m: token.cancel(), token), seed=5))
