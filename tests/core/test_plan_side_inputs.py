"""The plan's side-input tables: parsed, refused when wrong, written back only when set; the
mapping proposed from input names; and a run on files of codes refused before scoring
when the model reads event data."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit_core.data.cohort import Role
from audit_core.errors import DataError, PlanError
from audit_core.kinds import causal_lm
from audit_core.plan.parsing import load_plan, plan_from_dict
from audit_core.plan.side_input_keys import propose_inputs, token_head
from audit_core.plan.writing import plan_toml
from audit_core.tools.bench import side_input_lm as side_input_model
from audit_core.work.progress import Progress

ROOT = Path(__file__).resolve().parents[2]


def _raw(**model) -> dict:
    return {"model": {"path": "m", **model}, "data": {"members": "a.csv", "non_members": "b.csv"}}


def test_tables_parse_and_round_trip_through_the_written_plan() -> None:
    plan = plan_from_dict(_raw(inputs={"ages": "age_years", "token_type_ids": "type"},
                               token_types={"special": 0, "DIAGNOSIS": 3, "MEDS_BIRTH": 1}))
    assert plan.model.inputs == {"ages": "age_years", "token_type_ids": "type"}
    text = plan_toml(plan)
    assert "[model.inputs]" in text and "[model.token_types]" in text
    again = plan_from_dict(tomllib.loads(text))
    assert again.model.inputs == plan.model.inputs and again.model.token_types == plan.model.token_types


def test_a_plan_without_the_tables_reads_back_as_before() -> None:
    plan = load_plan(ROOT / "resources" / "demo" / "plan.toml")
    assert plan.model.inputs == {} and plan.model.token_types == {}
    assert "inputs" not in plan.as_dict()["model"] and "token_types" not in plan.as_dict()["model"]


@pytest.mark.parametrize(("model", "message"), [
    ({"inputs": {"ages": "birthday"}}, "'model.inputs.ages' must be one of type, age_years"),
    ({"inputs": {"ages": 3}}, "'model.inputs.ages' must be one of"),
    ({"inputs": {"input_ids": "type"}}, "feeds it itself"),
    ({"inputs": "ages"}, "must be a table"),
    ({"token_types": {"DIAGNOSIS": "three"}}, "'model.token_types.DIAGNOSIS' must be a non-negative integer"),
    ({"token_types": {"DIAGNOSIS": 1.5}}, "non-negative integer"),
    ({"token_types": {"LAB": True}}, "non-negative integer"),
    ({"token_types": {"LAB": -1}}, "non-negative integer"),
])
def test_wrong_tables_are_refused(model, message) -> None:
    with pytest.raises(PlanError, match=message):
        plan_from_dict(_raw(**model))


def test_the_proposal_follows_the_input_names() -> None:
    proposed = propose_inputs(["input_ids", "attention_mask", "token_type_ids", "ages", "time_stamps",
                               "visit_orders", "visit_segments", "position_ids", "past_key_values.0.key",
                               "segment_ids", "age", "times", "bmi"])
    assert proposed == {"token_type_ids": "type", "ages": "age_years", "time_stamps": "time_days",
                        "visit_orders": "visit", "visit_segments": "visit_segment",
                        "position_ids": "position", "segment_ids": "visit_segment", "age": "age_years",
                        "times": "time_days", "bmi": None}


def test_heads_of_both_code_conventions() -> None:
    assert token_head("DIAGNOSIS//ICD//10//M25511") == "DIAGNOSIS"
    assert token_head("ICD10CM/E11.9") == "ICD10CM"
    assert token_head("MEDS_BIRTH") == "MEDS_BIRTH"


def _codes_plan(tmp_path: Path, inputs: str = "") -> Path:
    model = side_input_model.build(tmp_path / "model", kv_cache=False, declare=True)
    rng = np.random.default_rng(3)
    words = side_input_model.WORDS
    for name, start in (("members", 0), ("non_members", 100)):
        pd.DataFrame({"patient_id": [f"p{start + i}" for i in range(12)],
                      "codes": [" ".join(rng.choice(words, 6)) for _ in range(12)]}
                     ).to_csv(tmp_path / f"{name}.csv", index=False)
    plan = tmp_path / "plan.toml"
    plan.write_text(f'[model]\npath = "{model}"\n{inputs}\n[data]\nmembers = "members.csv"\n'
                    'non_members = "non_members.csv"\n[data.columns]\nid = "patient_id"\n'
                    'sequence = "codes"\nkind = "codes"\n[probes.loss]\n')
    return plan


def test_event_inputs_on_files_of_codes_are_refused_before_scoring(tmp_path: Path) -> None:
    plan = load_plan(_codes_plan(tmp_path))
    with pytest.raises(DataError) as caught:
        causal_lm.prepare(plan, "causal_lm", Progress())
    text = str(caught.value)
    assert "'ages' (age_years)" in text and "'visit_orders' (visit)" in text
    assert "token_type_ids" not in text  # a type comes from the ids alone
    assert "members.csv" in text and 'format = "meds"' in text


def test_inputs_that_need_no_events_run_on_files_of_codes(tmp_path: Path) -> None:
    plan = load_plan(_codes_plan(tmp_path, '[model.inputs]\nages = "position"\nvisit_orders = "position"\n'))
    prepared = causal_lm.prepare(plan, "causal_lm", Progress())
    assert prepared.model_section["side_inputs"] == {"token_type_ids": "type", "ages": "position",
                                                     "visit_orders": "position"}
    ids = prepared.token_ids[Role.MEMBERS][0]
    assert np.isfinite(prepared.model.logits(ids[None, :], np.ones((1, len(ids)), dtype=np.int64))).all()


def test_inspect_lists_side_inputs_with_their_source(tmp_path: Path) -> None:
    from tests.core.test_cli import mnemoscope

    declared = side_input_model.build(tmp_path / "declared", kv_cache=True, declare=True)
    done = mnemoscope("inspect", str(declared))
    assert done.returncode == 0, done.stderr
    assert "ages               float32  [batch, seq]     <- age_years (side_inputs.json)" in done.stdout
    assert "side_inputs.json" in done.stdout.split("Files:")[1]  # hashed with the model
    bare = side_input_model.build(tmp_path / "bare", kv_cache=False, extra_input="bmi")
    done = mnemoscope("inspect", str(bare), "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: (r["source"], r["origin"]) for r in json.loads(done.stdout)["side_inputs"]}
    assert rows["visit_orders"] == ("visit", "proposed, check it")
    assert rows["bmi"] == (None, "none fits: map it in [model.inputs]")
