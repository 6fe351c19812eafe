"""run_audit as the desktop app will call it: cancel keeps finished work, a broken probe is contained."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_core.plan.parsing import load_plan
from audit_core.probes.min_k import MinK
from audit_core.results.outputs import write_outputs
from audit_core.results.verdicts import Verdict
from audit_core.run.runner import run_audit
from audit_core.work.progress import CancelToken


def test_cancel_during_a_probe_keeps_the_probes_that_finished(small_plan: Path, tmp_path: Path) -> None:
    token = CancelToken()
    messages: list[str] = []

    def progress(fraction: float, message: str) -> None:
        messages.append(message)
        if message.startswith("extraction"):
            token.cancel()

    result = run_audit(load_plan(small_plan), on_progress=progress, cancel=token)
    assert result.cancelled
    assert [p.id for p in result.probes] == ["loss", "zlib", "min_k", "min_k_plus_plus"]
    assert result.overall_verdict is not Verdict.PASS
    assert "cancelled" in result.overall_rationale
    paths = write_outputs(result, tmp_path / "out")
    assert paths["report"].read_bytes().startswith(b"%PDF")


def test_a_crashing_probe_is_reported_not_assessed(small_plan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self, config, ctx):
        raise RuntimeError("bug in a probe")

    monkeypatch.setattr(MinK, "run", broken)
    result = run_audit(load_plan(small_plan))
    by_id = {p.id: p for p in result.probes}
    assert by_id["min_k"].verdict is Verdict.ERROR
    assert by_id["min_k"].error == "RuntimeError while running the probe"
    assert by_id["loss"].verdict is not Verdict.ERROR and len(result.probes) == 5
    assert result.as_dict()["probes"][2]["verdict"] == "error"


def test_a_probe_whose_reduction_crashes_is_not_assessed_and_the_pass_goes_on(
        small_plan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def broken(self, config, target, reference):
        calls.append(len(target.logprobs))
        raise RuntimeError("bug in a reduction")

    monkeypatch.setattr(MinK, "reduce", broken)
    result = run_audit(load_plan(small_plan))
    by_id = {p.id: p for p in result.probes}
    assert by_id["min_k"].verdict is Verdict.ERROR
    assert by_id["min_k"].error == "an error while reducing the shared scoring pass"
    assert len(calls) == 1, "a broken reduction is not called again (later chunks, the other cohort)"
    assert by_id["loss"].verdict is not Verdict.ERROR and by_id["min_k_plus_plus"].metrics["auc"] > 0


def test_same_plan_and_seed_give_the_same_figures(small_plan: Path) -> None:
    first = run_audit(load_plan(small_plan)).as_dict()
    second = run_audit(load_plan(small_plan)).as_dict()
    for a, b in zip(first["probes"], second["probes"]):
        assert a["metrics"] == b["metrics"] and a["verdict"] == b["verdict"]
    assert first["overall_verdict"] == second["overall_verdict"]


def test_prompt_longer_than_the_context_is_refused_before_work(small_plan: Path) -> None:
    from audit_core.errors import PlanError

    text = small_plan.read_text().replace("prefix_tokens = 24", "prefix_tokens = 200")
    small_plan.write_text(text)
    with pytest.raises(PlanError, match="exceeds the model's context of 128 tokens"):
        run_audit(load_plan(small_plan))


def test_codes_as_parquet_lists_score_like_codes_as_csv_text(tmp_path: Path, small_cohorts, demo_dir: Path) -> None:
    import numpy as np
    import pandas as pd

    from tests.conftest import write_plan

    files = {}
    for path in small_cohorts:
        frame = pd.read_csv(path, dtype=str)
        frame["codes"] = frame["codes"].str.split()
        files[path.stem] = tmp_path / f"{path.stem}.parquet"
        frame.to_parquet(files[path.stem])
    folder = tmp_path / "parquet"
    folder.mkdir()
    probes = "[probes.loss]\n[probes.min_k_plus_plus]\n"
    as_lists = run_audit(load_plan(write_plan(folder, model=demo_dir / "model", members=files["members"],
                                              non_members=files["non_members"], probes=probes)))
    as_text = run_audit(load_plan(write_plan(tmp_path, model=demo_dir / "model", members=small_cohorts[0],
                                             non_members=small_cohorts[1], probes=probes)))
    for a, b in zip(as_lists.probes, as_text.probes):
        for role in ("members", "non_members"):
            np.testing.assert_allclose(a.scores[role], b.scores[role], rtol=1e-6)
    assert as_lists.datasets[0]["format"] == "parquet" and as_text.datasets[0]["format"] == "csv"


def test_each_probe_result_describes_its_thresholds(small_plan: Path) -> None:
    """The report prints each threshold's label and source from the result alone."""
    for probe in run_audit(load_plan(small_plan)).as_dict()["probes"]:
        meta = {m["name"]: m for m in probe["thresholds_meta"]}
        assert list(meta) == list(probe["thresholds"])
        assert all(m["label"] and m["anchor"] for m in meta.values()), probe["id"]
