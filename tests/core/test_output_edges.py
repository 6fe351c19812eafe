"""The output folder (issue 19, defects 1 and 9) through the real CLI: an output folder that
would overwrite an input, a file Mnemoscope did not write or another audit's results, a
folder that cannot take the files; an internal-error handler that cannot fail.

Every case builds its own files, plants a record value (ZZSECRET123) that must never reach
stdout or stderr, and checks that no input file changed (tests/core/output_cases.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
import threading
from pathlib import Path

import pytest

import audit_core.run.output_folder as output_folder
import audit_core.run.runner as runner
from audit_core.cli.main import main
from audit_core.errors import MnemoscopeError
from audit_core.run.output_folder import RECORD_KEY
from tests.conftest import DEMO
from tests.core import output_cases
from tests.core.output_cases import OUTPUTS, SECRET, Setup, assert_refused, run_cli, sha256s

no_model_work = output_cases.no_model_work


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
                        for name in ("report.pdf", "records.csv", "results.json", "memorized_spans.json")}
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
    from audit_core.run.fingerprint import Fingerprint
    from audit_core.work.checkpoints import CheckpointRequest

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
    from audit_core.plan.parsing import load_plan
    from audit_core.work.progress import CancelToken
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
    from audit_core.plan.parsing import load_plan
    from audit_core.work.progress import CancelToken
    from desktop.audit_controller import _audit_work

    setup = Setup(tmp_path)
    plan = load_plan(setup.plan())
    out = tmp_path / "out"
    for _ in range(2):  # the second run replaces the first one's files, plan.toml included
        finished = _audit_work(plan, out, threading.Event())(lambda f, m: None, CancelToken())
    recorded = json.loads((out / "run.json").read_text())[RECORD_KEY]
    assert set(recorded) == {"report.pdf", "records.csv", "results.json", "plan.toml", "memorized_spans.json"}
    assert recorded["plan.toml"] == hashlib.sha256(finished.files["plan"].read_bytes()).hexdigest()
    # A CLI run of the same audit then leaves the desktop's plan.toml, still recorded as its own.
    assert main(["run", str(setup.folder / "plan.toml"), "--out", str(out), "--quiet"]) == 0
    assert "plan.toml" in json.loads((out / "run.json").read_text())[RECORD_KEY]


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
    from audit_core.plan.parsing import load_plan

    small = load_plan(Setup(tmp_path / "small").plan())
    demo = load_plan(DEMO / "plan.toml")
    assert output_folder.output_room_needed(demo) > output_folder.output_room_needed(small) > 16 * 2**20
    # The demo's files, checkpoint included, took 3.1 MB beside its 0.76 MB cohorts: the
    # estimate (a floor) stays above that and far below any ordinary disk.
    assert 4e6 < output_folder.output_room_needed(demo) < 64e6


def test_a_full_disk_during_the_run_is_exit_2(tmp_path, capsys, monkeypatch):
    """The checkpoint cannot save a unit (SQLite: disk full): bad luck, not a bug."""
    import sqlite3

    import audit_core.work.checkpoints as checkpoints

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
    from audit_core.cli.main import _internal_error

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


@pytest.mark.parametrize("again", [[], ["--restart"], ["--resume"]])
def test_another_program_s_checkpoint_sqlite_is_never_touched(again, tmp_path, capsys, no_model_work):
    """Opening it as a checkpoint would add tables to it; --restart would delete it."""
    import sqlite3

    setup = Setup(tmp_path)
    plan = setup.plan()
    out = tmp_path / "out"
    out.mkdir()
    db = sqlite3.connect(out / "checkpoint.sqlite")
    with db:
        db.execute("CREATE TABLE notes (patient TEXT)")
        db.execute("INSERT INTO notes VALUES (?)", (SECRET,))
    db.close()
    before = sha256s(tmp_path)
    code, _, err = run_cli(capsys, plan, out, *again)
    assert_refused(code, err, str(out / "checkpoint.sqlite"), "is not a Mnemoscope checkpoint")
    assert sha256s(tmp_path) == before
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.sqlite"]


def test_the_desktop_never_discards_another_program_s_checkpoint_sqlite(tmp_path):
    """Its resume question treats an unreadable checkpoint as damaged and removes it; a
    database of another program is left for Start's folder check to refuse."""
    pytest.importorskip("PySide6")
    import sqlite3

    from desktop.result_files import ask_resume

    db = sqlite3.connect(tmp_path / "checkpoint.sqlite")
    with db:
        db.execute("CREATE TABLE notes (patient TEXT)")
    db.close()
    before = sha256s(tmp_path)
    assert ask_resume(None, tmp_path) is False
    assert sha256s(tmp_path) == before
