"""The overall rationale (results.json, the PDF's page 1, the CLI summary and the app's
banner) names probes by the titles a reader sees everywhere else, never by engine ids such
as min_k_plus_plus (issue 16)."""

from __future__ import annotations

from audit_core.results.result import ProbeResult
from audit_core.results.verdicts import Verdict
from audit_core.run.assembly import rationale


def _probe(probe_id: str, title: str, verdict: Verdict) -> ProbeResult:
    return ProbeResult(id=probe_id, title=title, family="membership", question="q", citation="c",
                       verdict=verdict, headline={}, settings={}, settings_meta=[], thresholds={},
                       thresholds_meta=[], metrics={}, curves={}, findings=(), extracted=(), seconds=0.0)


PROBES = [
    _probe("loss", "LOSS membership inference", Verdict.FAIL),
    _probe("min_k_plus_plus", "Min-K%++ membership inference", Verdict.FAIL),
    _probe("calibrated_confidence", "Reference-calibrated confidence (tabular, offline LiRA)", Verdict.FAIL),
    _probe("zlib", "zlib-ratio membership inference", Verdict.PASS),
    _probe("rmia", "RMIA population likelihood ratio", Verdict.INCONCLUSIVE),
    _probe("lira", "Reference-model likelihood ratio (offline LiRA)", Verdict.ERROR),
]


def test_failed_probes_are_named_by_title_and_separated_where_titles_hold_commas() -> None:
    text = rationale(Verdict.FAIL, PROBES, "completed", len(PROBES))

    assert text == ("3 of 6 probes failed: LOSS membership inference; Min-K%++ membership inference; "
                    "Reference-calibrated confidence (tabular, offline LiRA).")
    assert "min_k_plus_plus" not in text and "loss," not in text


def test_inconclusive_names_the_unassessed_probes_too() -> None:
    text = rationale(Verdict.INCONCLUSIVE, PROBES, "completed", len(PROBES))

    assert text == ("2 of 6 probes were inconclusive: RMIA population likelihood ratio; "
                    "Reference-model likelihood ratio (offline LiRA).")


def test_pass_and_cancelled_name_no_probe() -> None:
    assert rationale(Verdict.PASS, PROBES[3:4], "completed", 1).startswith("All 1 probes passed")
    assert rationale(Verdict.FAIL, PROBES[:2], "cancelled", 10) == (
        "The audit was cancelled: 2 of 10 probes finished; the result is incomplete.")
