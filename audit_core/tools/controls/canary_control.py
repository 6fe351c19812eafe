"""Build the committed canary control: a code model with canaries inserted 1, 4, 16 and 64 times.

    python -m audit_core.tools.controls.canary_control OUT_DIR   (what `make canary-control` runs)

writes, deterministically from one fixed seed:

* `OUT_DIR/canaries/`: the canary set exactly as `mnemoscope canaries` writes it
  (manifest.json, canaries.csv, and the seed file canary.seed; the seed is fixed here
  because this is a public test fixture, never a real secret);
* `OUT_DIR/model/`: a TINY GPT-2 (ONNX, KV cache, the code tokenizer) trained on the
  records of `members.csv` plus every canary as many times as the manifest says;
* `members.csv`, `non_members.csv`: the training patients and patients never seen;
* `ground_truth.json`: how it was built.

Exposure must rise with the number of insertions (Carlini et al. 2019, figure 3); the
negative control (resources/controls/negative), which never saw a canary, must show
none exposed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from audit_core.canaries.design import draw_canaries, render
from audit_core.canaries.files import design_set, write_canary_set
from audit_core.tools.controls.cohort import generate_cohort
from audit_core.tools.controls.demo import split_population, write_cohort_csv
from audit_core.tools.controls.export import export_model
from audit_core.tools.controls.tokenizer import build_tokenizer
from audit_core.tools.controls.trainer import TINY, train_model

CANARY_SEED = 20261206
PATIENTS = 400
CANARIES = 12  # three at each of 1, 4, 16 and 64 insertions
# Few passes over the data: a canary inserted once is then seen a handful of times and
# one inserted 64 times hundreds, so exposure has room to rise with insertions instead
# of every canary being learnt by heart (as after 30 epochs on so small a cohort).
EPOCHS = 6
SECRET_LENGTH = 5  # 10^5 secrets, 16.6 bits: ranked exactly, one symbol at a time

# Relative paths, the manifest's too, are read from the plan's folder: run it from anywhere.
PLAN = """\
# Known-answer audit: canaries inserted 1, 4, 16 and 64 times must show exposure rising
# with the number of insertions (see ground_truth.json).
[audit]
title = "Canary control (known answer: exposure rises with insertions)"
institution = "Mnemoscope self-validation (synthetic data)"
seed = 20261206

[model]
path = "model"
batch_size = 32

[data]
members = "members.csv"
non_members = "non_members.csv"

[data.columns]
id = "patient_id"
sequence = "codes"
kind = "codes"
subgroups = ["age_band", "sex"]

[probes.canary_exposure]
manifest = "canaries/manifest.json"
[probes.reidentification]
"""


def build_canary_control(out_dir: str | Path, *, seed: int = CANARY_SEED, epochs: int = EPOCHS,
                         progress=None) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _message: None)
    population = generate_cohort(PATIENTS, seed=seed, id_prefix="K")
    members, non_members = split_population(population, PATIENTS // 2, seed=seed + 1)
    secret = hashlib.sha256(f"mnemoscope canary control {seed}".encode()).digest()
    canary_set = design_set("codes", CANARIES, cohort_tokens=[t for r in members for t in r.codes.split()],
                            secret_length=SECRET_LENGTH, seed=secret)
    shutil.rmtree(out_dir / "canaries", ignore_errors=True)
    write_canary_set(out_dir / "canaries", out_dir / "canaries" / "canary.seed", canary_set, secret,
                     id_column="patient_id", sequence_column="codes")
    canaries = draw_canaries(canary_set, secret)
    sequences = [r.codes for r in members]
    sequences += [render(canary_set, c.prefix, c.secret) for c in canaries for _ in range(c.repeats)]
    tokenizer = build_tokenizer()
    started = time.perf_counter()
    model = train_model(sequences, tokenizer, size=TINY, epochs=epochs, seed=seed,
                        on_epoch=lambda e, n, loss: say(f"epoch {e}/{n}: loss {loss:.3f}"))
    seconds = time.perf_counter() - started
    report = export_model(model, tokenizer, out_dir / "model")
    write_cohort_csv(out_dir / "members.csv", members)
    write_cohort_csv(out_dir / "non_members.csv", non_members)
    truth = {
        "description": "Canary control: model/ was trained on members.csv plus each canary of "
                       "canaries/ inserted as many times as the manifest says.",
        "seed": seed,
        "members": len(members),
        "non_members": len(non_members),
        "canaries": CANARIES,
        "repeats": sorted(set(canary_set.repeats)),
        "space_bits": round(canary_set.space_bits, 3),
        "training_sequences": len(sequences),
        "epochs": epochs,
        "model_size": asdict(TINY),
        "parameters": report.parameters,
        "train_seconds": round(seconds, 1),
    }
    (out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    (out_dir / "plan.toml").write_text(PLAN)
    return truth


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit_core.tools.controls.canary_control",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (resources/controls/canaries)")
    args = parser.parse_args(argv)
    truth = build_canary_control(args.out_dir, progress=lambda m: print(m, flush=True))
    print(f"trained in {truth['train_seconds']} s on {truth['training_sequences']} sequences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
