"""A language model's side inputs against the cohorts: refused before any scoring when they
need event data the cohorts lack, else given the audited records to look events up in.

An EHR model reads each token's age, time or visit (models/side_inputs.py). A file of
codes (CSV, Parquet, JSONL) has no such facts: feeding zeros would audit a model that
never saw such inputs, and its report would look complete. So the run stops, naming the
inputs and what would feed them. Token types and positions come from the ids alone and
need no events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.events import EventFeatures
from audit_core.errors import DataError
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.plan.side_input_keys import EVENT_FREE_SOURCES


def install_records(scorers: Sequence[OnnxCausalLM], token_ids: Mapping[Role, Sequence[np.ndarray]],
                    events: Mapping[Role, Sequence[EventFeatures]] | None,
                    cohorts: Mapping[Role, Cohort], model_name: str) -> None:
    """Refuse side inputs that need events the cohorts do not have; otherwise install
    both cohorts' records in every scorer that looks events up."""
    needing = [s for s in scorers if s.needs_events]
    if not needing:
        return
    if events is None:
        inputs = {name: source for s in needing for name, source in s.side_inputs.items()
                  if source not in EVENT_FREE_SOURCES}
        files = ", ".join(c.info.file for c in cohorts.values() if c.events is None)
        raise DataError(f"{model_name} reads "
                        + ", ".join(f"'{n}' ({s})" for n, s in inputs.items())
                        + f" for each token, which come from event data (times, birth, visits); "
                        f"{files} hold(s) codes only. Audit it on the MEDS dataset it was trained "
                        "on ([data] format = \"meds\"), or, if the model can do without them, map "
                        "those inputs to \"type\" or \"position\" in [model.inputs]")
    ids = [row for role in Role for row in token_ids[role]]
    features = [e for role in Role for e in events[role]]
    for scorer in needing:
        scorer.use_records(ids, features)
