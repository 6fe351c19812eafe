"""The Model step asks whether the model was fine-tuned from a public base model and lets
the user point to it: one reference field, whose role ("base" or "shadow") goes into the
draft plan beside the path, and comes back when the plan is opened again."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QLineEdit

from desktop.widgets.reference_box import QUESTION

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo"
BASE = ROOT / "resources" / "controls" / "negative" / "model"


def test_the_base_model_is_asked_for_and_stored_as_the_reference_with_its_role(
        qtbot, window, monkeypatch) -> None:
    window.start_page.new_button.click()
    page = window.model_page
    page.set_model_path(DEMO / "model")
    qtbot.waitUntil(lambda: page.info is not None, timeout=60_000)
    box = page.reference_box
    assert box.isVisible() and box.question.text() == QUESTION
    # One reference path on the page, whichever the answer: never a second field for the base.
    fields = [f for f in page.findChildren(QLineEdit) if f.accessibleName() == "Reference model path"]
    assert fields == [box.field]

    box.buttons["base"].click()
    assert box.field_label.text() == "Base model:"
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, title, folder: asked.append(title) or str(BASE))
    box.choose.click()
    assert asked == ["Choose the base model folder"] and box.field.text() == str(BASE)
    assert window.probes_page.has_reference  # the reference probes are offered
    draft = window.wizard.store()
    assert draft.extra["model"]["reference"] == str(BASE)
    assert draft.extra["model"]["reference_role"] == "base"
    draft.members, draft.non_members = DEMO / "members.csv", DEMO / "non_members.csv"
    plan = draft.to_plan()
    assert plan.model.reference == BASE and plan.model.reference_role == "base"

    # Opening the draft again shows the base model answer; "No" makes it a shadow model.
    box.buttons["shadow"].click()
    page.load(draft)
    assert box.buttons["base"].isChecked() and box.field.text() == str(BASE)
    box.buttons["shadow"].click()
    assert box.field_label.text() == "Reference model:"
    assert window.wizard.store().extra["model"]["reference_role"] == "shadow"

    # Removing the reference removes its role: a role without a reference is refused.
    box.clear.click()
    model = window.wizard.store().extra["model"]
    assert "reference" not in model and "reference_role" not in model
    assert not window.probes_page.has_reference
