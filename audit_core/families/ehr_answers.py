"""Known answers of the EHRMamba-style control (resources/examples/meds).

A Mamba2 model with side inputs (token type, age, time, visit, visit segment), audited
straight from a MEDS dataset root. `validation.toml`: the model that memorised the planted
train subjects; the audit must FAIL and its extraction probe name exactly the planted
subjects (ground_truth.json) and no non-member. `validation_negative.toml`: the same
recipe trained on the tuning split only, which never saw a member or a non-member; no
probe may FAIL and nothing may be extracted. Checks state counts, never identifiers.
"""

from __future__ import annotations

import json
from pathlib import Path

from audit_core.families.answers import NEGATIVE, POSITIVE, check, not_run, probes_by_id
from audit_core.families.spec import Audit, Check


def ehr_checks(folder: Path, audit: Audit) -> list[Check]:
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    planted = sorted(str(p["subject_id"]) for p in truth["planted"])
    results = audit(folder / POSITIVE)
    checks = [check("ehrmamba.overall", "EHRMamba-style model on MEDS data (memorised "
                    f"{len(planted)} planted subjects): overall verdict", "fail",
                    results["overall_verdict"], results["overall_verdict"] == "fail")]
    extraction = probes_by_id(results).get("extraction")
    title = "EHRMamba-style model: extraction names the planted subjects"
    expected = f"fail; exactly the {len(planted)} planted members extracted, no non-member"
    if extraction is None:
        checks.append(not_run("ehrmamba.planted", title, expected))
    else:
        named = sorted(str(e["id"]) for e in extraction.get("extracted", [])
                       if e["role"] == "members")
        others = [e for e in extraction.get("extracted", []) if e["role"] != "members"]
        matched = len(set(named) & set(planted))
        checks.append(check(
            "ehrmamba.planted", title, expected,
            f"{extraction['verdict']}; {len(named)} members extracted, {matched} of them "
            f"planted; {len(others)} non-members",
            extraction["verdict"] == "fail" and named == planted and not others))

    results = audit(folder / NEGATIVE)
    probes = probes_by_id(results)
    failing = sorted(p["id"] for p in probes.values() if p["verdict"] in ("fail", "error"))
    extracted = (probes.get("extraction") or {}).get("metrics", {}).get("extracted_members")
    checks.append(check(
        "ehrmamba.negative", "EHRMamba-style model that never saw these subjects: nothing found",
        "no probe fails; 0 members extracted",
        f"overall {results['overall_verdict']}; failing: {', '.join(failing) or 'none'}; "
        f"{extracted} members extracted",
        results["overall_verdict"] != "fail" and not failing and extracted == 0))
    return checks
