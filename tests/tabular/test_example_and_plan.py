"""The bundled tabular example rebuilds identically, and the plan's tabular columns
round-trip through the plan file the desktop app and the CLI share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.errors import PlanError
from audit_core.plan.parsing import load_plan, plan_from_dict
from audit_core.plan.writing import plan_toml, write_plan
from audit_core.tools.controls.tabular_example import EXAMPLE, build_tabular_example


def test_the_bundled_example_is_what_its_module_builds(tmp_path: Path) -> None:
    from audit_core.data.cohort import Role
    from audit_core.data.tabular_loading import load_tabular_cohort
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_tabular import OnnxTabularClassifier

    rebuilt = build_tabular_example(tmp_path / "example")
    for name in ("members.csv", "non_members.csv", "plan.toml"):
        assert (rebuilt.folder / name).read_bytes() == (EXAMPLE / name).read_bytes(), name
    plan = load_plan(EXAMPLE / "plan.toml")
    _, records = load_tabular_cohort(plan.data.members, Role.MEMBERS, plan.data.columns)
    for folder in ("model", "reference"):  # same predictions (bytes may differ across versions)
        bundled = OnnxTabularClassifier(inspect_model(EXAMPLE / folder))
        fresh = OnnxTabularClassifier(inspect_model(rebuilt.folder / folder))
        np.testing.assert_allclose(bundled.probabilities(records.features),
                                   fresh.probabilities(records.features), atol=1e-6)


def test_tabular_columns_round_trip_through_the_plan_file(tmp_path: Path) -> None:
    plan = load_plan(EXAMPLE / "plan.toml")
    assert plan.data.columns.features[:2] == ("age", "sex_female")
    assert plan.data.columns.label == "readmitted_30d"
    path = tmp_path / "again.toml"
    write_plan(plan, path)
    again = load_plan(path)
    assert again.data.columns == plan.data.columns
    assert 'label = "readmitted_30d"' in plan_toml(plan)


def _raw(**columns) -> dict:
    return {"model": {"path": "m"}, "data": {"members": "a.csv", "non_members": "b.csv",
                                             "columns": {"id": "id", **columns}}}


@pytest.mark.parametrize(("columns", "message"), [
    ({"features": "age"}, "'data.columns.features' must be a list"),
    ({"features": ["age", 3]}, "'data.columns.features' must be a list of column names"),
    ({"features": ["age", "age"]}, "names a column twice"),
    ({"features": ["age"], "label": "age"}, "is also listed among the features"),
    ({"label": 1}, "'data.columns.label' must be a str"),
    ({"labels": "x"}, "unknown key 'data.columns.labels'"),
])
def test_bad_tabular_columns_are_refused(columns: dict, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        plan_from_dict(_raw(**columns))


def test_a_language_model_plan_is_written_as_before() -> None:
    text = plan_toml(plan_from_dict(_raw(sequence="codes")))
    assert "features" not in text and "label" not in text


def test_the_desktop_draft_keeps_the_tabular_columns_it_has_no_field_for() -> None:
    from desktop.plan_draft import PlanDraft

    plan = load_plan(EXAMPLE / "plan.toml")
    again = PlanDraft.from_plan(plan).to_plan()
    assert again.data.columns.features == plan.data.columns.features
    assert again.data.columns.label == plan.data.columns.label
