"""The CLI end to end on real files, and every bad input ending in a message and exit code 2."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import write_plan
from tests.printed_numbers import assert_printed_from

PROBE_IDS = ["loss", "zlib", "min_k", "min_k_plus_plus", "extraction"]


def mnemoscope(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "audit_core", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def test_run_writes_report_results_and_records(tmp_path: Path, small_plan: Path, ground_truth: dict) -> None:
    out = tmp_path / "out"
    done = mnemoscope("run", str(small_plan), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Overall verdict: FAIL" in done.stdout
    for probe_id in PROBE_IDS:
        assert probe_id in done.stdout

    results = json.loads((out / "results.json").read_text())
    assert results["schema"] == "mnemoscope.results/2"
    # What differs from run to run lives in run.json, so results.json is reproducible.
    assert not {"environment", "validation"} & set(results)
    assert not {"started_utc", "finished_utc", "seconds"} & set(results["audit"])
    run = json.loads((out / "run.json").read_text())
    assert run["audit_id"] == results["audit"]["id"] and run["seconds"] > 0
    # One source for every number (issue 14): the summary prints none that the files lack.
    assert_printed_from(done.stdout, results, run, where="the summary `mnemoscope run` prints",
                        at_least=5)
    assert set(run["probe_seconds"]) == set(PROBE_IDS) and run["environment"]["python"]
    assert not (out / "checkpoint.sqlite").exists()  # a finished run leaves nothing to resume
    assert results["overall_verdict"] == "fail"
    assert results["tool"]["name"] == "mnemoscope"
    assert {d["role"] for d in results["datasets"]} == {"members", "non_members"}
    assert all(len(d["sha256"]) == 64 and d["records"] == 80 for d in results["datasets"])
    assert results["model"]["kind"] == "causal_lm" and results["model"]["parameters"] > 100_000
    assert [p["id"] for p in results["probes"]] == PROBE_IDS
    loss = results["probes"][0]
    assert {"auc", "auc_ci", "tpr_at_1pct_fpr", "tpr_at_0.1pct_fpr"} <= set(loss["metrics"])
    assert loss["metrics"]["tpr_at_0.1pct_fpr"] is None  # 80 non-members cannot resolve 0.1%
    extraction = results["probes"][-1]
    extracted_ids = {e["id"] for e in extraction["extracted"]}
    planted_here = set(ground_truth["planted_ids"]) & set(pd.read_csv(small_plan.parent / "members.csv", dtype=str).patient_id)
    assert planted_here and planted_here <= extracted_ids
    assert extraction["metrics"]["extraction_rate_members"] > extraction["metrics"]["extraction_rate_non_members"]
    assert results["plan"]["data"]["columns"]["id"] == "patient_id"

    with open(out / "records.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 160
    assert list(rows[0]) == ["role", "id", "ref", "tokens", "windows", *PROBE_IDS]
    assert {r["role"] for r in rows} == {"members", "non_members"}
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_inspect_shows_what_the_tool_sees(demo_dir: Path) -> None:
    done = mnemoscope("inspect", str(demo_dir / "model"))
    assert done.returncode == 0, done.stderr
    for text in ("causal lm", "SHA-256", "Parameters", "opset", "matches", "input_ids", "logits", "KV cache"):
        assert text in done.stdout
    details = json.loads(mnemoscope("inspect", str(demo_dir / "model" / "model.onnx"), "--json").stdout)
    assert details["tokenizer_matches"] is True and details["vocab_size"] == details["tokenizer_vocab_size"]
    assert details["context_length"] == 128 and details["kv_cache"] is True


def test_probes_lists_every_probe_with_settings_and_needs() -> None:
    done = mnemoscope("probes")
    assert done.returncode == 0
    for probe_id in PROBE_IDS:
        assert f"{probe_id}  " in done.stdout
    assert "prefix_tokens = 24" in done.stdout and "[thresholds.membership]" in done.stdout
    listing = json.loads(mnemoscope("probes", "--json").stdout)
    from audit_core.probes import PROBES

    assert [p["id"] for p in listing["probes"]] == [p.id for p in PROBES]
    assert listing["probes"][2]["settings"][0]["default"] == 0.2


def _bad_input(tmp_path: Path, case: str, demo: Path, model_copy: Path) -> tuple[Path, str]:
    members = pd.read_csv(demo / "members.csv", dtype=str).head(30)
    non_members = pd.read_csv(demo / "non_members.csv", dtype=str).head(30)
    model = demo / "model"
    extra = ""
    if case == "missing column":
        members = members.drop(columns=["codes"])
        expect = "members.csv has no column 'codes'"
    elif case == "corrupt onnx":
        (model_copy / "model.onnx").write_bytes(b"\x08\x07garbage" * 100)
        model, expect = model_copy, "model.onnx is not a valid ONNX model"
    elif case == "tokenizer larger than model":
        tok = json.loads((model_copy / "tokenizer.json").read_text())
        size = len(tok["model"]["vocab"])
        tok["model"]["vocab"].update({f"EXTRA_{i}": size + i for i in range(50)})
        (model_copy / "tokenizer.json").write_text(json.dumps(tok))
        model, expect = model_copy, "do not belong together"
    elif case == "empty file":
        members = members.head(0)
        expect = "members.csv holds no records"
    elif case == "shared ids":
        non_members.loc[:4, "patient_id"] = members.patient_id.head(5).values
        expect = "share 5 ids"
    elif case == "unknown plan key":
        extra, expect = "[thresholds.membership]\nfail_auc = 0.7\n", "unknown key 'thresholds.membership.fail_auc'"
    elif case == "bad value":
        extra, expect = "[thresholds.extraction]\nalpha = 2.0\n", "'thresholds.extraction.alpha' must be at most 0.5"
    elif case == "missing model":
        model, expect = tmp_path / "nowhere", "model not found"
    else:
        raise AssertionError(case)
    members.to_csv(tmp_path / "members.csv", index=False)
    non_members.to_csv(tmp_path / "non_members.csv", index=False)
    plan = write_plan(tmp_path, model=model, members=tmp_path / "members.csv",
                      non_members=tmp_path / "non_members.csv", extra=extra)
    return plan, expect


@pytest.mark.parametrize("case", ["missing column", "corrupt onnx", "tokenizer larger than model",
                                  "empty file", "shared ids", "unknown plan key", "bad value", "missing model"])
def test_bad_input_gives_a_clear_message_and_exit_code_2(tmp_path: Path, demo_dir: Path,
                                                         model_copy: Path, case: str) -> None:
    plan, expect = _bad_input(tmp_path, case, demo_dir, model_copy)
    done = mnemoscope("run", str(plan), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 2, done.stderr
    assert expect in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "report.pdf").exists()
    first_id = pd.read_csv(demo_dir / "members.csv", dtype=str).patient_id.iloc[0]
    assert first_id not in done.stderr
