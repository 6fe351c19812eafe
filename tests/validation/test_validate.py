"""`mnemoscope validate`: the installation checks, the known-answer audits (which must
catch a wrong control), the certificate, and the validation every audit cites."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from audit_core.fingerprint import file_sha256
from audit_core.plan.parsing import load_plan
from audit_core.run.runner import run_audit
from audit_core.tools.validation import latest_validation
from audit_core.tools.validation.certificate import write_certificate
from audit_core.tools.validation.installation import check_files, record_installation
from audit_core.tools.validation.known_answers import negative_checks

ROOT = Path(__file__).resolve().parents[2]


def test_validate_passes_without_torch_and_writes_the_certificate(validation_run) -> None:
    """The whole command, in a fresh process: exit 0, every check passed, no torch loaded."""
    done, out = validation_run.done, validation_run.out
    assert done.returncode == 0, done.stderr
    *certificate_lines, last = done.stdout.strip().splitlines()
    assert json.loads(last) == {"code": 0, "loaded": []}
    certificate = json.loads("\n".join(certificate_lines))
    failed = [c for c in certificate["checks"] if not c["passed"]]
    assert certificate["outcome"] == "passed", failed
    ids = {c["id"] for c in certificate["checks"]}
    assert {"installation.files", "installation.dependencies", "installation.execution_provider",
            "demo.planted", "demo.extraction", "negative.loss", "negative.extraction"} <= ids
    # Each probe family's control (family_answers), its memorizing side and its counterpart.
    assert {"sensitive.files", "sensitive.planted", "sensitive.negative", "canaries.files",
            "canaries.exposure", "canaries.negative", "notes.files", "notes.leakage",
            "notes.negative", "tabular.membership", "tabular.negative"} <= ids
    assert all(c["expected"] and c["observed"] for c in certificate["checks"])
    # Counts and figures only: not one of the sensitive control's planted patients is named.
    planted = json.loads((ROOT / "resources" / "controls" / "sensitive" / "ground_truth.json")
                         .read_text())["planted"]
    assert not [p["patient_id"] for p in planted if p["patient_id"] in done.stdout]
    assert certificate["seconds"] > 0  # its speed is reported, not asserted (DESIGN: no timed tests)
    json_file, pdf_file = sorted(out.glob("validation-*.json")), sorted(out.glob("validation-*.pdf"))
    assert len(json_file) == len(pdf_file) == 1
    assert pdf_file[0].read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = " ".join(subprocess.run(["pdftotext", str(pdf_file[0]), "-"], capture_output=True,
                                       text=True, check=True).stdout.split())
        for title in ("Sensitive attributes:", "Identifier leakage:", "Canary exposure",
                      "Tabular classifier", f"{len(ids)} of {len(ids)} checks passed"):
            assert title in text, title
    latest = latest_validation(out)
    assert latest["status"] == "validated" and latest["outcome"] == "passed"
    assert latest["certificate_sha256"] == file_sha256(json_file[0])
    assert latest["date"] == certificate["date"] and latest["same_tool_version"]


def test_files_check_reports_changed_missing_and_added_files(tmp_path: Path) -> None:
    tree = tmp_path / "pkg"
    (tree / "sub").mkdir(parents=True)
    for name in ("a.py", "b.py", "sub/c.onnx"):
        (tree / name).write_text(name)
    roots, record_path = {"pkg": tree}, tmp_path / "record.json"
    record = record_installation(record_path, roots)
    assert check_files(record, roots, record_path)["passed"]
    (tree / "a.py").write_text("tampered")
    (tree / "sub" / "c.onnx").unlink()
    (tree / "injected.py").write_text("import os")
    result = check_files(record, roots, record_path)
    assert not result["passed"]
    assert result["details"] == {"changed": ["pkg/a.py"], "missing": ["pkg/sub/c.onnx"],
                                 "added": ["pkg/injected.py"]}
    missing = check_files(None, roots, record_path)
    assert not missing["passed"] and "no readable record" in missing["observed"]


def test_a_memorizing_model_in_place_of_the_negative_control_is_caught(tmp_path: Path,
                                                                        demo_dir: Path) -> None:
    """Swap the demo model in as the 'negative control': the known answers must fail."""
    fake = tmp_path / "controls" / "negative"
    shutil.copytree(ROOT / "resources" / "controls" / "negative", fake)
    shutil.rmtree(fake / "model")
    shutil.copytree(demo_dir / "model", fake / "model")
    plan = fake / "plan.toml"
    plan.write_text(plan.read_text().replace("../../demo/", f"{demo_dir.as_posix()}/"))

    def audit(plan_path: Path) -> dict:
        return run_audit(load_plan(plan_path)).as_dict()

    checks = {c["id"]: c for c in negative_checks(fake, audit)}
    assert not checks["negative.overall"]["passed"]
    assert checks["negative.overall"]["observed"] == "fail"
    assert not checks["negative.loss"]["passed"] and not checks["negative.extraction"]["passed"]


def _certificate(date: str, version: str = "0.1.0", outcome: str = "passed") -> dict:
    return {"schema": "mnemoscope.validation/1", "tool": {"name": "mnemoscope", "version": version},
            "date": date, "seconds": 1.0, "outcome": outcome, "passed_checks": 1,
            "machine": {"hostname": "host", "platform": "p", "machine": "m",
                        "processor_count": 2, "python": "3.11"},
            "versions": {"numpy": "2"}, "installation": {"record": "installed_files.json"},
            "checks": [{"id": "x", "title": "X", "expected": "a", "observed": "a",
                        "passed": outcome == "passed"}]}


def test_latest_validation_picks_the_newest_readable_certificate(tmp_path: Path) -> None:
    assert latest_validation(tmp_path / "absent")["status"] == "never_validated"
    write_certificate(_certificate("2026-11-01T10:00:00Z"), tmp_path)
    newest, _, digest = write_certificate(_certificate("2026-11-20T10:00:00Z", outcome="failed"),
                                          tmp_path)
    (tmp_path / "validation-29990101T000000Z.json").write_text("{not json")
    latest = latest_validation(tmp_path)
    assert (latest["date"], latest["outcome"], latest["certificate_sha256"]) == \
        ("2026-11-20T10:00:00Z", "failed", digest)
    assert latest["certificate"] == newest.name
    write_certificate(_certificate("2026-11-25T10:00:00Z", version="0.0.9"), tmp_path)
    older_tool = latest_validation(tmp_path)
    assert older_tool["same_tool_version"] is False and "not this version" in older_tool["text"]


def test_every_audit_cites_the_latest_validation(tmp_path: Path, small_plan: Path,
                                                 monkeypatch) -> None:
    folder = tmp_path / "validations"
    monkeypatch.setenv("MNEMOSCOPE_VALIDATION_DIR", str(folder))
    never = run_audit(load_plan(small_plan)).run_dict()["validation"]
    assert never["status"] == "never_validated" and never["certificate_sha256"] is None
    _, _, digest = write_certificate(_certificate("2026-11-29T09:00:00Z"), folder)
    cited = run_audit(load_plan(small_plan)).run_dict()["validation"]
    assert cited["status"] == "validated"
    assert (cited["date"], cited["outcome"], cited["certificate_sha256"]) == \
        ("2026-11-29T09:00:00Z", "passed", digest)
