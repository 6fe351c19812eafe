"""Memorized spans (run/memorized_spans.py): which tokens of the records most at risk the
model scores far above its non-member baseline. Known answers on small slices: the demo
model (planted members repeated 40 times) against the negative control (never saw the
members), and the notes control against outsiders it never saw."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audit_core.passes.token_contrast import TokenBaseline, calibrated_threshold, find_spans
from audit_core.plan.parsing import load_plan
from audit_core.run.outputs import write_outputs
from audit_core.run.runner import run_audit
from tests.conftest import DEMO, ROOT, write_plan, write_small_cohorts

NOTES = ROOT / "resources" / "controls" / "notes"
NEGATIVE = ROOT / "resources" / "controls" / "negative" / "model"
SETTINGS = "[thresholds.memorized_spans]\nrecords = 10\nbaseline_records = 60\n"


def test_spans_are_runs_above_the_threshold_merged_across_small_gaps():
    contrast = np.array([0.0, 3.0, 3.0, 0.0, 3.0, 0.0, 0.0, 3.0, 0.0, 5.0, 5.0, 5.0])
    assert find_spans(contrast, 2.0, min_tokens=2, max_gap=1) == [(1, 5), (7, 12)]
    assert find_spans(contrast, 2.0, min_tokens=1, max_gap=0) == [(1, 3), (4, 5), (7, 8), (9, 12)]
    assert find_spans(contrast, 6.0, min_tokens=1, max_gap=1) == []


def test_a_token_id_never_seen_among_non_members_is_held_to_what_rare_tokens_get():
    # id 1 is template (always predicted); ids 7, 8, 9 occur once: a record's own number.
    targets = [np.array([1, 7, 1, 8]), np.array([1, 9])]
    logprobs = [np.array([-0.1, -8.0, -0.1, -9.0]), np.array([-0.1, -7.0])]
    table = TokenBaseline.build(targets, logprobs)
    assert table.rare == pytest.approx(-8.0)
    unseen, template = table.of(np.array([42, 1]))
    assert unseen == pytest.approx(-8.0) and template > unseen + 4
    # Held out, each non-member's own rare token contrasts about 0 with the rest.
    held = table.held_out(targets, logprobs)
    assert len(held) == 6 and np.all(np.abs(held[[1, 3, 5]]) <= 1.0)
    assert calibrated_threshold(np.zeros(100), 2.0, 0.01) == pytest.approx(2.0)  # the floor
    assert calibrated_threshold(np.linspace(0.0, 10.0, 101), 2.0, 0.05) == pytest.approx(9.5)


def _summary(folder: Path, model: Path, members: Path, non_members: Path) -> dict:
    folder.mkdir()
    plan = write_plan(folder, model=model, members=members, non_members=non_members,
                      probes="[probes.loss]\n", extra=SETTINGS)
    result = run_audit(load_plan(plan))
    return result.memorized_spans.summary, result


def test_the_demo_model_memorizes_its_members_spans_the_negative_control_does_not(tmp_path, ground_truth):
    members, non_members = write_small_cohorts(tmp_path, ground_truth)
    demo, result = _summary(tmp_path / "demo", DEMO / "model", members, non_members)
    negative, _ = _summary(tmp_path / "negative", NEGATIVE, members, non_members)

    assert demo["selected_by"] == "loss" and demo["baseline"] == "non-member token baseline"
    # The records most at risk are the planted members, with long memorized spans.
    planted = set(ground_truth["planted_ids"])
    localised = [r for r in result.memorized_spans.records if r["role"] == "members"]
    assert {r["id"] for r in localised} <= planted and len(localised) == 10
    longest = sorted(max((s["tokens"][1] - s["tokens"][0] for s in r["spans"]), default=0) for r in localised)
    assert longest[0] >= 4 and longest[len(longest) // 2] >= 10
    assert demo["totals"]["members"]["spans"] >= 5 * max(1, demo["totals"]["non_members"]["spans"])
    assert demo["totals"]["members"]["memorized_tokens"] > 10 * demo["totals"]["non_members"]["memorized_tokens"]
    # The model that never saw them highlights (almost) nothing, members no more than non-members.
    assert negative["totals"]["members"]["spans"] <= 2
    assert negative["totals"]["members"]["memorized_tokens"] <= negative["totals"]["non_members"]["memorized_tokens"] + 2

    # Written beside records.csv: spans as positions and contrasts, no record text.
    out = write_outputs(result, tmp_path / "out")
    document = json.loads((tmp_path / "out" / "memorized_spans.json").read_text())
    assert document["records"] and document["summary"] == json.loads(out["results"].read_text())["memorized_spans"]
    path = tmp_path / "out" / "memorized_spans.json"
    assert path.stat().st_mode & 0o077 == 0  # holds ids: owner-only, like records.csv
    text = path.read_text()
    assert "SEX_" not in text and "VISIT" not in text and "RX_" not in text


@pytest.mark.parametrize("members, expect_identifiers", [("members.csv", True), ("outsiders.csv", False)])
def test_notes_members_identifiers_are_highlighted_outsiders_are_not(tmp_path, members, expect_identifiers):
    plan = tmp_path / "plan.toml"
    plan.write_text(f'[audit]\ntitle = "t"\nseed = 20261205\n[model]\npath = "{NOTES / "model"}"\n'
                    f'[data]\nmembers = "{NOTES / members}"\nnon_members = "{NOTES / "non_members.csv"}"\n'
                    '[data.columns]\nid = "patient_id"\nsequence = "text"\nkind = "text"\n'
                    '[probes.loss]\n')  # default settings: 20 records a side
    summary = run_audit(load_plan(plan)).memorized_spans.summary
    cells = {c["category"]: c for c in summary["categories"]}
    identifiers = ("name", "mrn", "date", "phone", "address")
    memorized = sum(cells[c]["members"]["memorized_tokens"] for c in identifiers if c in cells)
    outsiders_side = sum(cells[c]["non_members"]["memorized_tokens"] for c in identifiers if c in cells)
    # Non-members' identifiers were never seen: (almost) never highlighted.
    assert outsiders_side <= 6
    if expect_identifiers:  # every localised member's MRN, and most of its identifiers
        assert cells["mrn"]["members"]["memorized_tokens"] == cells["mrn"]["members"]["tokens"] == 20
        assert memorized >= 100
    else:
        assert memorized <= 6 and cells["name"]["members"]["memorized_tokens"] == 0


def test_the_localisation_is_one_checkpoint_unit_and_a_crash_in_it_spares_the_audit(monkeypatch):
    from types import SimpleNamespace

    from audit_core.plan.span_settings import MemorizedSpansSettings
    from audit_core.results.memorized_spans import MemorizedSpans
    from audit_core.run import localisation_step
    from audit_core.work.progress import Progress

    class Saved:
        units: dict[str, bytes] = {}

        def load(self, unit):
            return self.units.get(unit)

        def save(self, unit, data):
            self.units[unit] = data

    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    spans = MemorizedSpans(summary={"threshold": 2.5}, records=({"role": "members", "index": 3, "spans": []},))
    plan = SimpleNamespace(audit=SimpleNamespace(seed=1), model=SimpleNamespace(batch_size=2),
                           data=SimpleNamespace(columns=SimpleNamespace(kind="codes")))
    prepared = SimpleNamespace(thresholds={"memorized_spans": MemorizedSpansSettings()})
    monkeypatch.setattr(localisation_step, "applies", lambda plan, prepared: True)
    monkeypatch.setattr(localisation_step, "localise", lambda *a, **k: spans)
    saved, progress = Saved(), Progress(lambda *a: None, None)
    assert localisation_step.localised(plan, prepared, [], saved, progress) == spans
    monkeypatch.setattr(localisation_step, "localise", boom)
    # A resumed run reads the unit back instead of scoring again...
    assert localisation_step.localised(plan, prepared, [], saved, progress) == spans
    # ...and without it, a crash leaves the audit without spans, not without results.
    saved.units.clear()
    assert localisation_step.localised(plan, prepared, [], saved, progress) is None


def test_the_report_prints_counts_by_category_and_no_record():
    from audit_core.report.sections.document import build_report
    from audit_core.report.sections.elements import Table

    results = json.loads((ROOT / "tests" / "fixtures" / "results_example.json").read_text())
    assert "memorized-spans" not in [s.key for s in build_report(results).sections]
    cell = {"tokens": 54, "memorized_tokens": 54, "spans": 54}
    results["memorized_spans"] = {
        "selected_by": None, "baseline": "non-member token baseline", "baseline_records": 40,
        "threshold": 2.79, "settings": {"records": 20, "min_contrast": 2.0, "false_highlight": 0.01,
                                        "min_tokens": 2, "max_gap": 3},
        "totals": {"members": {**cell, "records": 54}, "non_members": {**cell, "memorized_tokens": 0}},
        "categories": [{"category": "mrn", "members": cell, "non_members": {**cell, "memorized_tokens": 0}}]}
    section = next(s for s in build_report(results).sections if s.key == "memorized-spans")
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert table.rows[0] == ("Medical record number", "54 of 54 tokens, 54 spans", "0 of 54 tokens, 54 spans")
    assert "seeded sample" in section.blocks[0].text and "2.79 nats" in section.blocks[0].text


def test_with_a_reference_model_the_contrast_is_against_it(tmp_path, ground_truth):
    """The model as its own reference: every token's contrast is 0, nothing is memorized."""
    members, non_members = write_small_cohorts(tmp_path, ground_truth)
    plan = write_plan(tmp_path, model=NEGATIVE, members=members, non_members=non_members,
                      probes="[probes.loss]\n", extra=SETTINGS)
    plan.write_text(plan.read_text().replace("batch_size = 32\n", f'batch_size = 32\nreference = "{NEGATIVE}"\n'))
    summary = run_audit(load_plan(plan)).memorized_spans.summary
    assert summary["baseline"] == "reference model" and summary["threshold"] == 2.0
    assert summary["totals"]["members"]["memorized_tokens"] == summary["totals"]["non_members"]["memorized_tokens"] == 0
