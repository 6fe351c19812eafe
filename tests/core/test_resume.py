"""Resumable and reproducible runs.

* A real `mnemoscope run` is killed with SIGKILL in the middle of the shared scoring pass,
  then resumed: its results.json and records.csv are byte-identical to an uninterrupted
  run's, made in another process (with another hash seed).
* Two uninterrupted runs in separate processes give byte-identical results.json.
* A cancelled run resumes from the probes it finished; a changed input, a damaged
  checkpoint or a missing --resume are refused with a message that says what to do.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from audit_core.cli.main import main
from audit_core.errors import PlanError
from audit_core.plan.parsing import load_plan
from audit_core.run.runner import run_audit
from audit_core.work.checkpoints import CHECKPOINT_FILE, CheckpointRequest
from audit_core.work.progress import CancelToken
from tests.conftest import DEMO, write_plan

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, hash_seed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
    return subprocess.Popen([sys.executable, "-m", "audit_core", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _units(out: Path, prefix: str = "") -> int:
    path = out / CHECKPOINT_FILE
    if not path.is_file():
        return 0
    try:  # read-only, beside the writer (WAL lets both in)
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0) as db:
            return db.execute("SELECT count(*) FROM units WHERE name LIKE ?", (f"{prefix}%",)).fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def larger_plan(tmp_path_factory) -> Path:
    """400 + 400 demo records: two scoring chunks per cohort, some seconds of work."""
    folder = tmp_path_factory.mktemp("larger")
    for name in ("members", "non_members"):
        pd.read_csv(DEMO / f"{name}.csv", dtype=str).head(400).to_csv(folder / f"{name}.csv", index=False)
    return write_plan(folder, model=DEMO / "model", members=folder / "members.csv",
                      non_members=folder / "non_members.csv",
                      probes="[probes.loss]\n[probes.extraction]\nprefix_tokens = 24\nsuffix_tokens = 16\n")


def test_kill_9_mid_run_then_resume_gives_the_uninterrupted_bytes(tmp_path: Path, larger_plan: Path) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    reference = _cli("run", str(larger_plan), "--out", str(whole), "--quiet", hash_seed="1")

    victim = _cli("run", str(larger_plan), "--out", str(killed), "--quiet", hash_seed="2")
    deadline = time.monotonic() + 300
    while _units(killed, "scores/") < 2 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    done_before = _units(killed)
    assert done_before >= 2 and not (killed / "results.json").exists()

    # Without --resume the checkpoint is neither reused nor overwritten.
    refused = _cli("run", str(larger_plan), "--out", str(killed), "--quiet", hash_seed="3")
    _, err = refused.communicate(timeout=300)
    assert refused.returncode == 2 and "--resume" in err and "Traceback" not in err, err
    assert _units(killed) == done_before

    resumed = _cli("run", str(larger_plan), "--out", str(killed), "--quiet", "--resume", hash_seed="4")
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    reference.communicate(timeout=600)
    assert reference.returncode == 0
    assert (killed / "results.json").read_bytes() == (whole / "results.json").read_bytes()
    assert (killed / "records.csv").read_bytes() == (whole / "records.csv").read_bytes()
    run = json.loads((killed / "run.json").read_text())
    assert run["resumed"] >= done_before and json.loads((whole / "run.json").read_text())["resumed"] == 0
    assert not (killed / CHECKPOINT_FILE).exists()  # finished: nothing left to resume


def test_two_processes_give_byte_identical_results(tmp_path: Path, small_plan: Path) -> None:
    first = _cli("run", str(small_plan), "--out", str(tmp_path / "a"), "--quiet", hash_seed="11")
    second = _cli("run", str(small_plan), "--out", str(tmp_path / "b"), "--quiet", hash_seed="12")
    for process in (first, second):
        process.communicate(timeout=600)
        assert process.returncode == 0
    a, b = (json.loads((tmp_path / x / "run.json").read_text()) for x in "ab")
    assert (tmp_path / "a" / "results.json").read_bytes() == (tmp_path / "b" / "results.json").read_bytes()
    assert (tmp_path / "a" / "records.csv").read_bytes() == (tmp_path / "b" / "records.csv").read_bytes()
    assert a["audit_id"] == b["audit_id"] and a["started_utc"] and b["seconds"] > 0


def test_a_cancelled_run_resumes_from_its_finished_probes(tmp_path: Path, small_plan: Path) -> None:
    plan = load_plan(small_plan)
    out = tmp_path / "out"
    cancel = CancelToken()

    def stop_at_zlib(fraction: float, message: str) -> None:
        if message.startswith("zlib"):
            cancel.cancel()

    partial = run_audit(plan, on_progress=stop_at_zlib, cancel=cancel, checkpoint=CheckpointRequest(out))
    assert partial.cancelled and [p.id for p in partial.probes] == ["loss"]
    assert _units(out, "probe/") == 1 and _units(out, "scores/") == 2

    with pytest.raises(PlanError, match="--resume"):
        run_audit(plan, checkpoint=CheckpointRequest(out))
    resumed = run_audit(plan, checkpoint=CheckpointRequest(out, resume=True))
    assert resumed.resumed == 3  # both cohorts' scoring chunk and the loss probe
    uninterrupted = run_audit(plan)
    assert resumed.as_dict() == uninterrupted.as_dict()
    assert resumed.records.refs == uninterrupted.records.refs


def test_changed_inputs_never_resume_stale_work(tmp_path: Path, small_plan: Path, capsys) -> None:
    out = tmp_path / "out"
    cancel = CancelToken()
    run_audit(load_plan(small_plan), cancel=cancel, checkpoint=CheckpointRequest(out),
              on_progress=lambda f, m: cancel.cancel() if m.startswith("zlib") else None)
    members = small_plan.parent / "members.csv"
    pd.read_csv(members, dtype=str).head(70).to_csv(members, index=False)

    assert main(["run", str(small_plan), "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "different audit (the members file changed" in err and "--restart" in err, err
    assert _units(out) == 3  # refused, not overwritten

    (out / CHECKPOINT_FILE).write_bytes(b"not a database" * 100)
    for name in ("-wal", "-shm"):
        Path(f"{out / CHECKPOINT_FILE}{name}").unlink(missing_ok=True)
    assert main(["run", str(small_plan), "--out", str(out), "--resume", "--quiet"]) == 2
    assert "is damaged" in capsys.readouterr().err

    assert main(["run", str(small_plan), "--out", str(out), "--restart", "--quiet"]) == 0
    capsys.readouterr()
    assert (out / "results.json").is_file() and not (out / CHECKPOINT_FILE).exists()


def test_defaults_spelled_out_or_left_out_are_the_same_audit(demo_dir: Path) -> None:
    """The desktop saves only settings that differ from their defaults; the demo plan file
    spells some out. Both must fingerprint alike, or a desktop resume of a CLI run (and the
    audit id) would differ for the same audit."""
    from audit_core.run.fingerprint import audit_fingerprint

    spelled = load_plan(demo_dir / "plan.toml").as_dict()
    assert spelled["probes"]["min_k"] == {"k": 0.2}
    bare = json.loads(json.dumps(spelled))
    bare["probes"] = {probe_id: {} for probe_id in spelled["probes"]}
    changed = json.loads(json.dumps(spelled))
    changed["probes"]["min_k"] = {"k": 0.1}
    ids = [audit_fingerprint(p, [], "m", "n").audit_id() for p in (spelled, bare, changed)]
    assert ids[0] == ids[1] != ids[2]
