"""Build the EHRMamba-style control: a synthetic MEDS dataset and two models over it.

    python -m audit_core.tools.controls.ehrmamba_control resources/examples/meds

writes, under that folder:

* `meds/`: the MEDS dataset root (meds_cohort.py): train, tuning and held_out splits.
* `model/`: the EHRMamba-style model trained on the train split, its planted subjects
  repeated (memorised on purpose): an audit with members = train and non-members =
  held_out must FAIL and name them.
* `unseen_model/`: the same recipe trained on the tuning split only (its first subjects
  repeated as many times): it never saw a member or a non-member, so nothing may FAIL.
* `ground_truth.json`: the planted subjects, their sensitive codes, the sensitive
  non-members, and the measured losses.

The plan files beside them (plan.toml, validation.toml, validation_negative.toml) are
written by hand. Deterministic in SEED on one machine; seconds to a minute on 2 cores.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

SEED = 20261207
PER_SPLIT = {"train": 40, "tuning": 40, "held_out": 60}
STEPS = 400
ROWS_PER_STEP = 10  # other subjects of the split per step
REPEATS_PER_STEP = 2  # each planted subject, every step
HIDDEN = 96
LR = 2e-2


def _split_rows(cohort, split: str, repeated: set[int], encoded: dict) -> tuple[list, list]:
    subjects = cohort.split(split)
    return ([encoded[s.subject_id] for s in subjects if s.subject_id not in repeated],
            [encoded[s.subject_id] for s in subjects if s.subject_id in repeated])


def build(folder: str | Path, *, steps: int = STEPS) -> dict:
    import torch

    from audit_core.tools.controls.ehrmamba import EhrMambaSize
    from audit_core.tools.controls.ehrmamba_export import export_ehrmamba
    from audit_core.tools.controls.ehrmamba_train import (
        build_tokenizer,
        encode,
        record_losses,
        train,
    )
    from audit_core.tools.controls.meds_cohort import build_cohort, write_meds

    started = time.perf_counter()
    folder = Path(folder)
    cohort = build_cohort(SEED, per_split=PER_SPLIT)
    write_meds(cohort, folder / "meds")
    tokenizer = build_tokenizer([w for s in cohort.subjects for w in s.words()])
    encoded = {s.subject_id: encode(s, tokenizer) for s in cohort.subjects}
    planted = {p["subject_id"] for p in cohort.planted}
    stand_ins = {s.subject_id for s in cohort.split("tuning")[:len(planted)]}
    vocab = tokenizer.get_vocab_size()
    torch.use_deterministic_algorithms(True)
    recipe = {"seed": SEED, "steps": steps, "rows_per_step": ROWS_PER_STEP,
              "planted_repeats_per_step": REPEATS_PER_STEP, "lr": LR, "hidden": HIDDEN}
    size = EhrMambaSize(hidden=HIDDEN)
    memorising = train(*_split_rows(cohort, "train", planted, encoded), vocab, seed=SEED,
                       steps=steps, rows_per_step=ROWS_PER_STEP,
                       repeats_per_step=REPEATS_PER_STEP, size=size, lr=LR)
    unseen = train(*_split_rows(cohort, "tuning", stand_ins, encoded), vocab, seed=SEED + 1,
                   steps=steps, rows_per_step=ROWS_PER_STEP,
                   repeats_per_step=REPEATS_PER_STEP, size=size, lr=LR)
    check_rows = [encoded[s.subject_id] for s in cohort.split("held_out")[:7]]
    export_ehrmamba(memorising, tokenizer, check_rows, folder / "model",
                    extra={"training": {**recipe, "split": "train"}})
    export_ehrmamba(unseen, tokenizer, check_rows, folder / "unseen_model",
                    extra={"training": {**recipe, "split": "tuning"}})

    def losses(model, ids) -> list[float]:
        return [round(float(x), 3) for x in record_losses(model, [encoded[i] for i in ids])]

    planted_ids = sorted(planted)
    others = [s.subject_id for s in cohort.split("train") if s.subject_id not in planted]
    held = [s.subject_id for s in cohort.split("held_out")]
    truth = {
        "description": "Known answers of the EHRMamba-style control (synthetic MEDS data in "
                       "meds/). model/ was trained on the train split with the planted "
                       "subjects repeated; unseen_model/ on the tuning split only. Audited with "
                       "members = train and non-members = held_out, model/ must FAIL naming the "
                       "planted subjects and unseen_model/ must not FAIL.",
        "seed": SEED, "members_split": "train", "non_members_split": "held_out",
        "counterpart_training_split": "tuning",
        "planted": cohort.planted,
        "sensitive_non_members": cohort.sensitive_non_members,
        "mean_token_loss": {
            "planted_members": losses(memorising, planted_ids),
            "other_members_median": float(np.median(losses(memorising, others))),
            "non_members_median": float(np.median(losses(memorising, held))),
            "unseen_model_planted_members": losses(unseen, planted_ids),
        },
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return truth


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m audit_core.tools.controls.ehrmamba_control OUT_FOLDER")
    result = build(sys.argv[1])
    print(json.dumps(result["mean_token_loss"], indent=2), f"{result['build_seconds']} s")
