"""T2, T5 and T6 examine one sample of patients (probes/carrier_assessment.examined_in):
drawn from the plan's seed and the cohort, not from the probe, so that the report's
examined patients are one set and the run computes their carrier-disclosure table once
(probes/run_memo.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from audit_core.data.cohort import Role
from audit_core.probes.base import ProbeContext
from audit_core.probes.carrier_assessment import examined_in
from audit_core.probes.run_memo import RunMemo
from audit_core.work.progress import Progress


def _context(plan_seed: int, probe_seed: int) -> ProbeContext:
    return ProbeContext(cohorts={}, token_ids={}, model=None, thresholds=None,  # type: ignore[arg-type]
                        rng=np.random.default_rng(probe_seed), progress=Progress(),
                        seed=(plan_seed, probe_seed))


def test_the_sample_depends_on_the_plan_seed_and_cohort_not_the_probe() -> None:
    carriers = np.zeros(500, dtype=bool)
    carriers[[3, 77, 410]] = True
    t2, t6 = _context(11, 1), _context(11, 2)
    for role in Role:
        rows = examined_in(t2, role, carriers, 40)
        assert np.array_equal(rows, examined_in(t6, role, carriers, 40))
        assert {3, 77, 410} <= set(rows.tolist()) and len(rows) == 43  # every carrier, and 40 others
    assert not np.array_equal(examined_in(t2, Role.MEMBERS, carriers, 40),
                              examined_in(t2, Role.NON_MEMBERS, carriers, 40))
    assert not np.array_equal(examined_in(t2, Role.MEMBERS, carriers, 40),
                              examined_in(_context(12, 1), Role.MEMBERS, carriers, 40))
    # The probe's own generator is left as it was for whatever it draws next.
    assert t2.rng.random() == np.random.default_rng(1).random()


def test_the_memo_computes_a_figure_once_per_run() -> None:
    memo, calls = RunMemo(), []

    def compute() -> str:
        calls.append(1)
        return "table"

    assert memo.get(("table", 1), compute) == memo.get(("table", 1), compute) == "table"
    assert len(calls) == 1
    memo.get(("table", 2), compute)
    assert len(calls) == 2
    assert _context(1, 1).memo is not _context(1, 1).memo  # a test's context has its own


def test_the_demo_reports_the_same_examined_carriers_in_t2_and_t6(demo_outputs: Path) -> None:
    probes = {p["id"]: p for p in json.loads((demo_outputs / "results.json").read_text())["probes"]}
    figures = {probe: sorted((c["role"], c["id"], c["code"], c["rank"], c["probability"], c["named"])
                             for c in probes[probe]["carriers"])
               for probe in ("sensitive_attributes", "vulnerable_subgroups")}
    assert figures["sensitive_attributes"] and figures["sensitive_attributes"] == figures["vulnerable_subgroups"]
