"""The attack comparison table (benchmarks/attacks.py, docs/attacks.md): which attacks it
runs on a control, and that it prints each run's own figures, on a control pair whose
answer is known (the demo model on 80 + 80 of its records against the negative control)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_core.families import Family
from audit_core.plan.parsing import load_plan
from audit_core.probes import PROBES_BY_ID
from audit_core.results.figures import format_auc
from audit_core.tools.bench.attack_table import (
    CONTROLS,
    ControlPair,
    attack_plan,
    compare,
    write_between_markers,
)
from tests.conftest import ROOT, write_plan, write_small_cohorts


def test_every_applicable_membership_attack_is_compared_and_nothing_else(tmp_path: Path) -> None:
    for pair in CONTROLS:
        for plan in (pair.memorizing, pair.counterpart):
            written, probes = attack_plan(plan, tmp_path / plan.parent.name / plan.stem)
            loaded, source = load_plan(written), load_plan(plan)
            # The same cohorts, read from the same files (written resolved: '..' folded).
            for field in ("members", "non_members", "root"):
                mine, theirs = getattr(loaded.data, field), getattr(source.data, field)
                assert (mine and Path(mine).resolve()) == (theirs and Path(theirs).resolve())
            assert loaded.data.columns == source.data.columns
            assert list(loaded.probes or {}) == probes
            assert "loss" in probes
            assert all(PROBES_BY_ID[p].family is Family.MEMBERSHIP for p in probes)
            # Without a reference model, no attack that needs one.
            assert not any(PROBES_BY_ID[p].needs.reference for p in probes)


def test_the_table_prints_each_sides_own_figures_on_a_known_answer(tmp_path: Path,
                                                                   ground_truth: dict) -> None:
    members, non_members = write_small_cohorts(tmp_path, ground_truth)
    plans = {}
    for name, model in (("memorizing", ROOT / "resources/demo/model"),
                        ("counterpart", ROOT / "resources/controls/negative/model")):
        (tmp_path / name).mkdir()
        plans[name] = write_plan(tmp_path / name, model=model, members=members, non_members=non_members)
    pair = ControlPair("Small demo slice", plans["memorizing"], plans["counterpart"], "a test")
    table = compare(tmp_path / "runs", [pair], only=["loss"])
    results = {side: json.loads((tmp_path / "runs" / f"0-{side}" / "out" / "results.json").read_text())
               for side in ("memorizing", "counterpart")}
    loss = {side: next(p for p in r["probes"] if p["id"] == "loss") for side, r in results.items()}
    assert loss["memorizing"]["verdict"] == "fail" and loss["memorizing"]["metrics"]["auc"] > 0.8
    low, high = loss["counterpart"]["metrics"]["auc_ci"]
    assert low <= 0.5 <= high and loss["counterpart"]["verdict"] != "fail"
    for side in ("memorizing", "counterpart"):
        metrics = loss[side]["metrics"]
        assert format_auc(metrics["auc"], metrics["auc_ci"]) in table
    row = next(line for line in table.splitlines() if "`loss`" in line)
    assert "| FAIL |" in row and row.count("FAIL") == 1

    doc = tmp_path / "attacks.md"
    doc.write_text("intro\n<!-- attack-table:start -->\nold\n<!-- attack-table:end -->\nafter\n")
    write_between_markers(doc, table)
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith("after\n") and "old" not in text
    with pytest.raises(ValueError, match="markers"):
        write_between_markers(plans["memorizing"], table)
