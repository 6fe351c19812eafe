"""The Data step's "MEDS dataset folder" source: the split names found are offered as
members and non-members, the first patients' words appear (masked until asked) beside the
model's tokenizer's view, and the saved plan holds the MEDS keys; a MEDS plan opens there."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from audit_core.plan.parsing import load_plan
from audit_core.plan.writing import write_plan
from desktop.pages.meds_source import MASK_TEXT
from desktop.plan_draft import PlanDraft
from tests.desktop.conftest import wait_ready
from tests.meds.datasets import mimic_dataset

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo"


def _split_items(page, role: str) -> dict[str, bool]:
    split_list = page.meds_source.lists[role]
    return {split_list.item(i).text(): split_list.item(i).checkState() == Qt.CheckState.Checked
            for i in range(split_list.count())}


def _meds_step(qtbot, window, root: Path):
    window.new_audit()
    window.model_page.set_model_path(DEMO / "model")
    qtbot.waitUntil(lambda: window.model_page.info is not None, timeout=60_000)
    window.wizard.go(1)
    page = window.data_page
    page.source_choice.meds_button.setChecked(True)
    assert page.meds_source.isVisible() and not page.files_box.isVisible()
    assert page.problem() == "Choose the MEDS dataset folder."
    page.meds_source.set_root(root)
    qtbot.waitUntil(lambda: page.meds_source.splits is not None, timeout=30_000)
    return page


def test_meds_folder_splits_preview_and_saved_plan(qtbot, window, tmp_path: Path) -> None:
    root = mimic_dataset(tmp_path / "mimic")
    page = _meds_step(qtbot, window, root)
    source = page.meds_source
    assert _split_items(page, "members") == {"train": True, "held_out": False}
    assert _split_items(page, "non_members") == {"train": False, "held_out": True}
    assert "train (2 subjects), held_out (1 subjects)" in source.summary.text()
    assert page.problem() == ""
    qtbot.waitUntil(lambda: bool(source._text), timeout=30_000)
    # Patient data: masked until asked, masked again when the step is left.
    assert source.preview.toPlainText() == MASK_TEXT
    source.reveal_button.setChecked(True)
    shown = source.preview.toPlainText()
    assert "GENDER//F" in shown and "Members: mimic [train], 2 patients" in shown
    # The demo model's vocabulary has no MEDS words: the tokenizer's view marks them unknown.
    assert "<- unknown" in shown and "words unknown to the tokenizer: " in shown
    window.wizard.go(2)
    assert source.preview.toPlainText() == MASK_TEXT and not source.reveal_button.isChecked()
    window.wizard.go(1)

    # Both splits ticked as members: refused before the run.
    source.lists["members"].item(1).setCheckState(Qt.CheckState.Checked)
    assert "cannot be both members and non-members" in page.problem()
    source.lists["members"].item(1).setCheckState(Qt.CheckState.Unchecked)
    source.subgroups_field.setText("GENDER")
    plan = window.current_plan()
    assert plan.data.format == "meds" and plan.data.root == root
    assert plan.data.members_splits == ("train",) and plan.data.non_members_splits == ("held_out",)
    assert plan.data.columns.subgroups == ("GENDER",)
    write_plan(plan, tmp_path / "plan.toml")
    again = load_plan(tmp_path / "plan.toml")
    assert again.data == plan.data and 'root = "mimic"' in (tmp_path / "plan.toml").read_text()


def test_a_meds_plan_opens_on_the_meds_source(qtbot, window, tmp_path: Path) -> None:
    root = mimic_dataset(tmp_path / "mimic")
    plan_path = tmp_path / "plan.toml"
    plan_path.write_text(f'[model]\npath = "{DEMO / "model"}"\n\n[data]\nformat = "meds"\nroot = "mimic"\n'
                         'non_members_splits = ["held_out"]\n\n[data.tokens]\nnumeric = "quantiles"\n'
                         'bins = 4\n\n[data.columns]\nsubgroups = ["GENDER"]\n', encoding="utf-8")
    assert PlanDraft.from_plan(load_plan(plan_path)).meds is not None
    window.open_plan(plan_path)
    window.wizard.go(1)
    page = window.data_page
    assert page.source_choice.is_meds() and page.meds_source.root_field.text() == str(root)
    qtbot.waitUntil(lambda: page.meds_source.splits is not None, timeout=30_000)
    wait_ready(qtbot, window)
    assert page.meds_source.subgroups() == ("GENDER",)
    plan = window.current_plan()
    assert plan.data.tokens.numeric == "quantiles" and plan.data.tokens.bins == 4  # kept as opened
    window.wizard.go(4)  # the review step names the folder and each role's splits
    assert window.run_page.summary_labels["members"].text() == "mimic [train]"
    assert window.run_page.summary_labels["non_members"].text() == "mimic [held_out]"
