"""Shared material for the report tests: the example results and variants of it."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audit_core.report import write_report
from audit_core.report.document import build_report, results_digest
from audit_core.report.elements import (
    Badge,
    BulletList,
    Code,
    Heading,
    Paragraph,
    ReportDocument,
    RocChart,
    Section,
    Table,
    TextStyle,
    VerdictBanner,
)
from audit_core.report.metrics import format_metric, metric_label


FIXTURE = Path(__file__).parents[1] / "fixtures" / "results_example.json"
REPO = Path(__file__).parents[2]


@pytest.fixture
def results() -> dict:
    return json.loads(FIXTURE.read_text())


def record_ids(results: dict) -> list[str]:
    return [r["id"] for p in results["probes"] for r in p.get("extracted", [])]


def record_refs(results: dict) -> list[str]:
    return [r["ref"] for p in results["probes"] for r in p.get("extracted", [])]


def strings(value) -> list[str]:
    """Every string anywhere in a document (texts, cells, captions, labels)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return [s for item in value for s in strings(item)]
    if dataclasses.is_dataclass(value):
        return [s for f in dataclasses.fields(value) for s in strings(getattr(value, f.name))]
    return []


def table_rows(section: Section, first_header: str) -> list[tuple]:
    for block in section.blocks:
        if isinstance(block, Table) and block.header and block.header[0] == first_header:
            return list(block.rows)
    raise AssertionError(f"no table headed {first_header!r} in {section.key}")


def metric_values(section: Section) -> dict[str, tuple[str, str]]:
    return {label: (value, n) for label, value, n in table_rows(section, "Metric")}


def cancelled(results: dict) -> dict:
    results = copy.deepcopy(results)
    results["audit"]["outcome"] = "cancelled"
    results["probes"] = results["probes"][:1]
    return results


def with_errored_probe(results: dict) -> dict:
    results = copy.deepcopy(results)
    results["probes"].append(
        {
            "id": "phi_leak",
            "title": "PHI in generated text",
            "family": "identifiers",
            "verdict": "error",
            "metrics": {},
            "findings": [],
            "error": "onnxruntime: Got invalid dimensions for input: input_ids",
        }
    )
    return results
