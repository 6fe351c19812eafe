"""A saved audit reads back into the result the run returned: results.json round-trips
exactly (demo and tabular example), run.json and records.csv add what it leaves out, and
a file that is not a results file of this format is refused in words, never quoting it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from audit_core.errors import MnemoscopeError
from audit_core.results.reading import ResultsFileError, read_result, read_summary
from audit_core.results.result import SCHEMA, report_id

ROOT = Path(__file__).resolve().parents[2]
TABULAR = ROOT / "resources" / "examples" / "tabular" / "plan.toml"


@pytest.fixture(scope="module")
def tabular_run(tmp_path_factory):
    """The tabular example run in this process (a few seconds): the result and its folder."""
    from audit_core.plan.parsing import load_plan
    from audit_core.run.outputs import write_outputs
    from audit_core.run.runner import run_audit

    out = tmp_path_factory.mktemp("tabular") / "out"
    result = run_audit(load_plan(TABULAR))
    write_outputs(result, out)
    return result, out


def _read(folder: Path):
    return read_result(folder / "results.json", folder / "run.json", folder / "records.csv")


def test_the_demo_reads_back_to_the_same_results_json(demo_outputs: Path) -> None:
    written = json.loads((demo_outputs / "results.json").read_text(encoding="utf-8"))
    result = _read(demo_outputs)
    assert result.as_dict() == written
    run = json.loads((demo_outputs / "run.json").read_text(encoding="utf-8"))
    assert result.audit["seconds"] == run["seconds"]  # the banner's duration, from run.json
    assert {p.id: round(p.seconds, 3) for p in result.probes} == run["probe_seconds"]
    assert result.records is not None and len(result.records.ids) == 2000


def test_the_tabular_example_reads_back_with_its_records(tabular_run) -> None:
    original, folder = tabular_run
    written = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    result = _read(folder)
    assert result.as_dict() == written
    assert result.run_dict() == original.run_dict()
    assert result.records.ids == original.records.ids and result.records.refs == original.records.refs
    assert np.array_equal(result.records.tokens, original.records.tokens)
    for back, ran in zip(result.probes, original.probes, strict=True):
        assert back.scores.keys() == ran.scores.keys()
        for role, scores in ran.scores.items():  # records.csv keeps 6 significant digits
            np.testing.assert_allclose(back.scores[role], scores, rtol=1e-5, equal_nan=True)


def test_results_json_alone_reads_without_records(demo_outputs: Path, tmp_path: Path) -> None:
    shutil.copy(demo_outputs / "results.json", tmp_path / "copy.json")
    result = read_result(tmp_path / "copy.json")
    assert result.records is None and "seconds" not in result.audit
    assert result.as_dict() == json.loads((tmp_path / "copy.json").read_text(encoding="utf-8"))


def test_an_older_tool_version_keeps_its_version_and_report_id(demo_outputs: Path, tmp_path: Path) -> None:
    document = json.loads((demo_outputs / "results.json").read_text(encoding="utf-8"))
    document["tool"]["version"] = "0.0.1"
    document["audit"]["report_id"] = report_id(document)  # as that version wrote it
    (tmp_path / "results.json").write_text(json.dumps(document), encoding="utf-8")
    assert read_result(tmp_path / "results.json").as_dict() == document


def test_the_run_json_of_another_run_is_not_used(demo_outputs: Path, tmp_path: Path) -> None:
    shutil.copy(demo_outputs / "results.json", tmp_path / "results.json")
    run = json.loads((demo_outputs / "run.json").read_text(encoding="utf-8"))
    run["report_id"] = "MNS-OTHER"
    (tmp_path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    assert "seconds" not in read_result(tmp_path / "results.json", tmp_path / "run.json").audit


def test_the_summary_reads_title_model_verdict_and_outcome(demo_outputs: Path) -> None:
    summary = read_summary(demo_outputs / "results.json")
    assert summary.title == "Memorization audit of the Mnemoscope demo EHR model"
    assert summary.model.endswith("model") and summary.verdict.value == "fail"
    assert not summary.cancelled and summary.report_id.startswith("MNS-")


def _refusal(path: Path) -> str:
    with pytest.raises(ResultsFileError) as caught:
        read_result(path)
    assert isinstance(caught.value, MnemoscopeError)  # the app's dialog, the CLI's exit code 2
    return str(caught.value)


@pytest.mark.parametrize(("content", "expected"), [
    (b"%PDF-1.7 not json", "not valid JSON"),
    (b"\xff\xfe\x00binary", "not a Mnemoscope results file"),
    (b"[1, 2, 3]", "not a Mnemoscope results file"),
    (b'{"patient_id": "P-SECRET-0042"}', "not a Mnemoscope results file"),
    (b'{"schema": "mnemoscope.plan/1"}', "not a Mnemoscope results file"),
])
def test_files_that_are_no_results_file_are_refused(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(content)
    message = _refusal(path)
    assert expected in message and "results.json" in message
    assert "P-SECRET-0042" not in message and "Traceback" not in message


def test_another_results_format_is_refused_naming_both_formats() -> None:
    fixture = ROOT / "tests" / "fixtures" / "results_example.json"  # format 1, Mnemoscope 0.1.0
    message = _refusal(fixture)
    assert "results format 1" in message and "0.1.0" in message
    assert f"reads format {SCHEMA.rsplit('/', 1)[1]}" in message


def test_a_damaged_results_file_is_refused_without_quoting_it(demo_outputs: Path, tmp_path: Path) -> None:
    document = json.loads((demo_outputs / "results.json").read_text(encoding="utf-8"))
    extracted = next(p for p in document["probes"] if p.get("extracted"))["extracted"][0]["id"]
    del document["probes"][0]["metrics"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    message = _refusal(path)
    assert "damaged or incomplete" in message and extracted not in message


@pytest.mark.parametrize("damage", ["headline", "curves", "findings", "probes", "model"])
def test_a_section_of_the_wrong_shape_is_refused_not_shown(demo_outputs: Path, tmp_path: Path,
                                                          damage: str) -> None:
    document = json.loads((demo_outputs / "results.json").read_text(encoding="utf-8"))
    if damage in ("probes", "model"):
        document[damage] = "text"
    else:
        document["probes"][0][damage] = 3
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert "damaged or incomplete" in _refusal(path)


def test_a_missing_file_or_a_folder_is_refused(tmp_path: Path) -> None:
    assert "does not exist" in _refusal(tmp_path / "gone" / "results.json")
    assert "is a folder" in _refusal(tmp_path)
