"""The checks a tabular plan must pass before any record is scored, in one place.

The audit path (tabular/audit.py) runs them, and so do the front ends before a run
(the desktop's Data step, the run-time estimate), so that a mismatch between the plan's
columns and the model is refused with the same words wherever it is met.
"""

from __future__ import annotations

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.loading import check_disjoint
from audit_core.data.tabular_loading import TabularRecords, load_tabular_cohort
from audit_core.errors import PlanError
from audit_core.models.inspection import ModelInfo
from audit_core.models.onnx_tabular import OnnxTabularClassifier
from audit_core.plan.parsing import AuditPlan, ColumnMapping


def input_width(info: ModelInfo) -> int | None:
    """How many features a record has for the model (its one input's [rows, F]); None
    when the export leaves the width symbolic."""
    shape: tuple[int | str, ...] = info.inputs[0].shape if info.inputs else ()
    width = shape[1] if len(shape) == 2 else None
    return width if isinstance(width, int) else None


def require_columns(columns: ColumnMapping) -> None:
    if not columns.features:
        raise PlanError("the model is a tabular classifier: list its input columns, in its input "
                        "order, in 'data.columns.features'")
    if not columns.label:
        raise PlanError("the model is a tabular classifier: name the outcome column in "
                        "'data.columns.label'")


def require_width(columns: ColumnMapping, width: int | None, model_name: str) -> None:
    """The plan names exactly as many feature columns as the model takes inputs."""
    if width is not None and width != len(columns.features):
        raise PlanError(f"'data.columns.features' lists {len(columns.features)} columns but "
                        f"{model_name} takes {width} inputs per record: list exactly the "
                        "model's input columns, in its input order")


def read_tabular_inputs(plan: AuditPlan, model: OnnxTabularClassifier) -> tuple[
        dict[Role, Cohort], dict[Role, TabularRecords], dict[Role, np.ndarray]]:
    """Both files read as the model's rows: (cohorts, records, labels as class indices).
    Refuses missing or non-numeric feature cells, unknown labels and shared ids."""
    columns = plan.data.columns
    cohorts: dict[Role, Cohort] = {}
    records: dict[Role, TabularRecords] = {}
    for role, path in ((Role.MEMBERS, plan.data.members), (Role.NON_MEMBERS, plan.data.non_members)):
        cohorts[role], records[role] = load_tabular_cohort(path, role, columns)
    check_disjoint(cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS])
    labels = {role: model.class_indices(records[role].labels, cohorts[role].info.file, columns.label)
              for role in Role}
    return cohorts, records, labels
