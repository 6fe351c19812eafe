"""The tabular controls, built once per session: a synthetic readmission cohort of 1,000
members and 1,000 non-members (and 1,000 outsiders for the reference model), an overfit
random forest and a regularised logistic regression trained on the members."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_core.tools.controls.tabular_example import TabularExample, build_tabular_example, example_plan

CONTROL_SIZE = 1000  # 1,000 non-members resolve 1% FPR, so the logistic regression can PASS


@pytest.fixture(scope="session")
def tabular_controls(tmp_path_factory) -> TabularExample:
    return build_tabular_example(tmp_path_factory.mktemp("tabular"), size=CONTROL_SIZE, seed=11,
                                 logistic=True)


def tabular_plan(controls: TabularExample, model: str, reference: str | None = None,
                 name: str = "plan.toml", extra: str = "") -> Path:
    """A plan beside the control cohorts auditing `model` (a folder name in the controls)."""
    path = controls.folder / name
    path.write_text(example_plan(model, reference, title="Tabular control") + extra,
                    encoding="utf-8")
    return path
