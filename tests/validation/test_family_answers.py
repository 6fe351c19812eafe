"""The probe families' known answers in `mnemoscope validate` must catch a wrong control:
each control copied, then its memorizing model (or cohort) swapped with its counterpart,
so that both the check that something is found and the check that nothing is found fail.
That they pass on the committed controls is shown by the whole validation run in
test_validate.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from audit_core.families.attribute import sensitive_checks
from audit_core.families.canaries import canary_checks
from audit_core.families.ehr_answers import ehr_checks
from audit_core.families.identifiers import notes_checks
from audit_core.families.membership import tabular_checks
from audit_core.plan.parsing import load_plan
from audit_core.run.runner import run_audit
from audit_core.tools.validation import family_answers
from audit_core.tools.validation.installation import record_installation
from audit_core.tools.validation.known_answers import control_files
from audit_core.tools.validation.run import FAMILY_CONTROLS, run_validation

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def _audit(plan_path: Path) -> dict:
    return run_audit(load_plan(plan_path)).as_dict()


def _copy(tmp_path: Path, *wheres: str) -> Path:
    """Copy resource folders (e.g. 'controls/sensitive') under tmp, keeping their relative layout."""
    for where in wheres:
        shutil.copytree(RESOURCES / where, tmp_path / where)
    return tmp_path


def _swap(a: Path, b: Path) -> None:
    parked = a.with_name(a.name + ".parked")
    a.rename(parked)
    b.rename(a)
    parked.rename(b)


def _by_id(checks: list[dict]) -> dict[str, dict]:
    return {c["id"]: c for c in checks}


def test_swapped_sensitive_models_fail_both_sides_and_the_files_check(tmp_path: Path) -> None:
    root = _copy(tmp_path, "controls/sensitive", "controls/negative")
    sensitive = root / "controls" / "sensitive"
    _swap(sensitive / "model" / "model.onnx", root / "controls" / "negative" / "model" / "model.onnx")
    checks = _by_id(sensitive_checks(sensitive, _audit))
    assert not checks["sensitive.planted"]["passed"], checks["sensitive.planted"]
    assert not checks["sensitive.negative"]["passed"], checks["sensitive.negative"]
    assert not control_files(sensitive, "sensitive", "Sensitive-attribute control")["passed"]


def test_swapped_canary_models_fail_both_sides(tmp_path: Path) -> None:
    root = _copy(tmp_path, "controls/canaries", "controls/negative")
    canaries = root / "controls" / "canaries"
    _swap(canaries / "model" / "model.onnx", root / "controls" / "negative" / "model" / "model.onnx")
    checks = _by_id(canary_checks(canaries, _audit))
    assert not checks["canaries.exposure"]["passed"], checks["canaries.exposure"]
    assert not control_files(canaries, "canaries", "Canary control")["passed"]
    negative = checks["canaries.negative"]
    assert not negative["passed"] and "0 of 12" not in negative["observed"], negative


def test_notes_audited_with_members_and_outsiders_swapped_fail_both_sides(tmp_path: Path) -> None:
    notes = _copy(tmp_path, "controls/notes") / "controls" / "notes"
    _swap(notes / "members.csv", notes / "outsiders.csv")
    checks = _by_id(notes_checks(notes, _audit))
    assert not checks["notes.leakage"]["passed"] and checks["notes.leakage"]["observed"].startswith(
        ("pass", "inconclusive")), checks["notes.leakage"]
    assert not checks["notes.negative"]["passed"], checks["notes.negative"]
    assert control_files(notes, "notes", "Clinical-notes control")["passed"]  # the model is right


def test_swapped_tabular_models_fail_both_sides(tmp_path: Path) -> None:
    tabular = _copy(tmp_path, "examples/tabular") / "examples" / "tabular"
    _swap(tabular / "model" / "model.onnx", tabular / "reference" / "model.onnx")
    checks = _by_id(tabular_checks(tabular, _audit))
    assert not checks["tabular.membership"]["passed"], checks["tabular.membership"]
    assert not checks["tabular.negative"]["passed"], checks["tabular.negative"]
    assert checks["tabular.negative"]["observed"].startswith("overall fail")


def test_a_changed_byte_in_a_control_model_fails_its_files_check(tmp_path: Path) -> None:
    canaries = _copy(tmp_path, "controls/canaries") / "controls" / "canaries"
    model = canaries / "model" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    files = control_files(canaries, "canaries", "Canary control")
    assert not files["passed"] and files["expected"] != files["observed"]


def test_swapped_ehrmamba_models_fail_both_sides(tmp_path: Path) -> None:
    """The MEDS example's memorising EHRMamba-style model and its counterpart swapped: the
    planted subjects are no longer named, and the counterpart's side now fails."""
    meds = _copy(tmp_path, "examples/meds") / "examples" / "meds"
    _swap(meds / "model", meds / "unseen_model")
    checks = _by_id(ehr_checks(meds, _audit))
    assert not checks["ehrmamba.overall"]["passed"], checks["ehrmamba.overall"]
    assert not checks["ehrmamba.planted"]["passed"], checks["ehrmamba.planted"]
    assert not checks["ehrmamba.negative"]["passed"], checks["ehrmamba.negative"]


def test_missing_controls_are_failed_checks_that_name_the_problem(tmp_path: Path,
                                                                 monkeypatch) -> None:
    """Resources without the controls: every group fails, none crashes, nothing is skipped."""
    monkeypatch.setenv("MNEMOSCOPE_RESOURCES", str(tmp_path / "resources"))
    (tmp_path / "resources").mkdir()
    record = tmp_path / "record.json"
    record_installation(record)
    result = run_validation(tmp_path / "out", record_path=record)
    assert not result.passed
    checks = _by_id(result.certificate["checks"])
    for label, _, _, manifest, _, _ in FAMILY_CONTROLS:
        ran = checks[f"{label}.ran"]
        assert not ran["passed"] and ran["observed"].startswith("it could not run"), ran
        assert "ground_truth.json" in ran["observed"] or "validation.toml" in ran["observed"], ran
        if manifest:
            assert not checks[f"{label}.files"]["passed"]
    written = json.loads(result.json_path.read_text())
    assert written["outcome"] == "failed"


@pytest.mark.parametrize("label", [label for label, *_ in FAMILY_CONTROLS])
def test_each_family_control_ships_both_validation_plans(label: str) -> None:
    where = next(w for lbl, _, w, *_ in FAMILY_CONTROLS if lbl == label)
    for name in (family_answers.POSITIVE, family_answers.NEGATIVE):
        plan = load_plan(RESOURCES / where / name)
        if getattr(plan.data, "format", "files") == "meds":  # one dataset root, split by split
            assert plan.model.path.is_dir() and plan.data.root.is_dir(), name
            assert (plan.data.root / "metadata" / "subject_splits.parquet").is_file(), name
        else:
            assert plan.model.path.is_dir() and plan.data.members.is_file(), name
            assert plan.data.non_members.is_file(), name
        if plan.data.columns.features is None:  # a language model: only the probe checked
            assert plan.probes is not None and len(plan.probes) == 1, name


class _FakeResult:
    """What run_audit returns, for an audit that found nothing (or was cancelled)."""

    def __init__(self, cancelled: bool = False) -> None:
        self.cancelled = cancelled

    def as_dict(self) -> dict:
        return {"model": {"execution_provider": "CPUExecutionProvider"}, "probes": [],
                "overall_verdict": "pass"}


def _fake_validation(tmp_path: Path, monkeypatch, cancel_on: str | None = None):
    """run_validation with run_audit replaced: every plan audited, in order, with its progress."""
    import audit_core.run.runner

    plans: list[str] = []

    def fake_run_audit(plan, *, cancel=None, on_progress=None, **_):
        plans.append(plan.source.name if getattr(plan, "source", None) else "")
        for fraction in (0.0, 0.5, 1.0):
            on_progress(fraction, "scoring")
        return _FakeResult(cancelled=cancel_on is not None and cancel_on in str(plan.model.path))

    monkeypatch.setattr(audit_core.run.runner, "run_audit", fake_run_audit)
    record = tmp_path / "record.json"
    record_installation(record)
    seen: list[float] = []
    result = run_validation(tmp_path / "out", record_path=record,
                            on_progress=lambda f, _m: seen.append(f))
    return result, plans, seen


def test_every_control_is_audited_twice_with_progress_that_never_goes_back(tmp_path: Path,
                                                                          monkeypatch) -> None:
    result, plans, seen = _fake_validation(tmp_path, monkeypatch)
    assert len(plans) == 2 + 2 * len(FAMILY_CONTROLS)  # demo, negative, then each side of each
    assert seen == sorted(seen) and seen[-1] == 1.0
    # An audit that finds nothing fails every family's "found" check: none passes by default.
    checks = _by_id(result.certificate["checks"])
    for found in ("sensitive.planted", "notes.leakage", "canaries.exposure", "tabular.membership"):
        assert not checks[found]["passed"] and checks[found]["observed"] == "not run", found


def test_cancelling_during_a_family_audit_stops_the_validation(tmp_path: Path, monkeypatch) -> None:
    from audit_core.work.progress import Cancelled

    with pytest.raises(Cancelled):
        _fake_validation(tmp_path, monkeypatch, cancel_on="canaries")
    assert not list((tmp_path / "out").glob("validation-*"))  # no certificate for a cancelled run
