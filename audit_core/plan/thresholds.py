"""The split check's [thresholds.split_validity] table; the families' tables are declared
in their modules (audit_core/families/) and gathered with this one, where the probes and
the family registry are known, by audit_core/probes/selection.py (`threshold_tables`).

The split check's table is not a family's: no probe is judged by it and the report has
no wording for it. The runner reads it before any probe runs to decide whether the two
cohorts can be told apart without the model (data/split_validity.py takes the numbers as
arguments, so the check itself knows nothing of plans).
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.settings import param


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitValidityThresholds:
    max_auc: float = param(
        0.6, label="Membership verdicts unreliable when the split check's AUC exceeds",
        min=0.5, max=1.0,
        help="A model-free classifier's cross-validated AUC on members vs non-members; above "
             "this every membership verdict is INCONCLUSIVE.",
        anchor="Duan et al. 2024; Meeus et al. 2024 (SoK): a model-free classifier above AUC 0.6 "
               "means the split, not the model, separates the cohorts")
    folds: int = param(5, label="Cross-validation folds of the split check", min=2, max=20,
                       anchor="product default")


SPLIT_VALIDITY = "split_validity"

