"""Each report has its own id (issue 14, defect 7): a cancelled run and the full run of the
same plan used to print one id. The audit id stays one per plan and inputs (what resuming
is keyed on); the report id adds digits of what the run found."""

from __future__ import annotations

import copy
from pathlib import Path

from audit_core.cli.terminal import format_summary
from audit_core.plan.parsing import load_plan
from audit_core.report.sections.document import build_report
from audit_core.results.result import report_id
from audit_core.run.runner import run_audit
from audit_core.work.progress import CancelToken
from tests.core.report_samples import strings


def test_a_cancelled_and_a_full_run_of_one_plan_print_different_report_ids(small_plan: Path) -> None:
    plan = load_plan(small_plan)
    cancel = CancelToken()
    partial = run_audit(plan, cancel=cancel,
                        on_progress=lambda f, m: cancel.cancel() if m.startswith("zlib") else None)
    full, again = run_audit(plan), run_audit(plan)
    assert partial.cancelled and not full.cancelled

    cut, whole, rerun = (r.as_dict()["audit"] for r in (partial, full, again))
    assert cut["id"] == whole["id"] == rerun["id"]  # one audit: a resume finds its checkpoint
    assert cut["report_id"] != whole["report_id"]
    assert whole["report_id"] == rerun["report_id"]  # identical results: reproducible id
    assert whole["report_id"].startswith(whole["id"] + "-")

    for result, audit in ((partial, cut), (full, whole)):
        document = build_report(result.report_dict())
        assert document.report_id == audit["report_id"]  # every page's footer
        assert audit["report_id"] in strings(document.section("cover"))
        assert result.run_dict()["report_id"] == audit["report_id"]
        assert audit["report_id"] in format_summary(result.report_dict(), {
            "report": Path("r.pdf"), "results": Path("r.json"), "records": Path("r.csv")})


def test_the_report_id_follows_the_findings_not_the_patient_ids(small_plan: Path) -> None:
    document = run_audit(load_plan(small_plan)).as_dict()
    extracted = next(p for p in document["probes"] if p.get("extracted"))
    renamed = copy.deepcopy(document)
    next(p for p in renamed["probes"] if p["id"] == extracted["id"])["extracted"][0]["id"] = "someone else"
    assert report_id(renamed) == document["audit"]["report_id"]  # ids are not hashed into it
    changed = copy.deepcopy(document)
    changed["probes"][0]["verdict"] = "pass" if changed["probes"][0]["verdict"] != "pass" else "fail"
    assert report_id(changed) != document["audit"]["report_id"]
