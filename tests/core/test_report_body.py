"""The report's body as plain data (issue 14): the membership attacks side by side in one
section, each other probe in one section with its chart, and what used to repeat in every
probe's section (settings, thresholds, the remaining metrics) printed once, in the
appendix."""

from __future__ import annotations

import copy

from audit_core.report.pdf.interval_drawing import interval_drawing
from audit_core.report.sections.chart_geometry import nice_ticks
from audit_core.report.sections.document import build_report
from audit_core.report.sections.elements import Figure, IntervalChart, RocChart, Table
from tests.core.report_samples import strings, table_rows


def with_second_attack(results: dict) -> dict:
    """A zlib attack beside LOSS, with the same thresholds and a TPR at 0.1% FPR that 1,000
    non-members cannot resolve to the plan's standard (fewer than 10 expected above it)."""
    results = copy.deepcopy(results)
    zlib = copy.deepcopy(results["probes"][0])
    zlib.update(id="zlib", title="zlib-ratio membership inference")
    zlib["metrics"].update({"auc": 0.81, "auc_ci": [0.79, 0.83], "tpr_at_10pct_fpr": 0.5,
                            "tpr_at_10pct_fpr_ci": [0.47, 0.53], "tpr_at_0.1pct_fpr": 0.02,
                            "tpr_at_0.1pct_fpr_ci": [0.012, 0.031], "resolvable_fpr": 0.01})
    results["probes"].insert(1, zlib)
    return results


def test_one_row_per_attack_with_auc_and_tpr_at_10_1_and_0_1_percent_fpr(results) -> None:
    section = build_report(with_second_attack(results)).section("membership")
    table = next(b for b in section.blocks if isinstance(b, Table))
    rows = {row[0]: row for row in table.rows}

    assert list(rows) == ["LOSS", "zlib-ratio"]
    assert rows["zlib-ratio"][1:5] == ("0.810 (0.790–0.830)", "50.0% (47.0–53.0%)",
                                       "41.2% (38.1–44.3%)", "2.0%† (1.2–3.1%)")
    assert rows["LOSS"][4] == "not resolvable"  # the engine could not compute it at all
    assert "† Below the smallest FPR these cohorts resolve (1.0%)" in table.caption
    roc = next(c for b in section.blocks if isinstance(b, Figure) for c in b.charts if isinstance(c, RocChart))
    assert [s.label for s in roc.series] == ["LOSS", "zlib-ratio"]  # overlaid, as LeakPro draws them


def test_thresholds_shared_by_the_attacks_are_printed_once(results) -> None:
    document = build_report(with_second_attack(results))
    rows = table_rows(document.section("appendix"), "Probes")
    keys = [cell.split("`")[1] for row in rows for cell in row[1:2]]

    assert sorted(keys) == sorted(set(results["probes"][0]["thresholds"]) | set(results["probes"][1]["thresholds"]))
    assert rows[0][0] == "Membership attacks"
    for key in ("membership", "probe:extraction"):
        assert not any("warn_auc_lower" in s for s in strings(document.section(key)))


def test_the_appendix_metrics_leave_out_what_the_membership_table_prints(results) -> None:
    results["probes"][0]["metrics"].update({"likelihood_ratio": 23.4, "prior": 0.05})
    rows = {row[0] for row in table_rows(build_report(results).section("appendix"), "Metric")}

    assert "Likelihood ratio" in rows
    assert not rows & {"AUC", "TPR at 1% FPR", "Members scored", "Prior"}


def test_subgroup_counts_withheld_by_the_engine_are_not_called_small(results) -> None:
    """Issue 14, defect 2: counts of 51 / 64 printed as "<11 / <11"."""
    results["probes"][0]["subgroups"] = [
        {"column": "age_band", "value": "AGE_80_89", "n_members": None, "n_non_members": None,
         "suppressed": True, "auc": None},
        {"column": "age_band", "value": "AGE_90_PLUS", "n_members": 7, "n_non_members": 64,
         "suppressed": True, "auc": 0.99, "auc_ci": [0.9, 1.0]},
    ]
    rows = table_rows(build_report(results).section("subgroups"), "Subgroup")

    assert rows[0][1] == "not shown" and rows[1][1] == "<11 / 64"
    assert all("0.990" not in str(cell) for row in rows for cell in row)


def test_probes_without_a_roc_curve_get_a_forest_plot_of_their_intervals(results) -> None:
    results["probes"].append({
        "id": "trajectory", "title": "Trajectory reconstruction (T1)", "family": "trajectory",
        "verdict": "warn", "metrics": {"n_members": 100, "n_non_members": 100},
        "curves": {"tiers": {"known_tokens": [0, 20], "gap": [0.02, -0.2], "gap_low": [-0.04, -0.3],
                             "gap_high": [0.08, -0.1], "n_members": [100, 81], "n_non_members": [100, 87]}},
        "findings": ["First 20 codes: members' sampled futures lie closer (restates the table).",
                     "Distances are time-aware earth mover distances."],
    })
    section = build_report(results).section("probe:trajectory")
    chart = next(c for b in section.blocks if isinstance(b, Figure) for c in b.charts)

    assert isinstance(chart, IntervalChart) and chart.reference == 0.0
    assert [(r.label, r.flagged) for r in chart.rows] == [("Demographics", False), ("First 20 codes", True)]
    text = strings(section)
    assert "Distances are time-aware earth mover distances." in text
    assert not any("restates the table" in s for s in text)  # the tier table says it


def test_the_forest_plot_axis_covers_every_interval_and_names_its_font() -> None:
    from reportlab.graphics.shapes import String

    ticks = nice_ticks(-0.338, 0.082, enclose=True)
    assert ticks[0] <= -0.338 and ticks[-1] >= 0.082
    chart = IntervalChart(title="t", rows=(), caption="", x_label="gap", reference=0.0)
    drawing = interval_drawing(chart, 300, "MnemoSans")
    assert {s.fontName for s in drawing.contents if isinstance(s, String)} == {"MnemoSans"}
