"""The shareable results are built without a deep copy first (report/sections/redaction.py):
the same output as withholding from a deep copy, and the caller's results left untouched."""

from __future__ import annotations

import copy
import json

import pytest

from audit_core.report.sections.redaction import shareable


def _results(ids: list[str]) -> dict:
    extracted = [{"id": i, "ref": f"r{n}", "tokens": [1, 2, n], "note": f"record {i} again"}
                 for n, i in enumerate(ids)]
    return {
        "audit": {"id": "MNS-1", "title": "Mr John Smith's model"},
        "pseudonymization": {"key": "s3cret-key", "method": "HMAC"},
        "model": {"notes": ["Contact Dr Jane Doe", 3, None]},
        "overall_rationale": "P1234567 was found",
        "probes": [
            {"id": "extraction", "extracted": extracted, "carriers": [{"id": ids[0] if ids else "x"}],
             "findings": [f"{i} leaked" for i in ids] + ["see 555-123-4567"],
             "headline": {"text": "Patient: Ann Lee", "value": 0.5}, "error": None, "notes": "ok",
             "scores": {"member": [0.1, float("inf")], "nested": [[ids, {"deep": ids}]]}},
            "not a probe",
            {"id": "loss", "headline": "plain text"},
        ],
        "plan": {"data": {"members": "/data/m.csv"}, "ids": list(ids)},
    }


@pytest.mark.parametrize("ids", [["P000206", "MRN88412093", "a.b*c"], [], ["ZQ"]],
                         ids=["ids", "no ids", "short id"])
def test_the_shareable_results_are_those_of_a_deep_copy_and_the_input_is_untouched(ids: list[str]) -> None:
    results = _results(ids)
    before = json.dumps(results, sort_keys=True)
    got = shareable(results)
    assert json.dumps(results, sort_keys=True) == before  # the caller's results untouched
    # As from a deep copy (what it withheld from before), ids and key gone, text masked.
    assert got == shareable(copy.deepcopy(results))
    text = json.dumps(got)
    assert "s3cret-key" not in text and all(i not in text for i in ids)
    # The output shares no container with the input: changing one leaves the other.
    got["probes"][0]["scores"]["nested"][0][1]["deep"].append("changed")
    got["plan"]["data"]["members"] = "changed"
    got["probes"][0]["extracted"][0 if ids else slice(0)] = {} if ids else []
    assert json.dumps(results, sort_keys=True) == before


def test_without_ids_or_key_the_results_are_deep_copied() -> None:
    results = {"audit": {"id": "MNS-1"}, "probes": [{"id": "loss", "scores": {"m": [[1.0]]}}]}
    got = shareable(results)
    got["probes"][0]["scores"]["m"][0].append(2.0)
    assert results["probes"][0]["scores"]["m"] == [[1.0]]
