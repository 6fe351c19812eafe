"""A MEDS dataset in MIMIC-IV MEDS code style made from the controls' synthetic cohort,
and a TINY code model trained on its training split, for the end-to-end run.

Each synthetic record (AGE_x SEX_y VISIT codes... VISIT GAP_1M codes...) becomes MEDS rows:
GENDER//M (static), MEDS_BIRTH (from the age band), HOSPITAL_ADMISSION//ELECTIVE per visit
(time advanced by the record's GAP), DIAGNOSIS//ICD//10//E1165 per ICD code (MIMIC drops the
dot), LAB//HBA1C//UNK with a numeric value, MEDICATION//METFORMIN. The tokenizer is a
WordLevel one over the words the reader makes of it, so the model reads MEDS words.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

from audit_core.tools.controls.cohort import PatientRecord, generate_cohort
from audit_core.tools.controls.vocabulary import BOS, EOS, PAD, SPECIAL_TOKENS, UNK
from tests.meds.datasets import Row, write_dataset

GAPS = {"GAP_1W": 7, "GAP_1M": 30, "GAP_3M": 91, "GAP_6M": 182, "GAP_1Y": 365, "GAP_2Y_PLUS": 800}
START = datetime(2150, 1, 1, 8, 0)


def meds_rows(subject: int, record: PatientRecord) -> list[Row]:
    words = record.codes.split()
    low = int(record.age_band.split("_")[1]) if record.age_band.split("_")[1].isdigit() else 40
    rows: list[Row] = [(subject, None, f"GENDER//{record.sex.split('_')[1]}", None),
                       (subject, (START - timedelta(days=365.25 * (low + 5))).isoformat(), "MEDS_BIRTH", None)]
    when = START + timedelta(days=subject % 97)
    for word in words[2:]:
        if word in GAPS:
            when += timedelta(days=GAPS[word])
            continue
        when += timedelta(minutes=10)
        if word == "VISIT":
            rows.append((subject, when.isoformat(), "HOSPITAL_ADMISSION//ELECTIVE", None))
        elif word.startswith("LAB_"):
            name, level = word[4:].rsplit("_", 1)
            rows.append((subject, when.isoformat(), f"LAB//{name}//UNK", {"HIGH": 9.0, "LOW": 1.0}.get(level, 5.0)))
        elif word.startswith("RX_"):
            rows.append((subject, when.isoformat(), f"MEDICATION//{word[3:]}", None))
        else:
            rows.append((subject, when.isoformat(), f"DIAGNOSIS//ICD//10//{word.replace('.', '')}", None))
    return rows


def control_dataset(root: Path, per_split: int = 60, seed: int = 301) -> Path:
    """`per_split` subjects in train (shard data/train/0) and held_out (data/held_out/0)."""
    population = generate_cohort(2 * per_split, seed=seed, id_prefix="M")
    shards = {"train/0.parquet": [r for i, p in enumerate(population[:per_split])
                                  for r in meds_rows(1000 + i, p)],
              "held_out/0.parquet": [r for i, p in enumerate(population[per_split:])
                                     for r in meds_rows(5000 + i, p)]}
    splits = [(1000 + i, "train") for i in range(per_split)] + [(5000 + i, "held_out") for i in range(per_split)]
    return write_dataset(root, shards, splits)


def word_tokenizer(words: set[str]) -> Tokenizer:
    """A WordLevel tokenizer over `words`, built as the controls' tokenizer is."""
    vocab = {token: i for i, token in enumerate([*SPECIAL_TOKENS, *sorted(words - set(SPECIAL_TOKENS))])}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", special_tokens=[(BOS, vocab[BOS]), (EOS, vocab[EOS])])
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in SPECIAL_TOKENS])
    tokenizer.enable_padding(direction="right", pad_id=vocab[PAD], pad_token=PAD)
    return tokenizer
