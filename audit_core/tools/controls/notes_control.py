"""Build the committed clinical-notes control for the identifier-leakage probe.

    python -m audit_core.tools.controls.notes_control OUT_DIR   (what `make notes-control` runs)

writes, deterministically from one fixed seed:

* `OUT_DIR/model/`: a TINY GPT-2 (ONNX, KV cache) with a word-level tokenizer, trained
  on every note of the `members.csv` patients (`NOTES_PER_PATIENT` notes each, repeated
  `COPIES` times), so each member's identifiers are seen many times;
* `members.csv`, `non_members.csv`, `outsiders.csv` (columns `patient_id`, `text`: the
  first note of each patient). Non-members and outsiders were never trained on;
  auditing outsiders as if they were members is the negative control: nothing of
  theirs can come out of the model;
* `ground_truth.json`: how it was built.

The notes carry the first nine Safe Harbor categories only (`controls.notes`). The
cue-bound numbers, URLs and IP addresses are checked with `controls.notes_numbers` and
a stand-in memorizing model (tests/identifiers/test_number_leakage.py) rather than by
adding them here: that would redraw every patient and retrain this model (about 20
minutes), changing the artifacts the other known-answer tests rely on.
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

from audit_core.tools.controls.export import export_model
from audit_core.tools.controls.notes import NOTES_PER_PATIENT, NotesPatient, generate_notes
from audit_core.tools.controls.text_tokenizer import build_text_tokenizer
from audit_core.tools.controls.trainer import TINY, train_model

NOTES_SEED = 20261205
PATIENTS_PER_GROUP = 60
COPIES = 1
EPOCHS = 40

PLAN = """\
# Known-answer audit: the model was trained on the members' notes, so their identifiers
# come back when prompted; non-members' never do (see ground_truth.json). Auditing
# outsiders.csv as the members is the negative control.
[audit]
title = "Clinical-notes control (known answer: members' identifiers leak)"
institution = "Mnemoscope self-validation (synthetic data)"
seed = 20261205

[model]
path = "model"
batch_size = 32

[data]
members = "members.csv"
non_members = "non_members.csv"

[data.columns]
id = "patient_id"
sequence = "text"
kind = "text"

[probes.identifier_leakage]
[probes.reidentification]
[probes.extraction]
prefix_tokens = 4
suffix_tokens = 12
"""


def write_notes_csv(path: Path, patients: Sequence[NotesPatient]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["patient_id", "text"])
        for patient in patients:
            writer.writerow([patient.patient_id, patient.notes[0]])


def build_notes_control(out_dir: str | Path, *, seed: int = NOTES_SEED,
                        per_group: int = PATIENTS_PER_GROUP, epochs: int = EPOCHS,
                        progress=None) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _message: None)
    patients = generate_notes(3 * per_group, seed=seed)
    members = patients[:per_group]
    groups = {"members": members, "non_members": patients[per_group:2 * per_group],
              "outsiders": patients[2 * per_group:]}
    texts = [note for p in members for note in p.notes] * COPIES
    tokenizer = build_text_tokenizer(texts)
    started = time.perf_counter()
    model = train_model(texts, tokenizer, size=TINY, epochs=epochs, seed=seed,
                        on_epoch=lambda e, n, loss: say(f"epoch {e}/{n}: loss {loss:.3f}"))
    seconds = time.perf_counter() - started
    report = export_model(model, tokenizer, out_dir / "model")
    for name, group in groups.items():
        write_notes_csv(out_dir / f"{name}.csv", group)
    truth = {
        "description": "Clinical-notes control: model/ was trained on every note of the patients "
                       "in members.csv; non_members.csv and outsiders.csv were never seen.",
        "seed": seed,
        "patients_per_group": per_group,
        "notes_per_patient": NOTES_PER_PATIENT,
        "copies": COPIES,
        "training_sequences": len(texts),
        "epochs": epochs,
        "model_size": asdict(TINY),
        "parameters": report.parameters,
        "vocab_size": tokenizer.get_vocab_size(),
        "train_seconds": round(seconds, 1),
    }
    (out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    (out_dir / "plan.toml").write_text(PLAN)
    return truth


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit_core.tools.controls.notes_control",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (resources/controls/notes)")
    args = parser.parse_args(argv)
    truth = build_notes_control(args.out_dir, progress=lambda m: print(m, flush=True))
    print(f"trained in {truth['train_seconds']} s; vocabulary {truth['vocab_size']} words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
