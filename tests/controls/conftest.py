"""TINY control models shared by the tests of this folder, trained once per session.

* `tiny_positive`: trained on 300 members, 3 of them planted 30 times; exported with a
  KV cache. It must give the planted records back verbatim through onnxruntime.
* `tiny_negative`: built by `build_control` on a disjoint cohort; it never saw the
  members, so nothing may separate members from non-members.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from audit_core.controls.cohort import PatientRecord, generate_cohort
from audit_core.controls.demo import (
    ControlBuild,
    build_control,
    choose_planted,
    split_population,
    training_sequences,
)
from audit_core.controls.export import ExportReport, export_model
from audit_core.controls.tokenizer import build_tokenizer
from audit_core.controls.trainer import TINY, train_model

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
def tiny_negative(tmp_path_factory, tiny_cohorts: TinyCohorts) -> ControlBuild:
    outsiders = generate_cohort(300, seed=201, id_prefix="C")
    out_dir: Path = tmp_path_factory.mktemp("negative") / "model"
    return build_control(out_dir, outsiders, size=TINY, epochs=TINY_EPOCHS, seed=104)
