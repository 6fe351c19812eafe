"""The paper's own model family, audited in the app: the EHRMamba-style example (a Mamba2
over code, type, age, time and visit inputs) on its MEDS dataset folder, opened as a plan,
its side inputs shown on the Model step, run to the results screen, with the planted
patients named in records.csv as the CLI names them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from PySide6.QtCore import Qt

from tests.desktop.conftest import AUDIT_TIMEOUT_MS, wait_ready

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "meds"


def test_the_meds_example_runs_in_the_app_and_names_its_planted_patients(qtbot, window, dialogs,
                                                                         tmp_path: Path) -> None:
    window.open_plan(EXAMPLE / "plan.toml", remember=False)
    wait_ready(qtbot, window)
    # The Model step lists the graph's side inputs with the sources side_inputs.json declares.
    assert window.model_page.side_inputs.mapping() == {"token_type_ids": "type", "ages": "age_years", "time_stamps": "time_weeks",
                       "visit_orders": "visit", "visit_segments": "visit_segment"}
    assert window.data_page.source_choice.is_meds()
    assert window.wizard.first_problem(4)[1] == ""

    window.wizard.go(4)
    window.run_page.folder_field.setText(str(tmp_path / "app"))
    qtbot.mouseClick(window.run_page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.screens.currentWidget() is window.results_page,
                    timeout=AUDIT_TIMEOUT_MS)

    results = window.results_page
    assert results.banner_badge.text() == "FAIL"
    finished = results.finished_audit
    planted = {str(p["subject_id"]) for p in json.loads((EXAMPLE / "ground_truth.json").read_text())["planted"]}
    with open(finished.files["records"], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # extraction: the share of the suffix reproduced (1: the whole suffix, extracted)
    extracted = {r["id"] for r in rows if r["extraction"] and float(r["extraction"]) == 1.0}
    named = {r["id"] for r in rows if r["sensitive_attributes_named_carrier"] == "1"}
    assert extracted == planted  # every planted subject, and no one else
    assert named <= planted  # a sensitive diagnosis named is a planted one, if any
    t2 = next(p for p in finished.result.probes if p.id == "sensitive_attributes")
    # More members' sensitive codes came up than non-members'. The verdict itself rests on a
    # handful of mental-health carriers near the flag level (4 to 7 members against 1 to 4
    # non-members, with the draws: FAIL or PASS), so the counts are what is asserted.
    assert t2.metrics["flagged_members"] > t2.metrics["flagged_non_members"]
    flagged = {e["id"] for e in t2.extracted if e["role"] == "members"}
    assert len(flagged & planted) >= 2, flagged
    assert not dialogs.shown
