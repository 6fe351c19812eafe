"""Shared fixtures: the bundled demo (a model that memorizes on purpose) and small plans over it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication, in later suites

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo"


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    return DEMO


@pytest.fixture(scope="session")
def ground_truth() -> dict:
    return json.loads((DEMO / "ground_truth.json").read_text())


def write_plan(folder: Path, *, model: Path, members: Path, non_members: Path,
               extra: str = "", probes: str | None = None) -> Path:
    """A plan file in `folder` for the demo's column layout."""
    probes = probes if probes is not None else (
        "[probes.loss]\n[probes.zlib]\n[probes.min_k]\n[probes.min_k_plus_plus]\n"
        "[probes.extraction]\nprefix_tokens = 24\nsuffix_tokens = 16\n")
    text = (f'[audit]\ntitle = "Test audit"\nseed = 7\n\n'
            f'[model]\npath = "{model}"\nbatch_size = 32\n\n'
            f'[data]\nmembers = "{members}"\nnon_members = "{non_members}"\n\n'
            f'[data.columns]\nid = "patient_id"\nsequence = "codes"\nkind = "codes"\n'
            f'subgroups = ["age_band", "sex"]\n\n{probes}\n{extra}')
    path = folder / "plan.toml"
    path.write_text(text)
    return path


@pytest.fixture()
def small_cohorts(tmp_path: Path, ground_truth: dict) -> tuple[Path, Path]:
    """80 members (the planted ones first) and 80 non-members from the demo, as CSV files."""
    members = pd.read_csv(DEMO / "members.csv", dtype=str)
    planted = set(ground_truth["planted_ids"])
    members = pd.concat([members[members.patient_id.isin(planted)],
                         members[~members.patient_id.isin(planted)]]).head(80)
    non_members = pd.read_csv(DEMO / "non_members.csv", dtype=str).head(80)
    m, n = tmp_path / "members.csv", tmp_path / "non_members.csv"
    members.to_csv(m, index=False)
    non_members.to_csv(n, index=False)
    return m, n


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
