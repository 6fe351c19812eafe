"""The Model step shows an EHR model's side inputs with a source each, proposed from the
names and editable, and the plan it saves maps them ([model.inputs])."""

from __future__ import annotations

from pathlib import Path

from audit_core.tools.bench import side_input_lm as side_input_model
from desktop.plan_draft import PlanDraft


def _open(qtbot, window, folder: Path, draft: PlanDraft | None = None):
    window.start_page.new_button.click()
    page = window.model_page
    if draft is not None:
        page.load(draft)
    page.set_model_path(folder)
    qtbot.waitUntil(lambda: page.info is not None, timeout=60_000)
    return page


def test_proposed_sources_are_shown_edited_and_saved(qtbot, window, tmp_path: Path) -> None:
    folder = side_input_model.build(tmp_path / "model", kv_cache=True)
    page = _open(qtbot, window, folder)
    table = page.side_inputs
    assert table.isVisibleTo(page)
    assert {n: c.currentData() for n, c in table.combos.items()} == side_input_model.INPUTS
    labels = [table.grid.itemAtPosition(r, 2).widget().text() for r in range(1, 4)]
    assert labels == ["proposed: check it"] * 3
    assert "token_types" in table.types_note.text()  # types chosen, no table to read them from
    table.combos["ages"].setCurrentIndex(table.combos["ages"].findData("time_years"))
    assert table.grid.itemAtPosition(2, 2).widget().text() == "chosen"
    assert page.problem() == ""
    draft = PlanDraft(members=tmp_path / "m.csv", non_members=tmp_path / "n.csv")
    page.store(draft)
    plan = draft.to_plan()
    assert plan.model.inputs == {"token_type_ids": "type", "ages": "time_years", "visit_orders": "visit"}


def test_an_input_without_a_proposal_must_be_chosen(qtbot, window, tmp_path: Path) -> None:
    folder = side_input_model.build(tmp_path / "model", kv_cache=False, declare=True, extra_input="bmi")
    draft = PlanDraft()
    draft.extra = {"model": {"inputs": {"visit_orders": "visit_segment"}}}
    page = _open(qtbot, window, folder, draft)
    table = page.side_inputs
    assert table.combos["visit_orders"].currentData() == "visit_segment"  # the plan's choice wins
    assert table.grid.itemAtPosition(3, 2).widget().text() == "from the plan"
    assert table.grid.itemAtPosition(1, 2).widget().text() == "from side_inputs.json"
    assert table.types_note.isHidden()  # side_inputs.json has the token types
    assert page.problem() == "Choose what feeds the side input bmi."
    table.combos["bmi"].setCurrentIndex(table.combos["bmi"].findData("age_years"))
    assert page.problem() == ""


def test_a_model_without_side_inputs_shows_none(qtbot, window) -> None:
    demo = Path(__file__).resolve().parents[2] / "resources" / "demo" / "model"
    page = _open(qtbot, window, demo)
    assert not page.side_inputs.isVisibleTo(page)
    draft = PlanDraft()
    page.store(draft)
    assert "inputs" not in draft.extra["model"]
