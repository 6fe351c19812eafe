"""Shared fixtures: the bundled demo (a model that memorizes on purpose), small plans over it,
and TINY control models trained once per session.

* `tiny_positive`: trained on 300 members, 3 of them planted 30 times; exported with a
  KV cache. It must give the planted records back verbatim.
* `tiny_negative`: trained as `build_control` does on a disjoint cohort; it never saw the
  members, so nothing may separate members from non-members.
* `tiny_finetuned`: `tiny_negative` as a public base model, fine-tuned on the members
  (memorizes them) and, the same way, on other patients (never saw them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from audit_core.tools.controls.cohort import PatientRecord, generate_cohort
from audit_core.tools.controls.demo import (
    ControlBuild,
    choose_planted,
    split_population,
    training_sequences,
)
from audit_core.tools.controls.encoder_control import EncoderControls, build_encoder_controls
from audit_core.tools.controls.export import ExportReport, export_model
from audit_core.tools.controls.finetuned import finetune
from audit_core.tools.controls.tabular_example import TabularExample, build_tabular_example
from audit_core.tools.controls.tokenizer import build_tokenizer
from audit_core.tools.controls.trainer import TINY, train_model
from tests.validation_run import ValidationRun, run_validation_once

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication, in later suites
# A workstation calibration in the tester's own config folder must not change estimates.
os.environ["MNEMOSCOPE_CONFIG_DIR"] = tempfile.mkdtemp(prefix="mnemoscope-test-config-")

ROOT = Path(__file__).resolve().parents[1]
TABULAR_CONTROL_SIZE = 1000  # 1,000 non-members resolve 1% FPR, so the logistic regression can PASS
DEMO = ROOT / "resources" / "demo"


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    return DEMO


@pytest.fixture(scope="session")
def demo_outputs(tmp_path_factory) -> Path:
    """The folder `make demo` writes (report.pdf, results.json, run.json, records.csv), made
    once per session the way `make demo` makes it: `python -m audit_core run
    resources/demo/plan.toml --out DIR` in a process of its own (about 35 s). Read-only:
    a test that changes a file works on a copy."""
    out = tmp_path_factory.mktemp("demo-run") / "demo"
    done = subprocess.run([sys.executable, "-m", "audit_core", "run", str(DEMO / "plan.toml"),
                           "--out", str(out), "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def validation_run(tmp_path_factory, demo_outputs: Path) -> ValidationRun:
    """`mnemoscope validate` once per session in a process of its own, each audit's result
    kept (tests/validation_run.py); the demo's audit is `demo_outputs`'. Read-only."""
    return run_validation_once(tmp_path_factory.mktemp("validate"), demo_outputs)


# The encoder and tabular controls are defined here, not in their folders' conftest.py:
# tests elsewhere (tests/core/test_one_run_path.py) use them too, and a session fixture
# registered again in another module is a fixture of its own, built a second time (the
# encoders' 20-26 s twice per run of the suite).
@pytest.fixture(scope="session")
def encoder_controls(tmp_path_factory) -> EncoderControls:
    """200 members and 200 non-members of the code-language population, a tiny encoder
    (embeddings + masked-LM head) trained to memorize the members and one of the same
    recipe trained on other patients."""
    return build_encoder_controls(tmp_path_factory.mktemp("encoders"))


@pytest.fixture(scope="session")
def tabular_controls(tmp_path_factory) -> TabularExample:
    """A synthetic readmission cohort of 1,000 members and 1,000 non-members (and 1,000
    outsiders for the reference model), an overfit random forest and a regularised logistic
    regression trained on the members."""
    return build_tabular_example(tmp_path_factory.mktemp("tabular"), size=TABULAR_CONTROL_SIZE, seed=11,
                                 logistic=True)


@pytest.fixture(scope="session")
def ground_truth() -> dict:
    return json.loads((DEMO / "ground_truth.json").read_text())


def write_plan(folder: Path, *, model: Path, members: Path, non_members: Path,
               extra: str = "", probes: str | None = None) -> Path:
    """A plan file in `folder` for the demo's column layout."""
    probes = probes if probes is not None else (
        "[probes.loss]\n[probes.zlib]\n[probes.min_k]\n[probes.min_k_plus_plus]\n"
        "[probes.extraction]\nprefix_tokens = 24\nsuffix_tokens = 16\n")
    if "[thresholds.memorized_spans]" not in extra:
        # Off unless a test asks for it: on these small cohorts the localisation rescores a
        # third of the records, a third more time for every small audit of the suite
        # (tests/core/test_memorized_spans.py and the output-folder cases turn it on).
        extra += "\n[thresholds.memorized_spans]\nrecords = 0\n"
    text = (f'[audit]\ntitle = "Test audit"\nseed = 7\n\n'
            f'[model]\npath = "{model}"\nbatch_size = 32\n\n'
            f'[data]\nmembers = "{members}"\nnon_members = "{non_members}"\n\n'
            f'[data.columns]\nid = "patient_id"\nsequence = "codes"\nkind = "codes"\n'
            f'subgroups = ["age_band", "sex"]\n\n{probes}\n{extra}')
    path = folder / "plan.toml"
    path.write_text(text)
    return path


def write_small_cohorts(folder: Path, ground_truth: dict) -> tuple[Path, Path]:
    """80 members (the planted ones first) and 80 non-members from the demo, as CSV files."""
    members = pd.read_csv(DEMO / "members.csv", dtype=str)
    planted = set(ground_truth["planted_ids"])
    members = pd.concat([members[members.patient_id.isin(planted)],
                         members[~members.patient_id.isin(planted)]]).head(80)
    non_members = pd.read_csv(DEMO / "non_members.csv", dtype=str).head(80)
    m, n = folder / "members.csv", folder / "non_members.csv"
    members.to_csv(m, index=False)
    non_members.to_csv(n, index=False)
    return m, n


def write_small_plan(folder: Path, ground_truth: dict) -> Path:
    """The demo model over the small cohorts, five probes (loss, zlib, min_k, min_k_plus_plus,
    extraction): an audit of a few seconds."""
    members, non_members = write_small_cohorts(folder, ground_truth)
    return write_plan(folder, model=DEMO / "model", members=members, non_members=non_members)


@pytest.fixture()
def small_cohorts(tmp_path: Path, ground_truth: dict) -> tuple[Path, Path]:
    return write_small_cohorts(tmp_path, ground_truth)


@pytest.fixture()
def small_plan(tmp_path: Path, small_cohorts: tuple[Path, Path]) -> Path:
    members, non_members = small_cohorts
    return write_plan(tmp_path, model=DEMO / "model", members=members, non_members=non_members)


@pytest.fixture()
def model_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo model folder, for tests that break it."""
    target = tmp_path / "model"
    shutil.copytree(DEMO / "model", target)
    return target


TINY_EPOCHS = 50
TINY_COPIES = 30


@dataclass(frozen=True)
class TinyCohorts:
    members: list[PatientRecord]
    non_members: list[PatientRecord]
    planted_ids: tuple[str, ...]


@dataclass(frozen=True)
class TrainedControl:
    model: object  # the torch GPT2LMHeadModel, for re-exporting
    export: ExportReport
    cohorts: TinyCohorts


@pytest.fixture(scope="session")
def tiny_cohorts() -> TinyCohorts:
    population = generate_cohort(600, seed=101, id_prefix="P")
    members, non_members = split_population(population, 300, seed=102)
    planted = choose_planted(members, build_tokenizer(), 3, seed=103)
    return TinyCohorts(members, non_members, planted)


@pytest.fixture(scope="session")
def tiny_positive(tmp_path_factory, tiny_cohorts: TinyCohorts) -> TrainedControl:
    tokenizer = build_tokenizer()
    sequences = training_sequences(tiny_cohorts.members, tiny_cohorts.planted_ids, TINY_COPIES)
    model = train_model(sequences, tokenizer, size=TINY, epochs=TINY_EPOCHS, seed=104)
    report = export_model(model, tokenizer, tmp_path_factory.mktemp("positive") / "model")
    return TrainedControl(model, report, tiny_cohorts)


@pytest.fixture(scope="session")
def tiny_positive_plain(tmp_path_factory, tiny_positive: TrainedControl) -> ExportReport:
    """`tiny_positive` exported again without a KV cache (input_ids, attention_mask ->
    logits), once for the tests that compare the two graphs. Read-only."""
    return export_model(tiny_positive.model, build_tokenizer(),
                        tmp_path_factory.mktemp("positive-plain") / "model", kv_cache=False)


@pytest.fixture(scope="session")
def tiny_base_model():
    """The torch model behind `tiny_negative` (300 outsiders): also the public base that the
    fine-tuned controls start from (`tiny_finetuned`)."""
    outsiders = generate_cohort(300, seed=201, id_prefix="C")
    return train_model([r.codes for r in outsiders], build_tokenizer(), size=TINY,
                       epochs=TINY_EPOCHS, seed=104)


@pytest.fixture(scope="session")
def tiny_negative(tmp_path_factory, tiny_base_model) -> ControlBuild:
    """What `build_control(outsiders, TINY, 50 epochs, seed 104)` builds, from the same
    training run as the base model (the same model, trained once per session)."""
    out_dir: Path = tmp_path_factory.mktemp("negative") / "model"
    report = export_model(tiny_base_model, build_tokenizer(), out_dir)
    return ControlBuild(out_dir, report, TINY, TINY_EPOCHS, 104, (), 1, 300, 0.0)


@dataclass(frozen=True)
class FineTunedControls:
    base: Path  # tiny_negative's export: the public base both were fine-tuned from
    finetuned: Path  # the base fine-tuned on the members: memorizes them
    counterpart: Path  # the base fine-tuned the same way on other patients: never saw them
    cohorts: TinyCohorts


@pytest.fixture(scope="session")
def tiny_finetuned(tmp_path_factory, tiny_base_model, tiny_negative: ControlBuild,
                   tiny_cohorts: TinyCohorts) -> FineTunedControls:
    """A base model and two fine-tunings of it (the base-model-as-reference known answers)."""
    tokenizer = build_tokenizer()
    folder = tmp_path_factory.mktemp("finetuned")
    others = generate_cohort(300, seed=301, id_prefix="D")
    paths = []
    for name, records in (("finetuned", tiny_cohorts.members), ("counterpart", others)):
        paths.append(finetune(tiny_base_model, records, tokenizer, folder / name))
    return FineTunedControls(tiny_negative.model_dir, paths[0], paths[1], tiny_cohorts)
