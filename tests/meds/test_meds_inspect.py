"""`mnemoscope inspect MODEL --data PLAN` with a model whose vocabulary does not hold the
data's words (the demo model, trained on plain ICD codes, over MIMIC-IV MEDS words): the
mismatch shows word by word before any run; --counts-only keeps to numbers."""

from __future__ import annotations

import json
from pathlib import Path

from audit_core.cli.main import main
from tests.meds.conftest import DEMO_MODEL, meds_plan


def test_words_the_tokenizer_does_not_know_are_marked(tmp_path: Path, mimic_root: Path, capsys) -> None:
    plan = meds_plan(tmp_path, mimic_root)
    assert main(["inspect", str(DEMO_MODEL), "--data", str(plan)]) == 0
    shown = capsys.readouterr().out
    assert "Data:        MEDS dataset mimic" in shown
    assert "Members:     mimic [train]: 2 records, 13 words, 13 unknown to the tokenizer" in shown
    assert "members record 1: 8 words -> 10 tokens, 8 unknown" in shown
    assert "    GENDER//F" in shown and shown.count("<- unknown to the tokenizer") == 8 + 5 + 5
    assert "Non-members: mimic [held_out]: 1 records" in shown


def test_counts_only_and_json(tmp_path: Path, mimic_root: Path, capsys) -> None:
    plan = meds_plan(tmp_path, mimic_root)
    assert main(["inspect", str(DEMO_MODEL), "--data", str(plan), "--counts-only", "--json"]) == 0
    details = json.loads(capsys.readouterr().out)["data"]
    assert details["members"]["records"] == 2 and details["members"]["unknown_words"] == 13
    assert [r["words"] for r in details["members"]["first_records"]] == [8, 5]
    assert "GENDER" not in json.dumps(details) and "DIAGNOSIS" not in json.dumps(details)


def test_a_files_plan_too(demo_dir: Path, capsys) -> None:
    assert main(["inspect", str(demo_dir / "model"), "--data", str(demo_dir / "plan.toml"),
                 "--counts-only"]) == 0
    shown = capsys.readouterr().out
    assert "Data:        two files" in shown and "Members:     members.csv: 1,000 records" in shown
    assert "0 unknown to the tokenizer" in shown and "<- unknown" not in shown
