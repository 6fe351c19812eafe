"""Tabular audits resume like language-model audits: a run cancelled in the shared pass,
resumed and cancelled again after a probe, then resumed to the end, writes results.json
and records.csv byte-identical to an uninterrupted run's; a changed plan or input file is
refused (exit 2, one line, no traceback)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

from audit_core.cli.main import main
from audit_core.plan.parsing import load_plan
from audit_core.run.runner import run_audit
from audit_core.work.checkpoints import CHECKPOINT_FILE, CheckpointRequest
from audit_core.work.progress import CancelToken
from tests.tabular import test_cli
from tests.tabular.test_cli import _plan

small_tabular = test_cli.small_tabular  # the CLI tests' fixture (an import would read as unused)


def _units(out: Path) -> list[str]:
    with sqlite3.connect(f"file:{out / CHECKPOINT_FILE}?mode=ro", uri=True) as db:
        return sorted(name for (name,) in db.execute("SELECT name FROM units"))


def _cancel_when(condition):
    cancel = CancelToken()
    return cancel, lambda fraction, message: cancel.cancel() if condition(fraction, message) else None


def test_cancelled_twice_then_resumed_gives_the_uninterrupted_bytes(small_tabular: Path,
                                                                    capsys) -> None:
    plan_path = _plan(small_tabular)
    whole, out = small_tabular / "whole", small_tabular / "out"
    assert main(["run", str(plan_path), "--out", str(whole), "--quiet"]) == 0
    plan = load_plan(plan_path)

    # Stopped as the reference classifier starts: the audited model's two cohorts are kept.
    cancel, stop = _cancel_when(lambda f, m: "class probabilities" in m and f >= 0.06)
    first = run_audit(plan, on_progress=stop, cancel=cancel, checkpoint=CheckpointRequest(out))
    assert first.cancelled and first.probes == () and first.resumed == 0
    assert _units(out) == ["probabilities/0/members", "probabilities/0/non_members"]

    # Resumed, then stopped once the first probe has finished.
    cancel, stop = _cancel_when(lambda f, m: m.startswith("entropy"))
    second = run_audit(plan, on_progress=stop, cancel=cancel,
                       checkpoint=CheckpointRequest(out, resume=True))
    assert second.cancelled and [p.id for p in second.probes] == ["confidence"]
    assert second.resumed == 2
    assert _units(out) == ["probabilities/0/members", "probabilities/0/non_members",
                           "probabilities/1/members", "probabilities/1/non_members",
                           "probe/confidence"]

    assert main(["run", str(plan_path), "--out", str(out), "--quiet", "--resume"]) == 0
    capsys.readouterr()
    for name in ("results.json", "records.csv"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    assert json.loads((out / "run.json").read_text())["resumed"] == 5
    assert json.loads((whole / "run.json").read_text())["resumed"] == 0
    assert not (out / CHECKPOINT_FILE).exists()


def test_a_changed_plan_or_input_is_refused(small_tabular: Path, capsys) -> None:
    plan_path = _plan(small_tabular)
    out = small_tabular / "out"
    cancel, stop = _cancel_when(lambda f, m: m.startswith("entropy"))
    run_audit(load_plan(plan_path), on_progress=stop, cancel=cancel, checkpoint=CheckpointRequest(out))
    saved = _units(out)
    assert len(saved) == 5

    assert main(["run", str(plan_path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--restart" in err and err.count("\n") == 1, err

    plan_path.write_text(plan_path.read_text().replace("seed = ", "seed = 1"), encoding="utf-8")
    assert main(["run", str(plan_path), "--out", str(out), "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "different audit (the plan changed" in err and "Traceback" not in err, err
    assert err.count("\n") == 1, err

    _plan(small_tabular)  # the original plan again, but another members file
    members = small_tabular / "members.csv"
    pd.read_csv(members, dtype=str).head(150).to_csv(members, index=False)
    assert main(["run", str(plan_path), "--out", str(out), "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "different audit (the members file changed" in err and err.count("\n") == 1, err
    assert _units(out) == saved  # refused, not overwritten
