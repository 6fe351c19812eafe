"""Known answers of the trajectory (T1) and sensitive-attribute (T2) probes.

* resources/controls/sensitive: a TINY model that memorized 8 planted members, in each of
  whom a rare code pair is followed by a sensitive code (controls/sensitive.py). T2 must
  flag the planted members and FAIL or WARN; T1 must see their continuations reproduced.
* resources/controls/negative: a TINY model of the same vocabulary that never saw any of
  these patients. On the same two files neither probe may report a finding (no FAIL, no
  WARN), and no planted member may stand out.

Cohorts: the 8 planted members plus 40 other members, and 48 non-members, so that the
run stays short.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.families import FAMILIES
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.plan.parsing import ColumnMapping
from audit_core.probes.base import ProbeContext
from audit_core.probes.sensitive_attributes import SensitiveAttributes
from audit_core.probes.trajectory import Trajectory
from audit_core.results.verdicts import Verdict
from audit_core.work.progress import Progress

ROOT = Path(__file__).resolve().parents[2]
SENSITIVE = ROOT / "resources" / "controls" / "sensitive"
NEGATIVE = ROOT / "resources" / "controls" / "negative"
COLUMNS = ColumnMapping(id="patient_id", sequence="codes", kind="codes", subgroups=("age_band", "sex"))
OTHER_MEMBERS = 40
NON_MEMBERS = 48


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SENSITIVE / "ground_truth.json").read_text())


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory, truth: dict) -> dict[Role, object]:
    folder = tmp_path_factory.mktemp("sensitive_cohorts")
    planted = {p["patient_id"] for p in truth["planted"]}
    members = pd.read_csv(SENSITIVE / "members.csv", dtype=str)
    members = pd.concat([members[members.patient_id.isin(planted)],
                         members[~members.patient_id.isin(planted)].head(OTHER_MEMBERS)])
    non_members = pd.read_csv(SENSITIVE / "non_members.csv", dtype=str).head(NON_MEMBERS)
    out = {}
    for role, frame in ((Role.MEMBERS, members), (Role.NON_MEMBERS, non_members)):
        path = folder / f"{role.value}.csv"
        frame.to_csv(path, index=False)
        out[role] = load_cohort(path, role, COLUMNS)
    return out


def _context(model_dir: Path, cohorts, probe, seed: int = 3) -> ProbeContext:
    model = OnnxCausalLM(inspect_model(model_dir), threads=2)
    tokenizer = load_tokenizer(model_dir)
    ids = {role: encode_all(tokenizer, list(c.sequences)) for role, c in cohorts.items()}
    return ProbeContext(cohorts=cohorts, token_ids=ids, model=model,
                        thresholds=FAMILIES[probe.family].thresholds(), rng=np.random.default_rng(seed),
                        progress=Progress(), tokenizer=tokenizer, columns=COLUMNS)


def _planted_rows(cohorts, truth: dict) -> set[int]:
    planted = {p["patient_id"] for p in truth["planted"]}
    return {i for i, pid in enumerate(cohorts[Role.MEMBERS].ids) if pid in planted}


T2_SETTINGS = {"tiers": "10,20", "max_records": 0}
T1_SETTINGS = {"tiers": "demographics,10", "max_records": 0, "samples": 4, "horizon": 16}


@pytest.fixture(scope="module")
def t2_positive(cohorts):
    probe = SensitiveAttributes()
    config = dataclasses.replace(probe.config_type(), **T2_SETTINGS)
    return probe.run(config, _context(SENSITIVE / "model", cohorts, probe))


@pytest.fixture(scope="module")
def t2_negative(cohorts):
    probe = SensitiveAttributes()
    config = dataclasses.replace(probe.config_type(), **T2_SETTINGS)
    return probe.run(config, _context(NEGATIVE / "model", cohorts, probe))


def test_t2_flags_the_planted_members_of_the_memorizing_control(t2_positive, cohorts, truth) -> None:
    planted = _planted_rows(cohorts, truth)
    flagged = {i for role, i in t2_positive.extracted if role is Role.MEMBERS}
    assert len(planted & flagged) >= len(planted) - 1, (planted, flagged)
    assert t2_positive.verdict in (Verdict.FAIL, Verdict.WARN)
    assert t2_positive.metrics["flagged_members"] > t2_positive.metrics["flagged_non_members"]
    assert t2_positive.metrics["flagged_p_value"] < 0.05
    # The planted members' strongest signal is their planted category's, high and above
    # every other member's median.
    scores = t2_positive.scores[Role.MEMBERS]
    planted_scores = scores[sorted(planted)]
    assert np.nanmin(planted_scores) >= 0.5


def test_t2_reports_no_finding_on_the_control_that_never_saw_them(t2_negative, cohorts, truth) -> None:
    assert t2_negative.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE), t2_negative.findings
    flagged = {i for role, i in t2_negative.extracted if role is Role.MEMBERS}
    assert len(flagged & _planted_rows(cohorts, truth)) <= 1
    planted = sorted(_planted_rows(cohorts, truth))
    assert np.nanmedian(t2_negative.scores[Role.MEMBERS][planted]) < 0.5


def test_t1_reconstructs_the_planted_members_closer_only_in_the_memorizing_control(cohorts, truth) -> None:
    """T1's per-record score (how much closer than the code-frequency baseline a patient's
    sampled futures came) singles out the planted members of the memorizing control and not
    of the control that never saw them. Eight memorized patients among 48 members do not move
    the cohort means enough for T1's cohort-level verdict (measured: PASS on both), which is
    why T2 and extraction, not T1, are the probes that name such patients."""
    probe = Trajectory()
    config = dataclasses.replace(probe.config_type(), **T1_SETTINGS)
    planted = sorted(_planted_rows(cohorts, truth))

    def planted_lead(model_dir: Path):
        outcome = probe.run(config, _context(model_dir, cohorts, probe))
        scores = outcome.scores[Role.MEMBERS]
        lead = np.nanmedian(scores[planted]) - np.nanmedian(np.delete(scores, planted))
        return outcome, lead

    positive, positive_lead = planted_lead(SENSITIVE / "model")
    negative, negative_lead = planted_lead(NEGATIVE / "model")
    assert positive_lead >= 0.08, positive_lead
    assert negative_lead < 0.08, negative_lead
    assert negative.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE), negative.findings
    assert positive.verdict is not Verdict.ERROR
