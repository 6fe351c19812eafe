"""The frozen smoke test's checks of a CLI audit's files fail on a wrong or missing file."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def write_outputs(folder: Path, verdict: str = "fail", build: str = "c" * 40, rows: int = 2000,
                  pdf: bytes = b"%PDF-1.7\n...") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.pdf").write_bytes(pdf)
    (folder / "results.json").write_text(json.dumps({"overall_verdict": verdict, "tool": {"build": build}}),
                                         encoding="utf-8")
    with (folder / "records.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["role", "id", "ref", "loss"])
        writer.writerows([["members", f"P{i}", f"R{i}", "-1.0"] for i in range(rows)])
    return folder


def failed(smoke_test, folder: Path, build: str | None = "c" * 40) -> list[str]:
    return [name for name, passed, _ in smoke_test.check_outputs(folder, build) if not passed]


def test_good_outputs_pass(smoke_test, tmp_path: Path) -> None:
    assert failed(smoke_test, write_outputs(tmp_path)) == []


def test_each_defect_is_caught(smoke_test, tmp_path: Path) -> None:
    assert failed(smoke_test, write_outputs(tmp_path / "a", pdf=b"<html>")) == ["report.pdf is a PDF"]
    assert failed(smoke_test, write_outputs(tmp_path / "b", verdict="pass")) == ["results.json has the demo's known verdict"]
    assert failed(smoke_test, write_outputs(tmp_path / "c", build="unknown")) == ["results.json names this build"]
    assert failed(smoke_test, write_outputs(tmp_path / "d", rows=1999)) == ["records.csv has one row per record"]
    folder = write_outputs(tmp_path / "e")
    (folder / "results.json").write_text("{not json", encoding="utf-8")
    assert failed(smoke_test, folder) == ["results.json parses"]
    (folder / "report.pdf").unlink()
    assert "report.pdf is a PDF" in failed(smoke_test, folder)


def test_clean_env_keeps_nothing_of_the_build_venv(smoke_test, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere/.venv")
    monkeypatch.setenv("PYTHONPATH", "/work/main")
    env = smoke_test.clean_env(tmp_path, EXTRA="1")
    assert "VIRTUAL_ENV" not in env and "PYTHONPATH" not in env
    assert env["HOME"] == str(tmp_path) and env["QT_QPA_PLATFORM"] == "offscreen" and env["EXTRA"] == "1"
