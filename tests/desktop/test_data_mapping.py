"""The Data step's column mapping: a column mapped to the id, the record content or (for a
classifier) the outcome is not offered as a subgroup, and the offer follows the mapping;
a column one file lacks is explained for the mapping both files share."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.desktop.conftest import wait_ready

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo"
TABULAR = ROOT / "resources" / "examples" / "tabular"


def _offered(page) -> list[str]:
    items = (page.subgroup_list.item(i) for i in range(page.subgroup_list.count()))
    return [item.text() for item in items if not item.isHidden()]


def _data_step(qtbot, window, folder: Path, members: Path, non_members: Path) -> None:
    window.new_audit()
    window.model_page.set_model_path(folder / "model")
    qtbot.waitUntil(lambda: window.model_page.info is not None, timeout=60_000)
    window.wizard.go(1)
    window.data_page.set_file("members", members)
    window.data_page.set_file("non_members", non_members)
    wait_ready(qtbot, window)


def test_mapped_columns_are_not_offered_as_subgroups(qtbot, window) -> None:
    _data_step(qtbot, window, DEMO, DEMO / "members.csv", DEMO / "non_members.csv")
    page = window.data_page
    assert (page.id_combo.currentText(), page.sequence_combo.currentText()) == ("patient_id", "codes")
    assert _offered(page) == ["age_band", "sex"]
    assert page.mapping()[3] == ("age_band", "sex")

    # Map the record content to "sex": it leaves the subgroups (unticked); codes comes back.
    page.sequence_combo.setCurrentText("sex")
    assert _offered(page) == ["age_band", "codes"]
    assert page.mapping()[3] == ("age_band",)
    assert page.problem() == ""
    # Back to codes: sex is offered again, ticked as it was.
    page.sequence_combo.setCurrentText("codes")
    assert _offered(page) == ["age_band", "sex"] and page.mapping()[3] == ("age_band", "sex")


def test_the_outcome_of_a_classifier_is_not_offered_as_a_subgroup(qtbot, window) -> None:
    _data_step(qtbot, window, TABULAR, TABULAR / "members.csv", TABULAR / "non_members.csv")
    page = window.data_page
    assert page.tabular.label() == "readmitted_30d"
    offered = _offered(page)
    assert "patient_id" not in offered and "readmitted_30d" not in offered
    assert "age_band" in offered and "sex" in offered
    page.tabular.label_combo.setCurrentText("sex")
    assert "sex" not in _offered(page) and "readmitted_30d" in _offered(page)
    assert "sex" not in page.mapping()[3]


def test_a_column_one_file_lacks_is_explained_for_both_files(qtbot, window, dialogs, tmp_path: Path) -> None:
    frame = pd.read_csv(DEMO / "non_members.csv", dtype=str).head(50)
    renamed = tmp_path / "renamed.csv"
    frame.rename(columns={"codes": "diagnoses"}).to_csv(renamed, index=False)
    _data_step(qtbot, window, DEMO, DEMO / "members.csv", renamed)
    text = window.data_page.mapping_problem.text()
    assert text.startswith("renamed.csv has no column 'codes'.")
    assert "applies to both files" in text and "another non-members file" in text
    assert "choose another column" not in text
    label = window.data_page.mapping_problem
    assert label.isVisible() and label.height() >= label.heightForWidth(label.width())  # not cut
