"""Plans over the tabular controls (the session fixture `tabular_controls` is in
tests/conftest.py, shared with tests/core)."""

from __future__ import annotations

from pathlib import Path

from audit_core.tools.controls.tabular_example import TabularExample, example_plan


def tabular_plan(controls: TabularExample, model: str, reference: str | None = None,
                 name: str = "plan.toml", extra: str = "") -> Path:
    """A plan beside the control cohorts auditing `model` (a folder name in the controls)."""
    path = controls.folder / name
    path.write_text(example_plan(model, reference, title="Tabular control") + extra,
                    encoding="utf-8")
    return path
