"""An EHR model with side inputs audited end to end on a MEDS dataset: `python -m audit_core
run` feeds each token's type, age and visit from the events, through scoring, greedy
extraction and sampled prompts with the sensitive codes left out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohorts
from audit_core.kinds import causal_lm
from audit_core.plan.parsing import load_plan
from audit_core.tools.bench import side_input_lm
from audit_core.work.progress import Progress
from tests.meds.conftest import meds_plan
from tests.meds.control_dataset import control_dataset

ROOT = Path(__file__).resolve().parents[2]


def _meds_side_plan(folder: Path) -> Path:
    root = control_dataset(folder / "meds", per_split=12)
    plan = meds_plan(folder, root, model=folder / "model",
                     extra='\n[probes.loss]\n[probes.extraction]\nprefix_tokens = 6\nsuffix_tokens = 4\n'
                           '[probes.sensitive_attributes]\n')
    cohorts = load_cohorts(load_plan(plan).data)
    words = sorted({w for c in cohorts.values() for s in c.sequences for w in s.split()})
    side_input_lm.build(folder / "model", kv_cache=True, declare=True, words=tuple(words),
                        context=256)
    return plan


def test_the_records_events_are_installed_and_fed(tmp_path: Path) -> None:
    plan = load_plan(_meds_side_plan(tmp_path))
    prepared = causal_lm.prepare(plan, "causal_lm", Progress())
    assert prepared.token_events is not None
    model = prepared.model
    ids = prepared.token_ids[Role.MEMBERS][0]
    events = prepared.token_events[Role.MEMBERS][0]
    assert events.visit.max() > 0 and np.isfinite(events.age_years).any()
    row, mask = ids[None, :], np.ones((1, len(ids)), dtype=np.int64)
    # Looked up from the installed records: the same logits as the record's own events,
    # not those of events unknown (what a file of codes would give).
    np.testing.assert_array_equal(model.logits(row, mask), model.logits(row, mask, events=[events]))
    assert np.abs(model.logits(row, mask) - model.logits(row, mask, events=[None])).max() == 0
    blank = events.take(np.zeros(len(ids), dtype=np.int64))
    assert np.abs(model.logits(row, mask) - model.logits(row, mask, events=[blank])).max() > 0.1


def test_run_audits_a_side_input_model_on_meds(tmp_path: Path) -> None:
    plan = _meds_side_plan(tmp_path)
    done = subprocess.run([sys.executable, "-m", "audit_core", "run", str(plan), "--out",
                           str(tmp_path / "out"), "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=900)
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: a FAIL verdict, still a full audit
    assert "Traceback" not in done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["model"]["side_inputs"] == side_input_lm.INPUTS
    assessed = {p["id"] for p in results["probes"] if p["verdict"] != "error"}  # none crashed
    assert {"loss", "extraction", "sensitive_attributes"} <= assessed
