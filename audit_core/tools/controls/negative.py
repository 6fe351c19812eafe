"""Build the committed negative control: a model that never saw the demo's patients.

    python -m audit_core.tools.controls.negative OUT_DIR DEMO_DIR   (what `make negative-control` runs)

writes, deterministically from one fixed seed:

* `OUT_DIR/model/`: the ONNX export (KV cache) of a TINY GPT-2 trained on
  `TRAINING_PATIENTS` synthetic patients drawn with their own seed and id prefix, none
  of whom is in the demo's cohorts (checked: no shared id, no identical record);
* `OUT_DIR/plan.toml`: an audit of this model on the demo's members and non-members;
* `OUT_DIR/ground_truth.json`: how it was built and the known answer of that audit
  (no FAIL; every membership AUC interval covers 0.5; nothing extracted), which
  `mnemoscope validate` checks on every installation.

Both of the demo's cohorts are non-members for this model, so "members" and
"non-members" are exchangeable: any separation the probes report would be a bug (or
a bad split), never memorization.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from audit_core.tools.controls.cohort import generate_cohort
from audit_core.tools.controls.demo import build_control, measure
from audit_core.tools.controls.trainer import TINY

NEGATIVE_SEED = 20261130
TRAINING_PATIENTS = 1000
EPOCHS = 30
ID_PREFIX = "N"  # the demo's patients are P000001...; these cannot collide with them

_PLAN = """\
# Known-answer audit: the negative control on the demo's cohorts. Neither cohort was in
# its training data, so the expected outcome is no FAIL and chance-level membership
# figures (see ground_truth.json). Run by `mnemoscope validate`.
[audit]
title = "Negative control on the demo cohorts (known answer: no memorization)"
institution = "Mnemoscope self-validation (synthetic data)"
seed = 20261129

[model]
path = "model"
batch_size = 32

[data]
members = "../../demo/members.csv"
non_members = "../../demo/non_members.csv"

[data.columns]
id = "patient_id"
sequence = "codes"
kind = "codes"
subgroups = ["age_band", "sex"]

[probes.loss]
[probes.zlib]
[probes.min_k]
k = 0.2
[probes.min_k_plus_plus]
k = 0.2
[probes.extraction]
prefix_tokens = 24
suffix_tokens = 16
"""


def _read_demo_cohort(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def build_negative_control(out_dir: str | Path, demo_dir: str | Path, *,
                           seed: int = NEGATIVE_SEED, patients: int = TRAINING_PATIENTS,
                           epochs: int = EPOCHS, progress=None) -> dict:
    """Write model/, plan.toml and ground_truth.json; return the ground truth."""
    out_dir, demo_dir = Path(out_dir), Path(demo_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _message: None)
    demo_members = _read_demo_cohort(demo_dir / "members.csv")
    demo_non_members = _read_demo_cohort(demo_dir / "non_members.csv")
    demo_rows = demo_members + demo_non_members
    training = generate_cohort(patients, seed=seed, id_prefix=ID_PREFIX)
    shared_ids = {r.patient_id for r in training} & {row["patient_id"] for row in demo_rows}
    shared_records = {r.codes for r in training} & {row["codes"] for row in demo_rows}
    if shared_ids or shared_records:
        raise ValueError(f"negative control shares {len(shared_ids)} ids and "
                         f"{len(shared_records)} records with the demo cohorts")
    say(f"training TINY on {patients} outside patients for {epochs} epochs")
    control = build_control(out_dir / "model", training, size=TINY, epochs=epochs, seed=seed,
                            progress=say)
    (out_dir / "plan.toml").write_text(_PLAN)

    from audit_core.tools.controls.cohort import PatientRecord

    def records(rows):
        return [PatientRecord(r["patient_id"], r["age_band"], r["sex"], r["codes"]) for r in rows]

    truth = {
        "description": "Known answers of the negative control: the model in model/ was trained on "
                       f"{patients} synthetic patients (ids {ID_PREFIX}...) drawn with their own "
                       "seed; none of the demo's members or non-members was in its training data.",
        "seed": seed,
        "training_patients": patients,
        "training_id_prefix": ID_PREFIX,
        "disjoint_from_demo": {"shared_ids": 0, "shared_records": 0,
                               "demo_records_checked": len(demo_rows)},
        "epochs": epochs,
        "model_size": asdict(control.size),
        "parameters": control.export.parameters,
        "audited_cohorts": {"members": "../../demo/members.csv",
                            "non_members": "../../demo/non_members.csv"},
        "expected": {
            "overall_verdict_not": "fail",
            "membership_auc_ci_covers": 0.5,
            "extracted_members": 0,
        },
        "measured": measure(control.model_dir, records(demo_members), records(demo_non_members), ()),
    }
    (out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    say(f"training took {control.train_seconds:.0f} s")
    return truth


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit_core.tools.controls.negative",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (resources/controls/negative)")
    parser.add_argument("demo_dir", type=Path, help="the demo folder (resources/demo)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    truth = build_negative_control(args.out_dir, args.demo_dir,
                                   progress=lambda m: print(m, flush=True))
    measured = truth["measured"]
    print(f"LOSS AUC {measured['loss_auc_members_vs_non_members']} (demo members vs non-members), "
          f"extracted {measured['planted_extracted'] + measured['other_members_extracted']} members, "
          f"{measured['non_members_extracted']} non-members; "
          f"{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
