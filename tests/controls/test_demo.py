"""The committed demo (resources/demo) is what ground_truth.json says it is, and the
demo's building blocks are deterministic."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from audit_core.stats.roc import auc
from audit_core.tools.controls.cohort import generate_cohort
from audit_core.tools.controls.demo import (
    CSV_COLUMNS,
    choose_planted,
    split_population,
    training_sequences,
    write_cohort_csv,
)
from audit_core.tools.controls.memorization import extraction, mean_token_logprobs
from audit_core.tools.controls.onnx_runner import open_model
from audit_core.tools.controls.tokenizer import build_tokenizer

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def demo() -> dict:
    truth = json.loads((DEMO / "ground_truth.json").read_text())
    return {"truth": truth, "members": _read(DEMO / truth["members_file"]),
            "non_members": _read(DEMO / truth["non_members_file"])}


def test_demo_files_agree_with_ground_truth(demo) -> None:
    truth, members, non_members = demo["truth"], demo["members"], demo["non_members"]
    assert list(members[0]) == list(CSV_COLUMNS)
    assert len(members) == truth["members"] == 1000 and len(non_members) == truth["non_members"]
    member_ids = {r["patient_id"] for r in members}
    assert member_ids.isdisjoint(r["patient_id"] for r in non_members)
    assert set(truth["planted_ids"]) <= member_ids and len(truth["planted_ids"]) == 10
    assert 30 <= truth["planted_copies_in_training"] <= 50
    for r in members[:50]:
        assert r["codes"].split()[:2] == [r["age_band"], r["sex"]]
    config = json.loads((DEMO / "model" / "config.json").read_text())
    assert config["n_positions"] == truth["model_size"]["n_positions"] == 128
    manifest = json.loads((DEMO / "model" / "manifest.json").read_text())
    assert manifest["onnx"]["kv_cache"] is True
    assert manifest["verification"]["max_abs_logit_diff"] <= 1e-4
    # The demo stays small enough to commit.
    assert (DEMO / "model" / "model.onnx").stat().st_size < 8_000_000


def test_demo_model_memorized_what_ground_truth_says(demo) -> None:
    truth = demo["truth"]
    model = open_model(DEMO / "model" / "model.onnx")
    tokenizer = Tokenizer.from_file(str(DEMO / "model" / "tokenizer.json"))
    planted = [r["codes"] for r in demo["members"] if r["patient_id"] in truth["planted_ids"]]
    assert extraction(model, tokenizer, planted).count == len(planted) == 10
    non_members = [r["codes"] for r in demo["non_members"]]
    assert extraction(model, tokenizer, non_members[:300]).count <= 1
    members = [r["codes"] for r in demo["members"]]
    loss_auc = auc(mean_token_logprobs(model, tokenizer, members[:400], context=128),
                  mean_token_logprobs(model, tokenizer, non_members[:400], context=128))
    assert loss_auc >= 0.75
    assert truth["measured"]["loss_auc_members_vs_non_members"] >= 0.75
    assert truth["measured"]["planted_extracted"] == 10


def test_population_split_and_planting(tmp_path: Path) -> None:
    population = generate_cohort(200, seed=4)
    members, others = split_population(population, 120, seed=5)
    assert len(members) == 120 and len(others) == 80
    assert {r.patient_id for r in members}.isdisjoint(r.patient_id for r in others)
    assert split_population(population, 120, seed=5) == (members, others)
    tokenizer = build_tokenizer()
    planted = choose_planted(members, tokenizer, 4, seed=6)
    assert planted == choose_planted(members, tokenizer, 4, seed=6)
    assert all(48 <= len(tokenizer.encode(r.codes).ids) <= 110
               for r in members if r.patient_id in planted)
    sequences = training_sequences(members, planted, copies=5)
    assert len(sequences) == 120 + 4 * 4
    by_id = {r.patient_id: r.codes for r in members}
    assert all(sequences.count(by_id[pid]) == 5 for pid in planted)
    with pytest.raises(ValueError, match="not among the training records"):
        training_sequences(members, [others[0].patient_id], copies=5)


def test_cohort_csv_is_byte_stable(tmp_path: Path) -> None:
    records = generate_cohort(30, seed=8)
    write_cohort_csv(tmp_path / "a.csv", records)
    write_cohort_csv(tmp_path / "b.csv", list(reversed(records)))
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    rows = _read(tmp_path / "a.csv")
    assert [r["patient_id"] for r in rows] == sorted(r.patient_id for r in records)
    assert np.all([r["codes"] == rec.codes for r, rec in zip(rows, records)])
