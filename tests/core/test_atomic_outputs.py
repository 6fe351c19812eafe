"""Every output file is written atomically: a crash while writing leaves the finished file
that was there before, and no partial file beside it. And the audit's files are written as
a set, results.json last (issue 19, defect 4): a crash at any step leaves a results.json
only beside the complete report.pdf and records.csv of its own run."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from audit_core.results.atomic import write_atomic
from audit_core.run.output_folder import RECORD_KEY
from audit_core.run.outputs import json_bytes, write_outputs
from tests.core import output_cases
from tests.core.output_cases import OUTPUTS, Killed

two_results = output_cases.two_results

FIXTURE = Path(__file__).parents[1] / "fixtures" / "results_example.json"


class Crash(Exception):
    pass


def test_a_crash_before_the_rename_keeps_the_previous_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "results.json"
    target.write_bytes(b"finished earlier\n")

    def crash(*args, **kwargs):
        raise Crash()

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(Crash):
        write_atomic(target, b"{" * 1_000_000)
    assert target.read_bytes() == b"finished earlier\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_crash_while_writing_the_pdf_keeps_the_previous_report(tmp_path: Path, monkeypatch) -> None:
    from audit_core.report import write_report
    from audit_core.report.pdf import writer

    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF-1.7 finished earlier")

    def crash(data, document, attachments, path):
        path.write_bytes(data[: len(data) // 2])  # half a file, then the crash
        raise Crash()

    monkeypatch.setattr(writer, "write_archival", crash)
    with pytest.raises(Crash):
        write_report(json.loads(FIXTURE.read_text()), target)
    assert target.read_bytes() == b"%PDF-1.7 finished earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_a_crash_while_saving_a_plan_keeps_the_previous_plan(tmp_path: Path, small_plan: Path,
                                                              monkeypatch) -> None:
    """plan.toml, as the desktop saves it beside each audit and with File > Save plan."""
    from audit_core.plan.parsing import load_plan
    from audit_core.plan.writing import write_plan

    target = tmp_path / "saved.toml"
    target.write_text("# finished earlier\n")

    def crash(*args, **kwargs):
        raise Crash()

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(Crash):
        write_plan(load_plan(small_plan), target)
    assert target.read_text() == "# finished earlier\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".saved.toml")]


# --- The output set (issue 19, defect 4) ---------------------------------------------------

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
                    raise Killed()
                return real(*args, **kwargs)
            return call

        monkeypatch.setattr(os, "replace", counted(real_replace))
        monkeypatch.setattr(os, "unlink", counted(real_unlink))
        try:
            write_outputs(later, out)
            crashed = False
        except Killed:
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
