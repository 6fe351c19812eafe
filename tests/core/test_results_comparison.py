"""Two audits compared: verdicts paired by probe, better or worse in plain words, the
membership AUCs and members reproduced as the report prints them, interval overlap, and a
warning when the audits are of different models or cohorts."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from audit_core.results.comparison import Change, compare_audits, verdict_change
from audit_core.results.figures import format_auc, format_rate
from audit_core.results.reading import result_from_document
from audit_core.results.verdicts import Verdict


@pytest.fixture(scope="module")
def demo_document(demo_outputs: Path) -> dict:
    return json.loads((demo_outputs / "results.json").read_text(encoding="utf-8"))


def _after(document: dict) -> dict:
    """The demo as a mitigation might leave it: LOSS no longer separates members (AUC 0.52,
    interval clear of the first), the overall verdict down to WARN, extraction unchanged."""
    after = copy.deepcopy(document)
    after["overall_verdict"] = "warn"
    loss = next(p for p in after["probes"] if p["id"] == "loss")
    loss["verdict"] = "pass"
    loss["metrics"]["auc"], loss["metrics"]["auc_ci"] = 0.52, [0.49, 0.55]
    return after


def test_a_verdict_that_improved_reads_better_and_the_reverse_worse(demo_document: dict) -> None:
    before, after = result_from_document(demo_document), result_from_document(_after(demo_document))
    forward = compare_audits(before, after)
    assert forward.overall.change is Change.BETTER and forward.overall.change.value == "Better"
    loss = next(p for p in forward.probes if p.probe_id == "loss")
    assert (loss.first, loss.second, loss.change) == (Verdict.FAIL, Verdict.PASS, Change.BETTER)
    auc = loss.figures[0]
    first_metrics = next(p for p in before.probes if p.id == "loss").metrics
    assert auc.label == "Membership AUC"
    assert auc.first == format_auc(first_metrics["auc"], first_metrics["auc_ci"])  # as the report prints it
    assert auc.second == "0.520 (0.490–0.550)"
    assert auc.overlap is False and auc.change is Change.BETTER
    unchanged = next(p for p in forward.probes if p.probe_id == "zlib")
    assert unchanged.change is Change.SAME and unchanged.figures[0].change is Change.SAME

    backward = compare_audits(after, before)
    assert backward.overall.change is Change.WORSE
    assert next(p for p in backward.probes if p.probe_id == "loss").change.value == "Worse"
    assert not forward.warnings  # same model, same cohorts


def test_extraction_shows_members_reproduced_with_the_rate_interval(demo_document: dict) -> None:
    result = result_from_document(demo_document)
    extraction = next(p for p in compare_audits(result, result).probes if p.probe_id == "extraction")
    metrics = next(p for p in result.probes if p.id == "extraction").metrics
    assert [f.label for f in extraction.figures] == ["Members reproduced"]  # extraction's AUC is no membership AUC
    figure = extraction.figures[0]
    rate = format_rate(metrics["extraction_rate_members"], metrics["extraction_rate_members_ci"])
    assert figure.first == f"{metrics['extracted_members']} of {metrics['eligible_members']}, {rate}"
    assert figure.overlap is True and figure.change is Change.SAME


def test_overlapping_intervals_do_not_count_as_a_change(demo_document: dict) -> None:
    after = copy.deepcopy(demo_document)
    loss = next(p for p in after["probes"] if p["id"] == "loss")
    low, high = loss["metrics"]["auc_ci"]
    loss["metrics"]["auc"] -= 0.001
    loss["metrics"]["auc_ci"] = [low - 0.001, high - 0.001]
    change = compare_audits(result_from_document(demo_document), result_from_document(after))
    figure = next(p for p in change.probes if p.probe_id == "loss").figures[0]
    assert figure.overlap is True and figure.change is Change.UNCLEAR


def test_inconclusive_is_neither_better_nor_worse() -> None:
    assert verdict_change(Verdict.FAIL, Verdict.INCONCLUSIVE) is Change.UNCLEAR
    assert verdict_change(Verdict.ERROR, Verdict.PASS) is Change.UNCLEAR
    assert verdict_change(Verdict.WARN, Verdict.FAIL) is Change.WORSE


def test_different_models_cohorts_and_missing_probes_are_said(demo_document: dict) -> None:
    after = copy.deepcopy(demo_document)
    after["model"]["sha256"] = "0" * 64
    after["datasets"][1]["sha256"] = "1" * 64
    after["probes"] = [p for p in after["probes"] if p["id"] != "zlib"]
    change = compare_audits(result_from_document(demo_document), result_from_document(after))
    assert any("different model files" in w for w in change.warnings)
    assert any("non-members files differ" in w for w in change.warnings)
    zlib = next(p for p in change.probes if p.probe_id == "zlib")
    assert zlib.second is None and zlib.change is Change.ONLY_FIRST and not zlib.figures

    other_kind = copy.deepcopy(demo_document)
    other_kind["model"]["kind"] = "tabular_classifier"
    kinds = compare_audits(result_from_document(demo_document), result_from_document(other_kind))
    assert any("different kinds of model" in w for w in kinds.warnings)
