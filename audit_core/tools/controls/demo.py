"""Build the demo: a control model that memorizes, its cohorts, and the known answers.

    python -m audit_core.tools.controls.demo OUT_DIR        (what `make demo-model` runs)

writes, deterministically from one fixed seed:

* `OUT_DIR/model/`: the ONNX export (KV cache) of a DEMO-size GPT-2 trained on the
  members, with `PLANTED` member records each present `COPIES` times in training;
* `OUT_DIR/members.csv`, `OUT_DIR/non_members.csv`: 1000 records each from one
  population (`patient_id,age_band,sex,codes`), ids `P000001`... assigned at random
  to either side, so neither the ids nor the records tell the sides apart;
* `OUT_DIR/ground_truth.json`: planted ids, duplication, epochs, size, seed, and what
  the model was measured to have memorized (LOSS AUC, extracted records), which the
  tests use as known answers.

`build_control` is the reusable part: train a control of any size on any records
(with or without planted duplicates) and export it. A negative control is simply a
model trained on a cohort disjoint from the audited members.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from audit_core.stats.roc import auc
from audit_core.tools.controls.cohort import PatientRecord, generate_cohort
from audit_core.tools.controls.export import MODEL_FILENAME, ExportReport, export_model
from audit_core.tools.controls.memorization import (
    EXTRACTION_PREFIX,
    EXTRACTION_SUFFIX,
    extraction,
    mean_token_logprobs,
)
from audit_core.tools.controls.onnx_runner import open_model
from audit_core.tools.controls.tokenizer import build_tokenizer
from audit_core.tools.controls.trainer import DEMO, ModelSize, train_model
from audit_core.tools.controls.vocabulary import SENSITIVE_CATEGORIES, sensitive_categories_of

DEMO_SEED = 20261129
DEMO_MEMBERS = 1000
DEMO_NON_MEMBERS = 1000
DEMO_EPOCHS = 24
PLANTED = 10
COPIES = 40  # times each planted record occurs in training (its own row + 39 duplicates)
# Planted records fit the context (no windowing) and are long enough for extraction.
_PLANTED_MIN_TOKENS, _PLANTED_MAX_TOKENS = 48, 110
CSV_COLUMNS = ("patient_id", "age_band", "sex", "codes")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ControlBuild:
    """What `build_control` trained and exported."""

    model_dir: Path
    export: ExportReport
    size: ModelSize
    epochs: int
    seed: int
    planted_ids: tuple[str, ...]
    copies: int
    training_sequences: int
    train_seconds: float


def token_count(tokenizer: Tokenizer, record: PatientRecord) -> int:
    """Tokens of the record as scored: with BOS and EOS."""
    return len(tokenizer.encode(record.codes).ids)


def choose_planted(records: Sequence[PatientRecord], tokenizer: Tokenizer, count: int, *,
                   seed: int, min_tokens: int = _PLANTED_MIN_TOKENS,
                   max_tokens: int = _PLANTED_MAX_TOKENS) -> tuple[str, ...]:
    """Ids of `count` records (sorted) suitable for planting, chosen by `seed`."""
    candidates = [r.patient_id for r in records
                  if min_tokens <= token_count(tokenizer, r) <= max_tokens]
    if len(candidates) < count:
        raise ValueError(f"only {len(candidates)} records of {min_tokens}-{max_tokens} tokens")
    chosen = np.random.default_rng(seed).choice(len(candidates), size=count, replace=False)
    return tuple(sorted(candidates[i] for i in chosen))


def training_sequences(records: Sequence[PatientRecord], planted_ids: Sequence[str],
                       copies: int) -> list[str]:
    """Every record once, plus `copies - 1` extra copies of each planted record."""
    by_id = {r.patient_id: r for r in records}
    missing = [pid for pid in planted_ids if pid not in by_id]
    if missing:
        raise ValueError(f"planted ids not among the training records: {missing}")
    extra = [by_id[pid].codes for pid in planted_ids for _ in range(copies - 1)]
    return [r.codes for r in records] + extra


def build_control(out_dir: str | Path, train_records: Sequence[PatientRecord], *,
                  size: ModelSize, epochs: int, seed: int, planted: Sequence[str] = (),
                  copies: int = COPIES, kv_cache: bool = True, learning_rate: float = 3e-3,
                  progress: Progress | None = None) -> ControlBuild:
    """Train a control model on `train_records` (+ planted duplicates) and export it."""
    tokenizer = build_tokenizer()
    sequences = training_sequences(train_records, planted, copies)
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    model = train_model(
        sequences, tokenizer, size=size, epochs=epochs, seed=seed, learning_rate=learning_rate,
        on_epoch=lambda e, n, loss: say(f"epoch {e}/{n}: loss {loss:.3f}"))
    train_seconds = time.perf_counter() - started
    report = export_model(model, tokenizer, out_dir, kv_cache=kv_cache)
    say(f"exported {report.onnx_bytes / 1e6:.1f} MB, max |dlogit| {report.max_abs_logit_diff:.2g}")
    return ControlBuild(Path(out_dir), report, size, epochs, seed, tuple(planted), copies,
                        len(sequences), train_seconds)


def write_cohort_csv(path: str | Path, records: Sequence[PatientRecord]) -> None:
    """CSV with `CSV_COLUMNS`, rows sorted by id, '\\n' line ends (byte-stable)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in sorted(records, key=lambda r: r.patient_id):
            writer.writerow((r.patient_id, r.age_band, r.sex, r.codes))


def split_population(population: Sequence[PatientRecord], n_members: int,
                     seed: int) -> tuple[list[PatientRecord], list[PatientRecord]]:
    """Random members / non-members split of one population."""
    order = np.random.default_rng(seed).permutation(len(population))
    members = sorted((population[i] for i in order[:n_members]), key=lambda r: r.patient_id)
    others = sorted((population[i] for i in order[n_members:]), key=lambda r: r.patient_id)
    return members, others


def _sensitive_prevalence(records: Sequence[PatientRecord]) -> dict[str, float]:
    carriers = {name: 0 for name in SENSITIVE_CATEGORIES}
    for r in records:
        for name in {c for token in r.codes.split() for c in sensitive_categories_of(token)}:
            carriers[name] += 1
    return {name: round(n / len(records), 4) for name, n in carriers.items()}


def measure(model_dir: Path, members: Sequence[PatientRecord],
            non_members: Sequence[PatientRecord], planted_ids: Sequence[str]) -> dict:
    """LOSS AUC and extraction counts of an exported control, with onnxruntime."""
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    context = json.loads((model_dir / "config.json").read_text())["n_positions"]
    model = open_model(model_dir / MODEL_FILENAME)
    texts_m, texts_n = [r.codes for r in members], [r.codes for r in non_members]
    scores_m = mean_token_logprobs(model, tokenizer, texts_m, context=context)
    scores_n = mean_token_logprobs(model, tokenizer, texts_n, context=context)
    extracted_m = extraction(model, tokenizer, texts_m)
    extracted_n = extraction(model, tokenizer, texts_n)
    planted = set(planted_ids)
    is_planted = np.array([r.patient_id in planted for r in members])
    return {
        "loss_auc_members_vs_non_members": round(auc(scores_m, scores_n), 4),
        "mean_token_logprob_members": round(float(scores_m.mean()), 4),
        "mean_token_logprob_non_members": round(float(scores_n.mean()), 4),
        "scored_tokens": f"first {context} tokens of each record (no windowing)",
        "planted_extracted": int(extracted_m.extracted[is_planted].sum()),
        "other_members_extracted": int(extracted_m.extracted[~is_planted].sum()),
        "non_members_extracted": extracted_n.count,
        "eligible_members": int(extracted_m.eligible.sum()),
        "eligible_non_members": int(extracted_n.eligible.sum()),
        "records_longer_than_context": {
            "members": sum(len(tokenizer.encode(t).ids) > context for t in texts_m),
            "non_members": sum(len(tokenizer.encode(t).ids) > context for t in texts_n)},
    }


def build_demo(out_dir: str | Path, *, seed: int = DEMO_SEED, size: ModelSize = DEMO,
               epochs: int = DEMO_EPOCHS, progress: Progress | None = None) -> dict:
    """Write model/, members.csv, non_members.csv and ground_truth.json; return the latter."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _message: None)
    # Independent streams per purpose, so changing one never reshuffles another.
    population = generate_cohort(DEMO_MEMBERS + DEMO_NON_MEMBERS, seed=seed, id_prefix="P")
    members, non_members = split_population(population, DEMO_MEMBERS, seed + 1)
    planted = choose_planted(members, build_tokenizer(), PLANTED, seed=seed + 2)
    write_cohort_csv(out_dir / "members.csv", members)
    write_cohort_csv(out_dir / "non_members.csv", non_members)
    say(f"cohorts written; training {size.name} for {epochs} epochs")
    control = build_control(out_dir / "model", members, size=size, epochs=epochs, seed=seed,
                            planted=planted, copies=COPIES, progress=say)
    truth = {
        "description": "Known answers of the Mnemoscope demo: the model in model/ was trained "
                       "on members.csv (plus planted duplicates), never on non_members.csv.",
        "seed": seed,
        "members_file": "members.csv", "non_members_file": "non_members.csv",
        "members": len(members), "non_members": len(non_members),
        "planted_ids": list(planted),
        "planted_copies_in_training": COPIES,
        "planted_duplicates_added": COPIES - 1,
        "training_sequences": control.training_sequences,
        "epochs": epochs,
        "model_size": asdict(size),
        "parameters": control.export.parameters,
        "extraction_protocol": {"prefix_tokens_including_bos": EXTRACTION_PREFIX,
                                "suffix_tokens": EXTRACTION_SUFFIX, "decoding": "greedy"},
        "sensitive_prevalence": {"members": _sensitive_prevalence(members),
                                 "non_members": _sensitive_prevalence(non_members)},
        "measured": measure(control.model_dir, members, non_members, planted),
    }
    (out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    say(f"training took {control.train_seconds:.0f} s")
    return truth


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit_core.tools.controls.demo",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (e.g. resources/demo)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    truth = build_demo(args.out_dir, progress=lambda m: print(m, flush=True))
    measured = truth["measured"]
    print(f"LOSS AUC {measured['loss_auc_members_vs_non_members']}, planted extracted "
          f"{measured['planted_extracted']}/{len(truth['planted_ids'])}, non-members extracted "
          f"{measured['non_members_extracted']}; {time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
