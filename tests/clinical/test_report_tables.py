"""The report's T1 and T2 tables: built from the columns the probes store in `curves`,
one row per tier (T1) and per category and tier with something to show (T2)."""

from __future__ import annotations

from audit_core.report.sections.clinical_tables import clinical_blocks
from audit_core.report.sections.elements import Paragraph, Table
from audit_core.report.sections.probe_section import probe_section

TIERS = {"known_tokens": [-1.0, 0.0, 10.0], "n_members": [50.0, 50.0, 48.0],
         "n_non_members": [50.0, 50.0, 49.0], "distance_members": [0.81, 0.89, 0.70],
         "distance_non_members": [0.83, 0.89, 0.95], "gap": [-0.02, 0.0, -0.25],
         "gap_low": [-0.06, -0.09, -0.4], "gap_high": [0.03, 0.09, -0.1],
         "frequency_baseline": [0.8, 0.89, 1.0], "unprompted_baseline": [0.82, 0.9, 1.01],
         "recall_members": [0.16, 0.16, 0.4], "recall_non_members": [0.16, 0.15, 0.2],
         "exact_members": [0.0, 0.0, 3.0], "exact_non_members": [0.0, 0.0, None]}


def _category(auroc_m, flagged_m, auroc_n=0.7, carriers=(5.0, 5.0)):
    both = auroc_m is not None and auroc_n is not None  # the engine's gap needs both AUROCs
    return {"known_tokens": [0.0, 10.0], "positives_members": [carriers[0]] * 2,
            "positives_non_members": [carriers[1]] * 2,
            "auroc_members": [None, auroc_m], "auroc_members_low": [None, 0.9], "auroc_members_high": [None, 1.0],
            "auroc_non_members": [None, auroc_n], "auroc_non_members_low": [None, 0.5],
            "auroc_non_members_high": [None, 0.9], "gap": [None, 0.25 if both else None],
            "gap_low": [None, 0.05 if both else None], "gap_high": [None, 0.45 if both else None],
            "flagged_members": [0.0, flagged_m], "flagged_non_members": [0.0, 0.0]}


def test_trajectory_table_has_a_row_per_tier_with_gap_and_baselines() -> None:
    blocks = clinical_blocks({"family": "trajectory", "curves": {"tiers": TIERS}})
    table = next(b for b in blocks if isinstance(b, Table))
    assert [row[0] for row in table.rows] == ["Start token", "Demographics", "First 10 codes"]
    assert table.rows[2][4] == "-0.250 (-0.400 to -0.100)"
    assert table.rows[2][-1] == "3 / —"  # a missing figure is a dash, never a crash


def test_attribute_table_keeps_only_tiers_with_something_to_show() -> None:
    curves = {"category:alcohol:Alcohol use": _category(0.98, 1.0),
              "category:opioids:Opioid use": _category(None, 0.0, None, carriers=(2.0, 3.0))}
    blocks = clinical_blocks({"family": "attribute", "curves": curves,
                              "thresholds": {"min_positives": 5}})
    table = next(b for b in blocks if isinstance(b, Table))
    assert len(table.rows) == 1 and table.rows[0][:2] == ("Alcohol use", "First 10 codes")
    assert table.rows[0][3] == "0.98 (0.90–1.00)" and table.rows[0][-1] == "1 / 0"
    note = next(b for b in blocks if isinstance(b, Paragraph) and "Not assessed" in b.text)
    assert "Opioid use (at most 2 / 3 carriers)" in note.text and "fewer than 5" in note.text
    assert "not evidence either way" in note.text


def test_a_probe_section_renders_the_tables_and_lists_flagged_patients_by_pseudonym() -> None:
    probe = {"id": "sensitive_attributes", "title": "Sensitive attributes (T2)", "family": "attribute",
             "verdict": "warn", "headline": {"label": "gap", "value": 0.2, "text": "+0.2"},
             "metrics": {"n_members": 10}, "findings": ["x"], "settings": {}, "thresholds": {},
             "curves": {"category:alcohol:Alcohol use": _category(0.98, 1.0)},
             "extracted": [{"role": "members", "id": "P000001", "ref": "R-ABC"}]}
    section = probe_section(probe, "6.7")
    headings = [getattr(b, "text", "") for b in section.blocks]
    assert "Sensitive categories by attacker knowledge" in headings
    assert "Patients flagged for clinical review" in headings
    assert "P000001" not in repr(section)
