"""Known answers of the probe families beyond membership and extraction.

Each committed control is audited twice through `run_audit`, from plan files shipped with
it: `validation.toml` (a model that memorized something on purpose: it must be found) and
`validation_negative.toml` (a model or cohort where there is nothing to find: it must not
be). The expectations are the ones the known-answer tests assert (tests/clinical,
tests/identifiers, tests/tabular), not tighter numbers, so that a correct installation
passes on any machine and a wrong control, model or probe does not.

* Sensitive attributes (`resources/controls/sensitive`, T2 of Tonekaboni et al. 2025):
  8 planted members, each with a sensitive code behind a rare code pair.
* Identifier leakage (`resources/controls/notes`): a notes model that writes its
  training patients' own identifiers back; outsiders' never.
* Canary exposure (`resources/controls/canaries`): canaries inserted 1, 4, 16 and 64
  times; exposure rises with the insertions.
* Tabular classifiers (`resources/examples/tabular`): an overfit random forest; the
  same recipe trained on other patients is the negative side. It has no manifest: its
  files are covered by the installation record only.

The certificate is shown to regulators: the checks say counts, verdicts and figures,
never a record, an identifier value or a canary's secret.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from audit_core.tools.validation.known_answers import Audit, Check, auc_interval, check, probes_by_id

POSITIVE, NEGATIVE = "validation.toml", "validation_negative.toml"
NO_FINDING = ("pass", "inconclusive")
TABULAR_MEMBERSHIP = ("confidence", "entropy", "modified_entropy")


def _probe(results: dict[str, Any], probe_id: str) -> dict[str, Any] | None:
    return probes_by_id(results).get(probe_id)


def _not_run(check_id: str, title: str, expected: str) -> Check:
    return check(check_id, title, expected, "not run", False)


def sensitive_checks(folder: Path, audit: Audit) -> list[Check]:
    """T2 names the planted members of the memorizing control, and not with a model that never saw them."""
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    planted = {p["patient_id"] for p in truth["planted"]}
    need = len(planted) - 1  # tests/clinical: one planted member may be missed
    checks = []

    title = f"Sensitive attributes: the {len(planted)} planted members are flagged"
    expected = (f"fail or warn; at least {need} of {len(planted)} planted members flagged; "
                "more members flagged than non-members, p < 0.05")
    probe = _probe(audit(folder / POSITIVE), "sensitive_attributes")
    if probe is None:
        checks.append(_not_run("sensitive.planted", title, expected))
    else:
        m, flagged = probe["metrics"], _flagged(probe)
        p_value = m.get("flagged_p_value")
        checks.append(check(
            "sensitive.planted", title, expected,
            f"{probe['verdict']}; {len(flagged & planted)} of {len(planted)} planted members "
            f"flagged; {m.get('flagged_members')} members and {m.get('flagged_non_members')} "
            f"non-members flagged, p = {_p(p_value)}",
            probe["verdict"] in ("fail", "warn") and len(flagged & planted) >= need
            and (m.get("flagged_members") or 0) > (m.get("flagged_non_members") or 0)
            and p_value is not None and p_value < 0.05))

    title = "Sensitive attributes: nothing found by a model that never saw these patients"
    expected = f"pass or inconclusive; at most 1 of {len(planted)} planted members flagged"
    probe = _probe(audit(folder / NEGATIVE), "sensitive_attributes")
    if probe is None:
        checks.append(_not_run("sensitive.negative", title, expected))
    else:
        hits = len(_flagged(probe) & planted)
        checks.append(check("sensitive.negative", title, expected,
                            f"{probe['verdict']}; {hits} of {len(planted)} planted members flagged",
                            probe["verdict"] in NO_FINDING and hits <= 1))
    return checks


def _flagged(probe: dict[str, Any]) -> set[str]:
    return {e["id"] for e in probe.get("extracted", []) if e["role"] == "members"}


def _p(value: float | None) -> str:
    return "not computed" if value is None else f"{value:.2g}"


def notes_checks(folder: Path, audit: Audit) -> list[Check]:
    """Identifier leakage: members get their own identifiers back, non-members and outsiders never."""
    checks = []
    title = "Identifier leakage: training patients' own identifiers come back"
    expected = ("fail; at least half of the members prompted get their own identifiers back, "
                "no non-member, p < 1e-6")
    probe = _probe(audit(folder / POSITIVE), "identifier_leakage")
    if probe is None:
        checks.append(_not_run("notes.leakage", title, expected))
    else:
        m = probe["metrics"]
        leaked, eligible = m.get("members_own_identifiers_leaked"), m.get("eligible_members")
        hit, p_value = m.get("non_members_own_identifiers_hit"), m.get("own_identifiers_p_value")
        checks.append(check(
            "notes.leakage", title, expected,
            f"{probe['verdict']}; {leaked} of {eligible} members, {hit} of "
            f"{m.get('eligible_non_members')} non-members, p = {_p(p_value)}",
            probe["verdict"] == "fail" and leaked is not None and eligible is not None
            and leaked >= eligible // 2 and hit == 0 and p_value is not None and p_value < 1e-6))

    title = "Identifier leakage: no identifier of patients the model never saw"
    expected = "pass or inconclusive; 0 audited patients' and 0 non-members' identifiers"
    probe = _probe(audit(folder / NEGATIVE), "identifier_leakage")
    if probe is None:
        checks.append(_not_run("notes.negative", title, expected))
    else:
        m = probe["metrics"]
        leaked, hit = m.get("members_own_identifiers_leaked"), m.get("non_members_own_identifiers_hit")
        checks.append(check(
            "notes.negative", title, expected,
            f"{probe['verdict']}; {leaked} of {m.get('eligible_members')} audited patients', "
            f"{hit} non-members' identifiers",
            probe["verdict"] in NO_FINDING and leaked == 0 and hit == 0))
    return checks


def canary_checks(folder: Path, audit: Audit) -> list[Check]:
    """Canary exposure rises with the insertions; a model that never saw them exposes none."""
    checks = []
    title = "Canary exposure rises with the number of insertions"
    expected = ("warn or fail; mean exposure rising with each step of insertions (1, 4, 16, 64), "
                "64 insertions at least 4 bits above 1; every 64-times canary exposed")
    probe = _probe(audit(folder / POSITIVE), "canary_exposure")
    table = ((probe or {}).get("curves") or {}).get("exposure_by_repeats")
    if probe is None or not table:
        checks.append(_not_run("canaries.exposure", title, expected))
    else:
        repeats, means = [int(r) for r in table["repeats"]], table["mean"]
        exposed, counts = [int(e) for e in table["exposed"]], [int(c) for c in table["canaries"]]
        rising = (len(means) > 1 and all(a < b for a, b in itertools.pairwise(means))
                  and means[-1] > means[0] + 4.0)
        checks.append(check(
            "canaries.exposure", title, expected,
            f"{probe['verdict']}; mean exposure "
            + ", ".join(f"{r}x {m:.1f}" for r, m in zip(repeats, means, strict=True))
            + " bits; exposed " + ", ".join(f"{r}x {e} of {c}" for r, e, c
                                            in zip(repeats, exposed, counts, strict=True)),
            probe["verdict"] in ("warn", "fail") and rising and repeats[-1] == 64
            and exposed[-1] == counts[-1] > 0))

    title = "Canary exposure: none exposed by a model that never saw them"
    expected = "pass; 0 canaries exposed"
    probe = _probe(audit(folder / NEGATIVE), "canary_exposure")
    if probe is None:
        checks.append(_not_run("canaries.negative", title, expected))
    else:
        m = probe["metrics"]
        checks.append(check(
            "canaries.negative", title, expected,
            f"{probe['verdict']}; {m.get('canaries_exposed')} of {m.get('canaries')} canaries "
            f"exposed (most {m.get('max_exposure_bits', float('nan')):.1f} bits, threshold "
            f"{m.get('exposed_threshold_bits', float('nan')):.1f})",
            probe["verdict"] == "pass" and m.get("canaries_exposed") == 0))
    return checks


def tabular_checks(folder: Path, audit: Audit) -> list[Check]:
    """The overfit forest fails every membership attack; a forest that never saw either file does not."""
    checks = []
    results = audit(folder / POSITIVE)
    probes = probes_by_id(results)
    title = "Tabular classifier (overfit forest): membership attacks"
    expected = ("overall fail; confidence, entropy and modified entropy each fail with the AUC's "
                "lower bound above the fail threshold; the reference-calibrated confidence fails")
    wanted = (*TABULAR_MEMBERSHIP, "calibrated_confidence")
    found = [p for p in map(probes.get, wanted) if p is not None]
    if len(found) < len(wanted):
        checks.append(_not_run("tabular.membership", title, expected))
    else:
        *plain, calibrated = found
        flagged = all(p["verdict"] == "fail" and (low := _lower(p)) is not None
                      and low > p["thresholds"].get("fail_auc_lower", 0.75) for p in plain)
        checks.append(check(
            "tabular.membership", title, expected,
            f"overall {results['overall_verdict']}; "
            + "; ".join(f"{p['id']} {p['verdict']}, {auc_interval(p['metrics'])}" for p in plain)
            + f"; calibrated confidence {calibrated['verdict']}",
            results["overall_verdict"] == "fail" and flagged and calibrated["verdict"] == "fail"))

    results = audit(folder / NEGATIVE)
    probes = probes_by_id(results)
    title = "Tabular classifier: nothing found by a forest that never saw either file"
    expected = "no fail; each membership AUC interval covering 0.5"
    found = [p for p in map(probes.get, TABULAR_MEMBERSHIP) if p is not None]
    if len(found) < len(TABULAR_MEMBERSHIP):
        checks.append(_not_run("tabular.negative", title, expected))
    else:
        covered = all((low := _lower(p)) is not None and low <= 0.5 <= p["metrics"]["auc_ci"][1]
                      and p["verdict"] not in ("fail", "error") for p in found)
        checks.append(check(
            "tabular.negative", title, expected,
            f"overall {results['overall_verdict']}; "
            + "; ".join(f"{p['id']} {p['verdict']}, {auc_interval(p['metrics'])}" for p in found),
            results["overall_verdict"] != "fail" and covered))
    return checks


def _lower(probe: dict[str, Any]) -> float | None:
    return (probe["metrics"].get("auc_ci") or [None])[0]
