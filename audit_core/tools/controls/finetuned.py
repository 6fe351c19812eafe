"""Fine-tuned controls: a small base model and two fine-tunings of it, for the base model
as the reference (issue 17; EZ-MIA, WBC, RMIA and LiRA calibrated against the base).

The base is trained on patients outside both audited cohorts (a stand-in for a public
model); one fine-tuning sees the members, the other the same number of other patients, with
the same recipe. Audited against the base (`reference_role = "base"`), the first must FAIL
and the second must not. The test suite (tests/conftest.py `tiny_finetuned`) and the attack
comparison (benchmarks/attacks.py) build them with this one recipe.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer
from transformers import GPT2LMHeadModel

from audit_core.tools.controls.cohort import PatientRecord, generate_cohort
from audit_core.tools.controls.demo import split_population, write_cohort_csv
from audit_core.tools.controls.export import export_model
from audit_core.tools.controls.tokenizer import build_tokenizer
from audit_core.tools.controls.trainer import TINY, train_model

# 8 epochs at 1e-3 left the fine-tuning's gain too small to FAIL (AUC 0.67-0.74: WARN).
FINETUNE_EPOCHS = 20
FINETUNE_RATE = 3e-3
BASE_EPOCHS = 50


def finetune(base: GPT2LMHeadModel, records: Sequence[PatientRecord], tokenizer: Tokenizer,
             out_dir: Path, *, seed: int = 105) -> Path:
    """`base` fine-tuned on `records` (a copy; the base is unchanged), exported to `out_dir`."""
    model = train_model([r.codes for r in records], tokenizer, size=TINY, epochs=FINETUNE_EPOCHS,
                        seed=seed, learning_rate=FINETUNE_RATE, start_from=base)
    return export_model(model, tokenizer, out_dir).out_dir


def build_finetuned_pair(folder: Path) -> tuple[Path, Path]:
    """Cohorts, a base, two fine-tunings and two plans (fine-tuned on the members; on other
    patients) that audit 300 members against 300 non-members with the base as reference.
    Returns the two plan files. About two minutes on two cores."""
    tokenizer = build_tokenizer()
    members, non_members = split_population(generate_cohort(600, seed=101, id_prefix="P"), 300, seed=102)
    outsiders = generate_cohort(300, seed=201, id_prefix="C")
    base = train_model([r.codes for r in outsiders], tokenizer, size=TINY, epochs=BASE_EPOCHS, seed=104)
    export_model(base, tokenizer, folder / "base")
    write_cohort_csv(folder / "members.csv", members)
    write_cohort_csv(folder / "non_members.csv", non_members)
    plans = []
    for name, records in (("finetuned", members),
                          ("counterpart", generate_cohort(300, seed=301, id_prefix="D"))):
        finetune(base, records, tokenizer, folder / name)
        plan = folder / f"{name}.toml"
        plan.write_text(
            f'[audit]\ntitle = "Fine-tuned control ({name})"\nseed = 7\n\n'
            f'[model]\npath = "{name}"\nbatch_size = 32\nreference = "base"\nreference_role = "base"\n\n'
            '[data]\nmembers = "members.csv"\nnon_members = "non_members.csv"\n\n'
            '[data.columns]\nid = "patient_id"\nsequence = "codes"\nkind = "codes"\n'
            'subgroups = ["age_band", "sex"]\n\n[probes.loss]\n')
        plans.append(plan)
    return plans[0], plans[1]
