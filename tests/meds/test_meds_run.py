"""A MEDS dataset audited end to end: `python -m audit_core run PLAN` on a MEDS root with a
TINY code model trained on its training split (tests/meds/control_dataset.py), and
`mnemoscope inspect MODEL --data PLAN` showing the records beside the tokenizer's view."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit_core.cli.main import main
from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohorts
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, token_events_of
from audit_core.plan.parsing import load_plan
from tests.meds.conftest import meds_plan
from tests.meds.control_dataset import control_dataset, word_tokenizer

ROOT = Path(__file__).resolve().parents[2]
PER_SPLIT, COPIES, EPOCHS = 24, 6, 6


@pytest.fixture(scope="module")
def meds_control(tmp_path_factory) -> Path:
    """A folder with `meds/` (24 train, 24 held_out subjects), `model/` (TINY, trained on
    the train split 36 times over, so it memorizes it) and `plan.toml`."""
    from audit_core.tools.controls.export import export_model
    from audit_core.tools.controls.trainer import TINY, train_model

    folder = tmp_path_factory.mktemp("meds-control")
    root = control_dataset(folder / "meds", per_split=PER_SPLIT)
    plan = meds_plan(folder, root, model=folder / "model", extra='\n[data.columns]\nsubgroups = ["GENDER"]\n')
    cohorts = load_cohorts(load_plan(plan).data)
    tokenizer = word_tokenizer({w for c in cohorts.values() for s in c.sequences for w in s.split()})
    model = train_model(list(cohorts[Role.MEMBERS].sequences) * COPIES, tokenizer, size=TINY,
                        epochs=EPOCHS, seed=7)
    export_model(model, tokenizer, folder / "model")
    return folder


@pytest.mark.slow
def test_load_cohorts_feeds_encode_and_token_events(meds_control: Path) -> None:
    plan = load_plan(meds_control / "plan.toml")
    cohorts = load_cohorts(plan.data)
    tokenizer = load_tokenizer(plan.model.path)
    members = cohorts[Role.MEMBERS]
    ids = encode_all(tokenizer, list(members.sequences))
    aligned = token_events_of(tokenizer, members)
    assert aligned is not None and len(aligned) == len(ids) == PER_SPLIT
    for record_ids, events, words in zip(ids, aligned, members.events, strict=True):
        assert len(events) == len(record_ids) == len(words) + 2  # BOS and EOS
        assert events.visit[0] == 0 and events.visit[-1] == words.visit[-1]


@pytest.mark.slow
def test_run_end_to_end_on_a_meds_root(meds_control: Path) -> None:
    out = meds_control / "out"
    done = subprocess.run([sys.executable, "-m", "audit_core", "run", str(meds_control / "plan.toml"),
                           "--out", str(out), "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    datasets = {d["role"]: d for d in results["datasets"]}
    assert datasets["members"]["format"] == "meds" and datasets["members"]["file"] == "meds [train]"
    assert datasets["members"]["records"] == datasets["non_members"]["records"] == PER_SPLIT
    assert datasets["members"]["unknown_token_share"] == 0.0
    assert results["plan"]["data"]["format"] == "meds"
    with open(out / "records.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["id"] for r in rows if r["role"] == "members"} == {str(1000 + i) for i in range(PER_SPLIT)}
    # The model saw the members 36 times (6 copies x 6 epochs) and never the held-out ones.
    loss = next(p for p in results["probes"] if p["id"] == "loss")
    assert loss["metrics"]["auc"] > 0.75, loss["metrics"]["auc"]


@pytest.mark.slow
def test_inspect_data_shows_words_beside_tokens(meds_control: Path, capsys) -> None:
    plan = meds_control / "plan.toml"
    text = plan.read_text(encoding="utf-8")
    # Prefix map the model was not trained with: its diagnoses become unknown words.
    plan.with_name("renamed.toml").write_text(
        text + '\n[data.tokens]\nprefixes = {"DIAGNOSIS//ICD//10//" = "ICD10//"}\n', encoding="utf-8")
    assert main(["inspect", str(meds_control / "model"), "--data", str(plan)]) == 0
    shown = capsys.readouterr().out
    assert f"Members:     meds [train]: {PER_SPLIT} records" in shown and "0 unknown to the tokenizer" in shown
    assert "members record 1:" in shown and "GENDER//" in shown and "<- unknown" not in shown
    assert main(["inspect", str(meds_control / "model"), "--data", str(plan.with_name("renamed.toml"))]) == 0
    renamed = capsys.readouterr().out
    unknown = [line for line in renamed.splitlines() if line.endswith("<- unknown to the tokenizer")]
    assert unknown and all(line.split()[0].startswith("ICD10//") and "[UNK]" in line for line in unknown)
    assert main(["inspect", str(meds_control / "model"), "--data", str(plan), "--counts-only"]) == 0
    counts = capsys.readouterr().out
    assert "members record 1:" in counts and "GENDER//" not in counts and "DIAGNOSIS" not in counts
