"""A probe's results are the same whether it runs alone or with every other generating
probe: its requests carry their own seeds and a row's tokens never depend on the rows that
share its batch, so merging the audit's generation into one schedule changes nothing."""

from __future__ import annotations

from pathlib import Path

from audit_core.plan.parsing import load_plan
from audit_core.run.runner import run_audit
from tests.conftest import DEMO, write_plan

_SETTINGS = {
    "extraction": "prefix_tokens = 24\nsuffix_tokens = 16\n",
    "trajectory": "max_records = 12\ntiers = \"demographics,10\"\nsamples = 2\n",
    "sensitive_attributes": "max_records = 12\ntiers = \"10,20\"\nsamples = 2\nbaseline_samples = 8\n",
    "perturbation": "max_records = 10\nmax_flagged = 2\ntop_membership = 2\n",
    "vulnerable_subgroups": "max_records = 12\nresamples = 100\n",
    "reidentification": "generated = 24\n",
}


def _probes(ids) -> str:
    return "".join(f"[probes.{p}]\n{_SETTINGS[p]}" for p in ids)


def _results(folder: Path, cohorts: tuple[Path, Path], ids) -> dict:
    folder.mkdir()
    plan = write_plan(folder, model=DEMO / "model", members=cohorts[0], non_members=cohorts[1],
                      probes="[probes.loss]\n" + _probes(ids))
    result = run_audit(load_plan(plan))
    return {p["id"]: {k: p[k] for k in ("verdict", "headline", "metrics")}
            for p in result.as_dict()["probes"]}


def test_each_probe_alone_equals_it_among_all(tmp_path: Path, small_cohorts) -> None:
    together = _results(tmp_path / "all", small_cohorts, list(_SETTINGS))
    # The probes whose requests share batches with the others' most (T2 with T6 and T5's
    # screen: same settings, same watched sets; T1 with re-identification's sampling).
    for alone in ("sensitive_attributes", "trajectory", "perturbation"):
        assert _results(tmp_path / alone, small_cohorts, [alone])[alone] == together[alone], alone
