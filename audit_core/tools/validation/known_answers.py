"""Known-answer audits: the engine must find what we planted and nothing where there is none.

* The demo (`resources/demo`): a model trained to memorize ten planted records. The
  audit must FAIL overall, each membership probe must FAIL with its AUC's lower bound
  above the fail threshold, and extraction must name exactly the planted records
  (`ground_truth.json`) and no non-member.
* The negative control (`resources/controls/negative`): a model that never saw either
  demo cohort, audited on them. No probe may FAIL, every membership AUC interval must
  cover 0.5, and no member may be extracted.

Both run through `run_audit`, the very function a real audit calls, from plan files
shipped with the controls; no torch is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

from audit_core.families.answers import auc_interval, check, probes_by_id
from audit_core.families.spec import Audit, Check
from audit_core.fingerprint import file_sha256

MEMBERSHIP = ("loss", "zlib", "min_k", "min_k_plus_plus")


def control_files(folder: Path, label: str, name: str) -> Check:
    """The control's model.onnx is the one its manifest and ground truth describe."""
    manifest_path = folder / "model" / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        expected = manifest["onnx"]["sha256"]
        observed = file_sha256(folder / "model" / "model.onnx")
        json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    except (OSError, KeyError, TypeError, ValueError) as exc:
        return check(f"{label}.files", f"{name}: control files present",
                      "model.onnx, manifest.json and ground_truth.json readable",
                      f"unreadable ({exc.__class__.__name__})", False)
    return check(f"{label}.files", f"{name}: model file is the one its manifest describes",
                  f"SHA-256 {expected[:16]}...", f"SHA-256 {observed[:16]}...",
                  expected == observed)


def demo_checks(folder: Path, audit: Audit) -> list[Check]:
    """The memorizing demo model: flagged, planted records named."""
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    planted = sorted(truth["planted_ids"])
    results = audit(folder / "plan.toml")
    probes = probes_by_id(results)
    checks = [check("demo.overall", "Demo (memorizes 10 planted records): overall verdict",
                     "fail", results["overall_verdict"], results["overall_verdict"] == "fail")]
    for probe_id in MEMBERSHIP:
        probe = probes.get(probe_id)
        if probe is None:
            checks.append(check(f"demo.{probe_id}", f"Demo: {probe_id}", "fail", "not run", False))
            continue
        metrics, limit = probe["metrics"], probe["thresholds"].get("fail_auc_lower", 0.75)
        low = (metrics.get("auc_ci") or [None])[0]
        checks.append(check(
            f"demo.{probe_id}", f"Demo: {probe_id} flags membership",
            f"fail, AUC lower bound > {limit}", f"{probe['verdict']}, {auc_interval(metrics)}",
            probe["verdict"] == "fail" and low is not None and low > limit))
    extraction = probes.get("extraction")
    if extraction is None:
        checks.append(check("demo.extraction", "Demo: extraction", "fail", "not run", False))
        return checks
    named = sorted(e["id"] for e in extraction.get("extracted", []) if e["role"] == "members")
    others = [e for e in extraction.get("extracted", []) if e["role"] != "members"]
    checks.append(check("demo.extraction", "Demo: extraction verdict", "fail",
                         extraction["verdict"], extraction["verdict"] == "fail"))
    checks.append(check(
        "demo.planted", "Demo: the extracted records are exactly the planted ones",
        f"{len(planted)} planted members: {', '.join(planted)}; no non-member",
        f"{len(named)} members: {', '.join(named) or 'none'}; {len(others)} non-members",
        named == planted and not others))
    return checks


def negative_checks(folder: Path, audit: Audit) -> list[Check]:
    """The negative control on the demo cohorts: nothing may be found."""
    results = audit(folder / "plan.toml")
    probes = probes_by_id(results)
    checks = [check("negative.overall", "Negative control (never saw these patients): overall "
                     "verdict", "not fail", results["overall_verdict"],
                     results["overall_verdict"] != "fail")]
    for probe_id in MEMBERSHIP:
        probe = probes.get(probe_id)
        if probe is None:
            checks.append(check(f"negative.{probe_id}", f"Negative control: {probe_id}",
                                 "interval covering 0.5", "not run", False))
            continue
        low, high = (probe["metrics"].get("auc_ci") or [None, None])
        covers = low is not None and high is not None and low <= 0.5 <= high
        checks.append(check(
            f"negative.{probe_id}", f"Negative control: {probe_id} at chance",
            "not fail, AUC interval covering 0.5", f"{probe['verdict']}, {auc_interval(probe['metrics'])}",
            covers and probe["verdict"] not in ("fail", "error")))
    extraction = probes.get("extraction")
    extracted = (extraction or {}).get("metrics", {}).get("extracted_members")
    checks.append(check("negative.extraction", "Negative control: nothing extracted",
                         "0 members extracted, verdict not fail",
                         "not run" if extraction is None else
                         f"{extracted} members extracted, {extraction['verdict']}",
                         extraction is not None and extracted == 0
                         and extraction["verdict"] not in ("fail", "error")))
    return checks
