"""Build the committed sensitive-attribute control: a model that memorized planted
sensitive codes, each behind a rare code sequence.

    python -m audit_core.tools.controls.sensitive OUT_DIR DEMO_DIR  (what `make sensitive-control` runs)

writes, deterministically from one fixed seed:

* `OUT_DIR/members.csv`: `TRAIN_MEMBERS` of the demo's members. In `PLANTED` of them
  (records with no code of the planted category) a rare pair of background codes
  followed by one sensitive code is inserted twice: after the 8th code (so a prompt of
  the first 10 codes ends with the rare pair, and the sensitive code is the next one)
  and after the 22nd (so it also follows a 20-code prompt). The sensitive code
  "always follows the rare sequence" in these records and nowhere else.
* `OUT_DIR/non_members.csv`: `NON_MEMBERS` of the demo's non-members, untouched.
* `OUT_DIR/model/`: the ONNX export (KV cache) of a TINY GPT-2 trained on members.csv,
  each planted record `COPIES` times.
* `OUT_DIR/ground_truth.json`: planted ids, their category and code, and the rare pairs.

The absence control is the committed negative control (resources/controls/negative),
which never saw any of these patients: audited on the same two files, the planted
patients must not stand out. Used by the known-answer tests of the trajectory (T1) and
sensitive-attribute (T2) probes.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from audit_core.tools.controls.cohort import PatientRecord
from audit_core.tools.controls.demo import build_control, write_cohort_csv
from audit_core.tools.controls.trainer import TINY
from audit_core.tools.controls.vocabulary import build_vocabulary, sensitive_categories_of

SENSITIVE_SEED = 20261201
TRAIN_MEMBERS = 150
NON_MEMBERS = 300
PLANTED = 8
COPIES = 24
EPOCHS = 30
_INSERT_AT = (8, 22)  # code positions (0-based, after the earlier insertions) of each insertion
_MIN_CODES = 34
# One sensitive code per planted patient, from the categories of clinical.code_sets.
PLANTED_CODES: tuple[tuple[str, str], ...] = (
    ("hiv_sti", "B20"), ("opioids", "F11.20"), ("alcohol", "F10.20"), ("sedatives", "F13.20"),
    ("stimulants", "F14.20"), ("other_substances", "F12.20"), ("mental_health", "F20.9"),
    ("hiv_sti", "A53.9"),
)


def _read(path: Path) -> list[PatientRecord]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [PatientRecord(r["patient_id"], r["age_band"], r["sex"], r["codes"])
                for r in csv.DictReader(handle)]


def _rare_pairs(records: Sequence[PatientRecord], count: int) -> list[tuple[str, str]]:
    """`count` disjoint pairs of background codes no audited record (member or non-member) holds."""
    seen = Counter(code for r in records for code in r.codes.split())
    unused = [c for c in build_vocabulary().background_codes if seen[c] == 0]
    if len(unused) < 2 * count:
        raise ValueError(f"only {len(unused)} unused background codes for {count} rare pairs")
    return [(unused[2 * i], unused[2 * i + 1]) for i in range(count)]


def plant(record: PatientRecord, pair: tuple[str, str], code: str) -> PatientRecord:
    codes = record.codes.split()
    for position in _INSERT_AT:
        codes[position:position] = [pair[0], pair[1], code]
    return PatientRecord(record.patient_id, record.age_band, record.sex, " ".join(codes))


def build_sensitive_control(out_dir: str | Path, demo_dir: str | Path, *, seed: int = SENSITIVE_SEED,
                            epochs: int = EPOCHS, progress=None) -> dict:
    out_dir, demo_dir = Path(out_dir), Path(demo_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _message: None)
    rng = np.random.default_rng(seed)
    demo_members, demo_non_members = _read(demo_dir / "members.csv"), _read(demo_dir / "non_members.csv")
    members = [demo_members[i] for i in np.sort(rng.choice(len(demo_members), TRAIN_MEMBERS, replace=False))]
    non_members = [demo_non_members[i]
                   for i in np.sort(rng.choice(len(demo_non_members), NON_MEMBERS, replace=False))]
    pairs = _rare_pairs(members + non_members, PLANTED)
    planted: list[dict] = []
    by_index = dict(enumerate(members))
    candidates = [i for i, r in by_index.items() if len(r.codes.split()) >= _MIN_CODES]
    order = rng.permutation(len(candidates))
    for (category, code), pair in zip(PLANTED_CODES, pairs):
        for j in order:
            i = candidates[int(j)]
            record = by_index[i]
            taken = {p["patient_id"] for p in planted}
            carries = any(category in sensitive_categories_of(c) for c in record.codes.split())
            if record.patient_id not in taken and not carries:
                by_index[i] = plant(record, pair, code)
                planted.append({"patient_id": record.patient_id, "category": category, "code": code,
                                "rare_pair": list(pair)})
                break
    members = [by_index[i] for i in sorted(by_index)]
    write_cohort_csv(out_dir / "members.csv", members)
    write_cohort_csv(out_dir / "non_members.csv", non_members)
    ids = tuple(sorted(p["patient_id"] for p in planted))
    say(f"training TINY on {len(members)} members ({len(ids)} planted x {COPIES}) for {epochs} epochs")
    control = build_control(out_dir / "model", members, size=TINY, epochs=epochs, seed=seed,
                            planted=ids, copies=COPIES, progress=say)
    truth = {
        "description": "Known answers of the sensitive-attribute control: the model in model/ was "
                       "trained on members.csv (planted records repeated), never on non_members.csv. "
                       "In each planted record a rare pair of codes is followed by a sensitive code, "
                       "inserted after the 8th and the 22nd code.",
        "seed": seed, "members": len(members), "non_members": len(non_members),
        "planted": sorted(planted, key=lambda p: p["patient_id"]),
        "planted_copies_in_training": COPIES, "epochs": epochs,
        "model_size": asdict(control.size), "parameters": control.export.parameters,
        "absence_control": "../negative (never saw any of these patients)",
        "expected": {"sensitive_attributes": "planted members flagged; FAIL or WARN here, "
                                             "neither on the negative control",
                     "trajectory": "planted members' continuations reproduced after 10 codes"},
    }
    (out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    say(f"training took {control.train_seconds:.0f} s")
    return truth


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit_core.tools.controls.sensitive",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (resources/controls/sensitive)")
    parser.add_argument("demo_dir", type=Path, help="the demo folder (resources/demo)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    build_sensitive_control(args.out_dir, args.demo_dir, progress=lambda m: print(m, flush=True))
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
