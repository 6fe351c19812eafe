"""Fixtures of the MEDS tests: dataset folders (tests/meds/datasets.py) and plans over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.meds.datasets import mimic_dataset, omop_dataset, sample_dataset

DEMO_MODEL = Path(__file__).resolve().parents[2] / "resources" / "demo" / "model"


@pytest.fixture()
def mimic_root(tmp_path: Path) -> Path:
    return mimic_dataset(tmp_path / "mimic")


@pytest.fixture()
def omop_root(tmp_path: Path) -> Path:
    return omop_dataset(tmp_path / "omop")


@pytest.fixture()
def sample_root(tmp_path: Path) -> Path:
    return sample_dataset(tmp_path / "sample")


def meds_plan(folder: Path, root: Path, model: Path = DEMO_MODEL, extra: str = "") -> Path:
    """A plan over the dataset `root` (written beside it, paths relative)."""
    path = folder / "plan.toml"
    path.write_text(f'[model]\npath = "{model}"\n\n[data]\nformat = "meds"\nroot = "{root.name}"\n{extra}',
                    encoding="utf-8")
    return path
