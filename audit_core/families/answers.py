"""What the families' known-answer checks share: the two plan files each control ships,
the certificate's check record, and how a probe is found in a results document.

The expectations are the ones the known-answer tests assert, not tighter numbers, so that
a correct installation passes on any machine and a wrong control, model or probe does
not. The certificate is shown to regulators: checks say counts, verdicts and figures,
never a record, an identifier value or a canary's secret.
"""

from __future__ import annotations

from typing import Any

from audit_core.families.spec import Check

POSITIVE, NEGATIVE = "validation.toml", "validation_negative.toml"
NO_FINDING = ("pass", "inconclusive")


def check(check_id: str, title: str, expected: str, observed: str, passed: bool) -> Check:
    return {"id": check_id, "title": title, "expected": expected, "observed": observed,
            "passed": bool(passed)}


def not_run(check_id: str, title: str, expected: str) -> Check:
    return check(check_id, title, expected, "not run", False)


def probes_by_id(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in results["probes"]}


def probe(results: dict[str, Any], probe_id: str) -> dict[str, Any] | None:
    return probes_by_id(results).get(probe_id)


def p_text(value: float | None) -> str:
    return "not computed" if value is None else f"{value:.2g}"


def auc_interval(metrics: dict[str, Any]) -> str:
    low, high = metrics.get("auc_ci") or (None, None)
    auc = metrics.get("auc")
    if low is None or high is None or auc is None:
        return "no interval"
    return f"AUC {auc:.3f} ({low:.3f}-{high:.3f})"
