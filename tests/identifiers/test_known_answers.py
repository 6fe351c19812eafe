"""Known answers of the identifier, re-identification and canary probes, on controls
built to memorize on purpose and on controls that never saw what is looked for.

* canaries: resources/controls/canaries (a TINY code model with canaries inserted 1, 4,
  16 and 64 times; `make canary-control`) against the negative control, which never
  saw a canary;
* identifiers: resources/controls/notes (a TINY notes model trained on the members'
  notes, each patient's identifiers repeated in three notes; `make notes-control`),
  audited once on its members and once on outsiders it never saw;
* re-identification: the demo model (planted records repeated 40 times) against the
  negative control on the same cohorts.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.families import FAMILIES
from audit_core.identifiers.detector import CATEGORIES
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.plan.parsing import ColumnMapping
from audit_core.probes import PROBES_BY_ID
from audit_core.probes.base import ProbeContext
from audit_core.results.verdicts import Verdict
from audit_core.tools.controls.notes import generate_notes
from audit_core.tools.controls.notes_control import NOTES_SEED, PATIENTS_PER_GROUP
from audit_core.work.progress import Progress

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
CANARIES = RESOURCES / "controls" / "canaries"
NOTES = RESOURCES / "controls" / "notes"
NEGATIVE = RESOURCES / "controls" / "negative" / "model"
DEMO = RESOURCES / "demo"
CODES = ColumnMapping(id="patient_id", sequence="codes", kind="codes", subgroups=("age_band", "sex"))
TEXT = ColumnMapping(id="patient_id", sequence="text", kind="text")


def _run(probe_id: str, model_dir: Path, members: Path, non_members: Path, columns: ColumnMapping,
         **settings):
    probe = PROBES_BY_ID[probe_id]
    model = OnnxCausalLM(inspect_model(model_dir))
    tokenizer = load_tokenizer(model_dir)
    cohorts = {Role.MEMBERS: load_cohort(members, Role.MEMBERS, columns),
               Role.NON_MEMBERS: load_cohort(non_members, Role.NON_MEMBERS, columns)}
    ctx = ProbeContext(cohorts=cohorts, token_ids={r: encode_all(tokenizer, list(c.sequences))
                                                   for r, c in cohorts.items()},
                       model=model, thresholds=FAMILIES[probe.family].thresholds(),
                       rng=np.random.default_rng(11), progress=Progress(), tokenizer=tokenizer,
                       columns=columns)
    return probe.run(dataclasses.replace(probe.config_type(), **settings), ctx)


def _said(outcome) -> str:
    return " ".join(outcome.findings) + " " + outcome.headline.text


# --- canaries ---------------------------------------------------------------------------

def _only_probe(audit: dict, probe_id: str) -> dict:
    assert [p["id"] for p in audit["probes"]] == [probe_id], audit["audit"]["title"]
    return audit["probes"][0]


def _said_json(probe: dict) -> str:
    return " ".join(probe["findings"]) + " " + probe["headline"]["text"]


@pytest.fixture(scope="module")
def canary_runs(validation_run) -> dict[str, dict]:
    """The canary-exposure probe's results.json entry on the canary control's members and
    non-members, through the memorizing model and through the negative control. `validate`
    audits exactly these two (plans in resources/controls/canaries, this probe alone, the
    control's manifest): its session run is read."""
    return {name: _only_probe(validation_run.audit(CANARIES / plan), "canary_exposure")
            for name, plan in (("memorizing", "validation.toml"),
                               ("negative", "validation_negative.toml"))}


def test_exposure_rises_with_the_number_of_insertions(canary_runs) -> None:
    table = canary_runs["memorizing"]["curves"]["exposure_by_repeats"]
    assert table["repeats"] == [1.0, 4.0, 16.0, 64.0]
    means = table["mean"]
    assert all(a < b for a, b in itertools.pairwise(means)), means
    assert means[-1] > means[0] + 4.0  # 64 insertions: far above a single one
    outcome = canary_runs["memorizing"]
    assert outcome["metrics"]["exact_ranks"] is True
    assert outcome["verdict"] in (Verdict.WARN.value, Verdict.FAIL.value)
    assert table["exposed"][-1] == table["canaries"][-1]  # every 64-times canary is exposed


def test_a_model_that_never_saw_the_canaries_exposes_none(canary_runs) -> None:
    outcome = canary_runs["negative"]
    assert outcome["metrics"]["canaries_exposed"] == 0 and outcome["verdict"] == Verdict.PASS.value
    assert outcome["metrics"]["max_exposure_bits"] < outcome["metrics"]["exposed_threshold_bits"]


def test_no_canary_secret_is_reported(canary_runs) -> None:
    from audit_core.canaries.design import render
    from audit_core.canaries.files import load_canary_set

    spec, canaries = load_canary_set(CANARIES / "canaries" / "manifest.json")
    said = " ".join(_said_json(o) + repr(o["metrics"]) + repr(o["curves"])
                    for o in canary_runs.values())
    for canary in canaries:
        secret = " ".join(spec.alphabet[i] for i in canary.secret)
        assert secret not in said and render(spec, canary.prefix, canary.secret) not in said


# --- identifier leakage -----------------------------------------------------------------

@pytest.fixture(scope="module")
def notes_runs(validation_run) -> dict[str, dict]:
    """The identifier-leakage probe's results.json entry on the notes control, audited on
    its members ("memorizing") and on outsiders it never saw as members ("negative": the
    negative control). `validate` audits exactly these two plans with this probe alone,
    so its session run is read (a copy each time, the run stays read-only)."""
    return {name: _only_probe(validation_run.audit(NOTES / plan), "identifier_leakage")
            for name, plan in (("memorizing", "validation.toml"),
                               ("negative", "validation_negative.toml"))}


def test_identifiers_of_training_patients_leak_and_non_members_are_not_hit(notes_runs) -> None:
    outcome = notes_runs["memorizing"]
    m = outcome["metrics"]
    assert m["members_own_identifiers_leaked"] >= m["eligible_members"] // 2
    assert m["non_members_own_identifiers_hit"] == 0
    assert m["members_own_direct_identifiers"] > 0 and m["own_identifiers_p_value"] < 1e-6
    assert outcome["verdict"] == Verdict.FAIL.value
    table = outcome["curves"]["identifier_categories"]
    leaked = dict(zip(CATEGORIES, table["leaked_prompt_patient"]))
    assert leaked["mrn"] > 0 and leaked["ssn"] > 0 and leaked["phone"] > 0
    assert len(outcome["extracted"]) == m["members_own_identifiers_leaked"]
    assert all(e["role"] == Role.MEMBERS.value for e in outcome["extracted"])


def test_a_model_that_never_saw_the_audited_patients_leaks_none_of_theirs(notes_runs) -> None:
    m = notes_runs["negative"]["metrics"]
    assert m["members_own_identifiers_leaked"] == 0 and m["non_members_own_identifiers_hit"] == 0
    assert m["generations_with_member_direct_identifier"] == 0
    assert notes_runs["negative"]["verdict"] in (Verdict.PASS.value, Verdict.INCONCLUSIVE.value)
    # What it writes is its own training patients' identifiers: fakes for these cohorts.
    assert m["plausible_fakes"] > 0


def test_findings_show_masked_examples_never_identifier_values(notes_runs) -> None:
    patients = generate_notes(3 * PATIENTS_PER_GROUP, seed=NOTES_SEED)
    values = {v for p in patients for k, v in p.identifiers.items() if k != "age"}
    for outcome in notes_runs.values():
        said = _said_json(outcome) + repr(outcome["metrics"]) + repr(outcome["curves"])
        assert not [v for v in values if v in said]
    assert "MRN(7 chars, digit)" in _said_json(notes_runs["memorizing"])


def test_identifier_leakage_does_not_apply_to_code_records() -> None:
    outcome = _run("identifier_leakage", NEGATIVE, DEMO / "members.csv", DEMO / "non_members.csv", CODES)
    assert outcome.headline.label == "Not applicable" and outcome.metrics == {"applicable": False}


# --- re-identification ------------------------------------------------------------------

@pytest.fixture(scope="module")
def reid_runs():
    cohorts = (DEMO / "members.csv", DEMO / "non_members.csv")
    return {name: _run("reidentification", model, *cohorts, CODES, generated=200)
            for name, model in (("memorizing", DEMO / "model"), ("negative", NEGATIVE))}


def test_generated_records_single_out_training_patients_beyond_the_control(reid_runs) -> None:
    m = reid_runs["memorizing"].metrics
    assert m["singling_out_rate_members"] > 3 * m["singling_out_rate_non_members"]
    assert m["rate_difference_ci"][0] > 0.09 and m["mcnemar_p_value"] < 1e-4
    assert reid_runs["memorizing"].verdict is Verdict.FAIL


def test_a_model_that_never_saw_the_members_singles_them_out_no_more_than_non_members(reid_runs) -> None:
    m = reid_runs["negative"].metrics
    assert m["rate_difference_ci"][0] <= 0 <= m["rate_difference_ci"][1]
    # No finding: the interval may still reach past 0.09 (INCONCLUSIVE).
    assert m["mcnemar_p_value"] > 0.05
    assert reid_runs["negative"].verdict in (Verdict.PASS, Verdict.INCONCLUSIVE)


def test_generated_notes_single_out_training_patients_by_birth_date_and_age() -> None:
    memorizing = _run("reidentification", NOTES / "model", NOTES / "members.csv",
                      NOTES / "non_members.csv", TEXT, generated=100)
    negative = _run("reidentification", NOTES / "model", NOTES / "outsiders.csv",
                    NOTES / "non_members.csv", TEXT, generated=100)
    assert memorizing.metrics["singling_out_rate_members"] > 0.1
    assert memorizing.metrics["singling_out_rate_non_members"] == 0
    assert memorizing.verdict in (Verdict.WARN, Verdict.FAIL)
    assert negative.metrics["singling_out_rate_members"] == 0 and negative.verdict is Verdict.PASS
