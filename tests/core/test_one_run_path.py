"""Every model kind goes through the runner's one probe loop and gets its audit id from the
one fingerprint its checkpoint is keyed by.

Per kind (a causal language model, a tabular classifier with a reference model, an
encoder), one run in which the first probe crashes and the last one is cancelled as it
starts: the crash is "not assessed" and not kept by the checkpoint (a resume retries it),
the probes in between finished and are kept, and the result says cancelled. The audit id
is the fingerprint stored in the checkpoint, which is that of the plan, the model's files,
both cohorts' SHA-256 and, for the tabular audit, the reference model's files (the
tabular path once left those out of the id, though not out of the checkpoint).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from audit_core.fingerprint import file_sha256
from audit_core.kinds import KINDS, kind_for
from audit_core.models.inspection import KIND_NAMES, UNKNOWN, inspect_model
from audit_core.plan.parsing import load_plan
from audit_core.results.sections import AuditSection, DatasetSection, FileEntry, ModelSection, TensorEntry
from audit_core.results.verdicts import Verdict
from audit_core.run import runner
from audit_core.run.fingerprint import Fingerprint, audit_fingerprint
from audit_core.tools.controls.tabular_example import example_plan
from audit_core.work.checkpoints import CHECKPOINT_FILE, CheckpointRequest
from audit_core.work.progress import CancelToken
from tests.encoders.conftest import encoder_plan


@pytest.fixture()
def tabular_plan(tmp_path: Path, tabular_controls) -> Path:
    """200 members and 200 non-members of the tabular controls, audited with a reference."""
    for name, source in (("members.csv", tabular_controls.members),
                         ("non_members.csv", tabular_controls.non_members)):
        pd.read_csv(source, dtype=str).head(200).to_csv(tmp_path / name, index=False)
    for model in ("model", "reference"):
        (tmp_path / model).symlink_to(tabular_controls.folder / model)
    path = tmp_path / "plan.toml"
    path.write_text(example_plan("model", "reference"), encoding="utf-8")
    return path


@pytest.fixture()
def encoder_plan_path(tmp_path: Path, encoder_controls) -> Path:
    """60 members and 60 non-members of the encoder controls, the memorizing encoder."""
    for name, source in (("members.csv", encoder_controls.members),
                         ("non_members.csv", encoder_controls.non_members)):
        pd.read_csv(source, dtype=str).head(60).to_csv(tmp_path / name, index=False)
    (tmp_path / "memorizing").symlink_to(encoder_controls.memorizing)
    return encoder_plan(SimpleNamespace(folder=tmp_path), "memorizing")


def _units(out: Path) -> set[str]:
    with sqlite3.connect(f"file:{out / CHECKPOINT_FILE}?mode=ro", uri=True) as db:
        return {name for (name,) in db.execute("SELECT name FROM units")}


class _Crashing:
    """A probe whose `run` crashes, otherwise the probe it wraps."""

    def __init__(self, probe) -> None:
        self._probe = probe

    def __getattr__(self, name: str):
        return getattr(self._probe, name)

    def run(self, config, ctx):
        raise RuntimeError("bug in a probe")


def _crash_first_cancel_last(plan_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch):
    """Run with the first selected probe crashing and a cancel as the last one starts;
    return the plan, the probes the kind selected, the probe ids the runner's loop handed
    to run_probe, and the result."""
    plan = load_plan(plan_path)
    token = CancelToken()
    selected: list[str] = []
    real_kind_for, real_run_probe = runner.kind_for, runner.run_probe

    def spied_kind_for(kind: str):
        entry = real_kind_for(kind)

        def prepare(plan, kind, progress):
            prepared = entry.prepare(plan, kind, progress)
            selected.extend(p.id for p, _ in prepared.selected)
            return prepared
        return replace(entry, prepare=prepare)

    looped: list[str] = []

    def counted(probe, config, ctx, thresholds, crashed=False):
        looped.append(probe.id)
        if probe.id == selected[-1]:
            token.cancel()
            ctx.progress.check()  # raises Cancelled, as the probe's own progress would
        if probe.id == selected[0]:
            probe = _Crashing(probe)
        return real_run_probe(probe, config, ctx, thresholds, crashed=crashed)

    monkeypatch.setattr(runner, "kind_for", spied_kind_for)
    monkeypatch.setattr(runner, "run_probe", counted)
    result = runner.run_audit(plan, cancel=token, checkpoint=CheckpointRequest(out))
    assert len(selected) >= 2, selected
    return plan, selected, looped, result


@pytest.mark.parametrize("which", ["causal_lm", "tabular", "encoder"])
def test_every_kind_runs_the_one_loop_and_its_id_is_the_checkpoint_fingerprint(
        which: str, request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    plan_path = request.getfixturevalue(
        {"causal_lm": "small_plan", "tabular": "tabular_plan", "encoder": "encoder_plan_path"}[which])
    out = tmp_path / "out"
    plan, selected, looped, result = _crash_first_cancel_last(plan_path, out, monkeypatch)

    assert looped == selected  # every probe, the cancelled one too, went through the runner's loop
    assert result.cancelled and "cancelled" in result.overall_rationale
    assert [p.id for p in result.probes] == selected[:-1]  # finished probes are kept
    first = result.probes[0]
    assert first.verdict is Verdict.ERROR and first.error == "RuntimeError while running the probe"
    assert all(p.verdict is not Verdict.ERROR for p in result.probes[1:])
    units = _units(out)
    assert f"probe/{selected[0]}" not in units  # a crash is not kept: a resume retries it
    assert {f"probe/{i}" for i in selected[1:-1]} <= units and f"probe/{selected[-1]}" not in units

    # The id is the checkpoint's fingerprint, and that is the plan's, the files' and the
    # reference model's (tabular) as read here, independently of the run.
    with sqlite3.connect(f"file:{out / CHECKPOINT_FILE}?mode=ro", uri=True) as db:
        stored = dict(db.execute("SELECT key, value FROM meta").fetchall())
    assert result.audit["id"] == Fingerprint(json.loads(stored["fingerprint"])).audit_id()
    reference = inspect_model(plan.model.reference).files if plan.model.reference else None
    expected = audit_fingerprint(plan.as_dict(), inspect_model(plan.model.path).files,
                                 file_sha256(plan.data.members), file_sha256(plan.data.non_members),
                                 reference)
    assert result.audit["id"] == expected.audit_id()
    _assert_sections_declared(result)
    if which == "tabular":
        assert reference is not None
        without = audit_fingerprint(plan.as_dict(), inspect_model(plan.model.path).files,
                                    file_sha256(plan.data.members), file_sha256(plan.data.non_members))
        assert result.audit["id"] != without.audit_id()  # the reference's files count


def _declared(section: type) -> frozenset[str]:
    return section.__required_keys__ | section.__optional_keys__


def _assert_sections_declared(result) -> None:
    """Every key the kind and the runner wrote is one results.sections declares: mypy checks
    the keys they write by name, and this the keys that come in whole from inspection
    (ModelInfo.as_dict, DatasetInfo.as_dict, the precision facts), which mypy cannot see."""
    assert set(result.audit) <= _declared(AuditSection)
    assert set(result.model) <= _declared(ModelSection)
    assert set(result.model.get("reference", {})) <= _declared(ModelSection)
    for entry in result.datasets:
        assert set(entry) <= _declared(DatasetSection)
    for entry in result.model["files"]:
        assert set(entry) == _declared(FileEntry)
    for entry in [*result.model["inputs"], *result.model["outputs"]]:
        assert set(entry) == _declared(TensorEntry)


def test_each_inspection_kind_is_served_by_exactly_one_kind() -> None:
    served = [k for entry in KINDS for k in entry.serves]
    assert sorted(served) == sorted([*KIND_NAMES, UNKNOWN])
    assert kind_for(UNKNOWN) is KINDS[0]  # the causal-LM path's inspection says what is wrong


def test_the_run_path_never_imports_the_tools() -> None:
    """tools/ (bench, validation, controls, ...) call run_audit, never the reverse: what an
    audit reads of them (the latest validation, the calibration) lives in run/."""
    core = Path(__file__).resolve().parents[2] / "audit_core"
    for package in ("run", "kinds", "passes"):
        for path in (core / package).rglob("*.py"):
            assert "audit_core.tools" not in path.read_text(encoding="utf-8"), path
