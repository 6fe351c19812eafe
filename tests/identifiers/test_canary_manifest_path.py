"""The canary manifest named in a plan is read from the plan's folder, like model.path and
the data files: the same plan gives the same audit from whatever folder it is run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from audit_core.cli.main import main
from audit_core.plan.parsing import load_plan
from audit_core.plan.writing import write_plan
from audit_core.run.fingerprint import audit_fingerprint

CONTROL = Path(__file__).resolve().parents[2] / "resources" / "controls" / "canaries"


def _plan_beside_its_canaries(folder: Path, manifest: str) -> Path:
    """The canary control's plan, moved to `folder` with its canary set; model and data
    stay where they are (absolute paths)."""
    shutil.copytree(CONTROL / "canaries", folder / "canaries")
    text = (f'[model]\npath = "{(CONTROL / "model").as_posix()}"\n\n'
            f'[data]\nmembers = "{(CONTROL / "members.csv").as_posix()}"\n'
            f'non_members = "{(CONTROL / "non_members.csv").as_posix()}"\n\n'
            '[data.columns]\nid = "patient_id"\nsequence = "codes"\nkind = "codes"\n\n'
            f'[probes.canary_exposure]\nmanifest = "{manifest}"\n')
    (folder / "plan.toml").write_text(text, encoding="utf-8")
    return folder / "plan.toml"


def test_the_cli_reads_a_relative_manifest_from_the_plans_folder(tmp_path: Path, monkeypatch,
                                                                 capsys) -> None:
    plan = _plan_beside_its_canaries(tmp_path / "audit", "canaries/manifest.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no canaries/ here: only the plan's folder has them

    assert main(["run", str(plan), "--out", str(tmp_path / "out"), "--quiet"]) == 0, capsys.readouterr().err
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    (probe,) = results["probes"]
    assert Path(results["plan"]["probes"]["canary_exposure"]["manifest"]).resolve() == \
        (tmp_path / "audit" / "canaries" / "manifest.json").resolve()
    # The known answer of the control: canaries inserted often are exposed.
    assert probe["id"] == "canary_exposure" and probe["verdict"] in ("warn", "fail"), probe["verdict"]


def test_an_absolute_manifest_is_kept_and_the_audit_id_does_not_depend_on_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = (CONTROL / "canaries" / "manifest.json").as_posix()
    plan = load_plan(_plan_beside_its_canaries(tmp_path / "a", absolute))
    assert plan.probes["canary_exposure"]["manifest"] == absolute

    _plan_beside_its_canaries(tmp_path / "b", "canaries/manifest.json")
    ids = []
    for cwd, name in ((tmp_path / "b", "plan.toml"), (tmp_path, "b/plan.toml")):
        monkeypatch.chdir(cwd)
        ids.append(audit_fingerprint(load_plan(name).as_dict(), [], "m", "n").audit_id())
    assert ids[0] == ids[1]


def test_a_plan_saved_elsewhere_still_finds_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The desktop opens a plan, turns it into its draft and saves the plan beside the
    report, in another folder: the saved plan must name the same manifest."""
    from desktop.plan_draft import PlanDraft

    source = _plan_beside_its_canaries(tmp_path / "audit", "canaries/manifest.json")
    monkeypatch.chdir(tmp_path)
    draft = PlanDraft.from_plan(load_plan(Path("audit") / "plan.toml"))
    saved = (tmp_path / "out" / "plan.toml", tmp_path / "audit" / "copy.toml")
    for path in saved:
        path.parent.mkdir(exist_ok=True)
        write_plan(draft.to_plan(), path)
    monkeypatch.chdir(tmp_path / "out")
    for path in saved:
        manifest = load_plan(path).probes["canary_exposure"]["manifest"]
        assert Path(manifest).resolve() == (source.parent / "canaries" / "manifest.json").resolve()
    # Beside the plan it is written relative, so plan and canaries can move together.
    assert 'manifest = "canaries/manifest.json"' in (tmp_path / "audit" / "copy.toml").read_text()
