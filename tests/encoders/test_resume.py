"""Encoder audits resume like language-model audits.

* A run cancelled in the middle of the pseudo-likelihood pass, then resumed with
  `--resume`, writes results.json and records.csv byte-identical to an uninterrupted run's.
* A real `mnemoscope run` killed with SIGKILL mid-pass, then resumed, does too.
* A changed plan or input file is refused (exit 2, one line, no traceback), and so is a
  rerun that finds the checkpoint without being asked to resume it.
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
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from audit_core.cli.main import main
from audit_core.passes.encoder_pass import pseudo_chunk_bounds
from audit_core.plan.parsing import load_plan
from audit_core.run.runner import run_audit
from audit_core.work.checkpoints import CHECKPOINT_FILE, CheckpointRequest
from audit_core.work.progress import CancelToken
from tests.encoders.conftest import encoder_plan

ROOT = Path(__file__).resolve().parents[2]
RECORDS = 60  # per cohort: with batch_size 4, two embedding chunks and ~10 pseudo chunks each


def _units(out: Path, prefix: str = "") -> int:
    path = out / CHECKPOINT_FILE
    if not path.is_file():
        return 0
    try:  # read-only, beside the writer (WAL lets both in)
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0) as db:
            return db.execute("SELECT count(*) FROM units WHERE name LIKE ?",
                              (f"{prefix}%",)).fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def small_encoder(tmp_path_factory, encoder_controls) -> Path:
    """60 members and 60 non-members of the controls and the memorizing encoder, batch 4."""
    folder = tmp_path_factory.mktemp("encoder_resume")
    for name, source in (("members.csv", encoder_controls.members),
                         ("non_members.csv", encoder_controls.non_members)):
        pd.read_csv(source, dtype=str).head(RECORDS).to_csv(folder / name, index=False)
    (folder / "memorizing").symlink_to(encoder_controls.memorizing)
    plan = encoder_plan(SimpleNamespace(folder=folder), "memorizing")
    plan.write_text(plan.read_text().replace('path = "memorizing"',
                                             'path = "memorizing"\nbatch_size = 4'))
    return plan


@pytest.fixture(scope="module")
def whole(small_encoder: Path) -> Path:
    """The uninterrupted run's output folder."""
    out = small_encoder.parent / "whole"
    assert main(["run", str(small_encoder), "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "run.json").read_text())["resumed"] == 0
    assert not (out / CHECKPOINT_FILE).exists()
    return out


def _same_bytes(out: Path, whole: Path) -> None:
    for name in ("results.json", "records.csv"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name


def test_a_cancelled_run_resumes_to_the_uninterrupted_bytes(tmp_path: Path, small_encoder: Path,
                                                            whole: Path, capsys) -> None:
    out = tmp_path / "out"
    cancel = CancelToken()
    seen = []

    def stop_in_pseudo(fraction: float, message: str) -> None:
        seen.append(message)
        if sum("pseudo-likelihood" in m for m in seen) >= 30:  # a few chunks into the pass
            cancel.cancel()

    partial = run_audit(load_plan(small_encoder), on_progress=stop_in_pseudo, cancel=cancel,
                        checkpoint=CheckpointRequest(out))
    assert partial.cancelled and partial.probes == () and partial.audit["outcome"] == "cancelled"
    embedded, pseudo = _units(out, "embeddings/"), _units(out, "pseudo/")
    assert embedded == 4 and pseudo >= 1 and _units(out, "probe/") == 0, (embedded, pseudo)

    # Without --resume the checkpoint is neither reused nor overwritten.
    assert main(["run", str(small_encoder), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "Traceback" not in err and err.count("\n") == 1, err
    assert _units(out) == embedded + pseudo

    assert main(["run", str(small_encoder), "--out", str(out), "--quiet", "--resume"]) == 0
    capsys.readouterr()
    _same_bytes(out, whole)
    assert json.loads((out / "run.json").read_text())["resumed"] == embedded + pseudo
    assert not (out / CHECKPOINT_FILE).exists()  # finished: nothing left to resume


def test_a_changed_plan_or_input_is_refused(tmp_path: Path, small_encoder: Path, capsys) -> None:
    out = tmp_path / "out"
    cancel = CancelToken()
    run_audit(load_plan(small_encoder), cancel=cancel, checkpoint=CheckpointRequest(out),
              on_progress=lambda f, m: cancel.cancel() if "pseudo-likelihood" in m else None)
    saved = _units(out)
    assert saved == 4  # the embeddings of both cohorts, two chunks each

    changed = small_encoder.with_name("changed.toml")
    changed.write_text(small_encoder.read_text().replace("seed = 7", "seed = 8"))
    assert main(["run", str(changed), "--out", str(out), "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "different audit (the plan changed" in err and "--restart" in err, err
    assert "Traceback" not in err and err.count("\n") == 1, err

    members = small_encoder.parent / "members.csv"
    original = members.read_bytes()
    try:
        pd.read_csv(members, dtype=str).head(RECORDS - 1).to_csv(members, index=False)
        assert main(["run", str(small_encoder), "--out", str(out), "--quiet", "--resume"]) == 2
        err = capsys.readouterr().err
        assert "different audit (the members file changed" in err and err.count("\n") == 1, err
    finally:
        members.write_bytes(original)
    assert _units(out) == saved  # refused, not overwritten


def test_kill_9_mid_pass_then_resume_gives_the_uninterrupted_bytes(tmp_path: Path,
                                                                   small_encoder: Path,
                                                                   whole: Path) -> None:
    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "2"}
    victim = subprocess.Popen([sys.executable, "-m", "audit_core", "run", str(small_encoder),
                               "--out", str(killed), "--quiet"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while _units(killed, "pseudo/") < 2 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    done_before = _units(killed)
    assert done_before >= 6 and not (killed / "results.json").exists()

    assert main(["run", str(small_encoder), "--out", str(killed), "--quiet", "--resume"]) == 0
    _same_bytes(killed, whole)
    assert json.loads((killed / "run.json").read_text())["resumed"] >= done_before


def test_chunk_boundaries_hold_whole_records_and_depend_only_on_lengths() -> None:
    lengths = [10, 3, 2, 40, 5, 5, 5, 7]  # 8, 1, 0, 38, 3, 3, 3, 5 masked copies
    bounds = pseudo_chunk_bounds(lengths, 9)
    assert bounds == [(0, 2), (2, 4), (4, 7), (7, 8)]
    assert pseudo_chunk_bounds(lengths, 10**6) == [(0, 8)]
    assert pseudo_chunk_bounds([], 9) == []
    covered = np.concatenate([np.arange(a, b) for a, b in bounds])
    assert covered.tolist() == list(range(len(lengths)))
