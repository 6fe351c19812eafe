"""A slice of the demo cohorts (300 + 300 records, tokenized) and the probe context the
clinical stand-in tests hand their probes: planted per-record LOSS values, no model pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.families import FAMILIES
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.plan.parsing import ColumnMapping
from audit_core.probes.base import ProbeContext
from audit_core.work.progress import Progress

COLUMNS = ColumnMapping(id="patient_id", sequence="codes", kind="codes", subgroups=("age_band", "sex"))


def load_demo_slice(folder: Path, demo_dir: Path):
    tokenizer = load_tokenizer(demo_dir / "model")
    cohorts, token_ids = {}, {}
    for role, name in ((Role.MEMBERS, "members.csv"), (Role.NON_MEMBERS, "non_members.csv")):
        path = folder / name
        pd.read_csv(demo_dir / name, dtype=str).head(300).to_csv(path, index=False)
        cohorts[role] = load_cohort(path, role, COLUMNS)
        token_ids[role] = encode_all(tokenizer, list(cohorts[role].sequences))
    return cohorts, token_ids, tokenizer


def clinical_context(demo_slice, model, family: str, loss: dict[Role, np.ndarray], seed: int = 3) -> ProbeContext:
    cohorts, token_ids, tokenizer = demo_slice
    return ProbeContext(cohorts=cohorts, token_ids=token_ids, reduced=loss, model=model,
                        thresholds=FAMILIES[family].thresholds(), rng=np.random.default_rng(seed),
                        progress=Progress(), tokenizer=tokenizer, columns=COLUMNS)


def flat_loss(demo_slice, seed: int = 4) -> dict[Role, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {r: rng.normal(0, 1, len(demo_slice[1][r])) for r in Role}
