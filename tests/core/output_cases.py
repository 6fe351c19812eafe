"""What the output-edge tests share (issue 19, defects 1, 4, 7, 8, 9): small cohorts with a
planted record value, a plan, the CLI run with its output checked for that value, and
fingerprints of every input file before and after."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

import audit_core.run.runner as runner
from audit_core.cli.main import main
from tests.conftest import DEMO, write_plan

SECRET = "ZZSECRET123"
FEW = "[probes.loss]\n[probes.zlib]\n"
# A language model's audit also writes memorized_spans.json (run/memorized_spans.py).
SPANS = "[thresholds.memorized_spans]\nrecords = 3\nbaseline_records = 10\n"  # cheap, but written
OUTPUTS = ("report.pdf", "records.csv", "results.json", "run.json", "memorized_spans.json")


class Setup:
    """Cohorts (30 + 30 demo records, one id and one extra cell holding SECRET), a plan."""

    def __init__(self, folder: Path, *, ids: dict[int, str] | None = None, seed: int = 7) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        members = pd.read_csv(DEMO / "members.csv", dtype=str).head(30)
        non_members = pd.read_csv(DEMO / "non_members.csv", dtype=str).head(30)
        members.loc[0, "patient_id"] = SECRET
        members["note"] = f"{SECRET} Jane Q Secretperson"
        for row, value in (ids or {}).items():
            members.loc[row, "patient_id"] = value
        self.members, self.non_members = folder / "members.csv", folder / "non_members.csv"
        self.model = DEMO / "model"
        self.members_frame, self.non_members_frame = members, non_members
        self.seed = seed

    def plan(self, **paths: Path) -> Path:
        members = paths.get("members", self.members)
        non_members = paths.get("non_members", self.non_members)
        if not members.exists():
            members.parent.mkdir(parents=True, exist_ok=True)
            self.members_frame.to_csv(members, index=False)
        if not non_members.exists():
            self.non_members_frame.to_csv(non_members, index=False)
        plan = write_plan(self.folder, model=paths.get("model", self.model), members=members,
                          non_members=non_members, probes=FEW, extra=SPANS)
        plan.write_text(plan.read_text().replace("seed = 7", f"seed = {self.seed}"))
        return plan


def sha256s(*roots: Path) -> dict[str, str]:
    """Every file under `roots`, by path: the inputs' state before and after a run."""
    files = [p for root in roots for p in ([root] if root.is_file() else sorted(root.rglob("*")))
             if p.is_file()]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def run_cli(capsys, plan: Path, out: Path, *more: str) -> tuple[int, str, str]:
    code = main(["run", str(plan), "--out", str(out), "--quiet", *more])
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    return code, captured.out, captured.err


def assert_refused(code: int, err: str, *expected: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("mnemoscope: error: "), err
    assert len(err.strip().splitlines()) == 1, err
    for text in expected:
        assert text in err, err


@pytest.fixture()
def no_model_work(monkeypatch):
    """A refusal that must come before the run: any model work fails the test."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the audit ran although the output folder was refused")

    monkeypatch.setattr(runner, "run_audit", forbidden)


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs (not even `except Exception`)."""


@pytest.fixture(scope="module")
def two_results(tmp_path_factory):
    """Two results of one audit that differ in every file: cancelled after the first probe,
    and finished."""
    from audit_core.plan.parsing import load_plan
    from audit_core.work.progress import CancelToken

    setup = Setup(tmp_path_factory.mktemp("two"))
    plan = load_plan(setup.plan())
    token = CancelToken()

    def progress(fraction: float, message: str) -> None:
        if message.startswith("zlib"):
            token.cancel()

    cancelled = runner.run_audit(plan, on_progress=progress, cancel=token)
    assert cancelled.cancelled
    return cancelled, runner.run_audit(plan)
