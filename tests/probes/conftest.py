"""Fixtures shared by the probe tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.probes.demo_slice import load_demo_slice


@pytest.fixture(scope="module")
def demo_slice(tmp_path_factory, demo_dir: Path):
    """(cohorts, token ids, tokenizer) of 300 + 300 demo records."""
    return load_demo_slice(tmp_path_factory.mktemp("clinical_risk"), demo_dir)
