"""Every output file is written atomically: a crash while writing leaves the finished file
that was there before, and no partial file beside it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from audit_core.outputs import write_atomic

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
    from audit_core.report import pdf, write_report

    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF-1.7 finished earlier")

    def crash(data, document, attachments, path):
        path.write_bytes(data[: len(data) // 2])  # half a file, then the crash
        raise Crash()

    monkeypatch.setattr(pdf, "write_archival", crash)
    with pytest.raises(Crash):
        write_report(json.loads(FIXTURE.read_text()), target)
    assert target.read_bytes() == b"%PDF-1.7 finished earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_a_crash_while_saving_a_plan_keeps_the_previous_plan(tmp_path: Path, small_plan: Path,
                                                              monkeypatch) -> None:
    """plan.toml, as the desktop saves it beside each audit and with File > Save plan."""
    from audit_core.plan import load_plan
    from audit_core.plan_writing import write_plan

    target = tmp_path / "saved.toml"
    target.write_text("# finished earlier\n")

    def crash(*args, **kwargs):
        raise Crash()

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(Crash):
        write_plan(load_plan(small_plan), target)
    assert target.read_text() == "# finished earlier\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".saved.toml")]
