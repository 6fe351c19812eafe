"""The report says where membership came from on a MEDS dataset: the splits, not two files."""

from __future__ import annotations

from audit_core.report.sections.elements import Paragraph
from audit_core.report.sections.provenance import membership_blocks


def _text(results) -> str:
    return " ".join(b.text for b in membership_blocks(results) if isinstance(b, Paragraph))


def test_meds_splits_are_named_as_the_roles() -> None:
    columns = {"id": "subject_id", "sequence": "code", "kind": "codes", "subgroups": ["GENDER"]}
    results = {"datasets": [
        {"role": "members", "format": "meds", "columns": {**columns, "splits": ["train", "tuning"]}},
        {"role": "non_members", "format": "meds", "columns": {**columns, "splits": ["held_out"]}}]}
    text = _text(results)
    assert "subjects of the MEDS dataset's split train, tuning, which the model was trained on" in text
    assert "those of the split held_out" in text and "no subject is in two splits" in text
    assert "Subgroups read from static codes: GENDER." in text and "members file" not in text


def test_two_files_keep_their_wording() -> None:
    results = {"datasets": [{"role": "members", "format": "csv", "columns": {"subgroups": []}}]}
    assert "the members file holds records the model was trained on" in _text(results)
