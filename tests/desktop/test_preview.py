"""The Data step's preview and mapping guess (audit_core.data.preview)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit_core.data.preview import guess_columns, preview_table
from audit_core.errors import DataError

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def test_the_demo_file_is_previewed_and_mapped() -> None:
    preview = preview_table(DEMO / "members.csv")
    assert preview.records == 1000 and preview.names == ("patient_id", "age_band", "sex", "codes")
    assert len(preview.samples) == 3
    guess = guess_columns(preview)
    assert (guess.id, guess.sequence, guess.kind, guess.subgroups) == ("patient_id", "codes", "codes", ("age_band", "sex"))


def test_free_text_is_recognised(tmp_path: Path) -> None:
    frame = pd.DataFrame({"note_text": [f"Patient seen for follow-up visit number {i}, doing well." for i in range(20)],
                          "mrn": [f"{i:06d}" for i in range(20)], "ward": ["A", "B"] * 10})
    path = tmp_path / "notes.csv"
    frame.to_csv(path, index=False)
    guess = guess_columns(preview_table(path))
    assert (guess.id, guess.sequence, guess.kind, guess.subgroups) == ("mrn", "note_text", "text", ("ward",))


def test_an_unreadable_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="empty.csv is empty"):
        preview_table(path)
