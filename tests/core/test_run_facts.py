"""Results schema 2 keeps the run's own facts in run.json: the report shows them exactly as
it showed the schema-1 fields, and schema-1 results (the fixtures) still read unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from audit_core.report import build_report
from audit_core.report.sections.run_facts import with_run_facts
from tests.core.report_samples import strings

FIXTURE = Path(__file__).parents[1] / "fixtures" / "results_example.json"


def _as_schema_2(old: dict) -> dict:
    """The same audit as results.json (schema 2) plus run.json under "run"."""
    new = copy.deepcopy(old)
    new["schema"] = "mnemoscope.results/2"
    audit = new["audit"]
    run = {"schema": "mnemoscope.run/1", "audit_id": audit["id"],
           **{k: audit.pop(k) for k in ("started_utc", "finished_utc", "seconds")},
           "probe_seconds": {p["id"]: p.pop("seconds") for p in new["probes"]}, "resumed": 0,
           "environment": new.pop("environment"), "validation": new.pop("validation", None)}
    return {**new, "run": run}


def _appendix_and_probe_text(results: dict) -> list[str]:
    document = build_report(results)
    keep = [s for s in document.sections if s.key == "appendix" or s.key.startswith("probe")]
    return [text for s in keep for text in strings(s)
            if "SHA-256" not in text and len(text) != 64 and not text.startswith("mnemoscope.results/")]


def test_the_report_reads_run_facts_from_run_json_as_it_did_from_results() -> None:
    old = json.loads(FIXTURE.read_text())
    new = _as_schema_2(old)
    assert "started_utc" not in new["audit"] and "environment" not in new
    texts = _appendix_and_probe_text(new)
    assert texts == _appendix_and_probe_text(old)
    assert "41.2 s" in texts and "2026-11-29 12:00:41 UTC" in texts  # from run.json
    assert any(old["environment"]["onnxruntime"] in t for t in texts)


def test_run_facts_never_override_what_results_say() -> None:
    new = _as_schema_2(json.loads(FIXTURE.read_text()))
    new["audit"]["seconds"] = 5.0  # a schema-1 field present: it wins over run.json
    merged = with_run_facts(new)
    assert merged["audit"]["seconds"] == 5.0 and merged["audit"]["started_utc"] == "2026-11-29T12:00:00Z"
    assert [p["seconds"] for p in merged["probes"]] == [0.8, 6.1]
    assert "seconds" not in new["probes"][0]  # the input is not modified
