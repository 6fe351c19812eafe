"""The plan's [run] table and `--cluster`: what they accept, what they refuse (exit 2, one
line, no traceback), and that a local run never loads Ray. None of these starts Ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audit_core.cli.main import main
from audit_core.errors import PlanError
from audit_core.plan.parsing import load_plan, plan_from_dict
from audit_core.plan.run_keys import RunSettings
from audit_core.plan.writing import plan_toml
from audit_core.run.fingerprint import audit_fingerprint
from tests.conftest import DEMO, write_plan

ROOT = Path(__file__).resolve().parents[2]
_BASE = {"model": {"path": "model"}, "data": {"members": "m.csv", "non_members": "n.csv"}}


def test_run_table_is_read_written_and_left_out_of_the_audit_identity(tmp_path: Path) -> None:
    plan = plan_from_dict({**_BASE, "run": {"cluster": "ray://head.hospital.lan:10001", "workers": 8,
                                            "model_transfer": "shared_path"}}, base=tmp_path)
    assert plan.run == RunSettings(cluster="ray://head.hospital.lan:10001", workers=8,
                                   model_transfer="shared_path")
    # The desktop's "Save plan" keeps it; results.json's plan and the audit id do not change.
    (tmp_path / "plan.toml").write_text(plan_toml(plan, tmp_path))
    assert load_plan(tmp_path / "plan.toml").run == plan.run
    local = plan_from_dict(_BASE, base=tmp_path)
    assert local.run == RunSettings() and not local.run.distributed
    assert plan.as_dict() == local.as_dict()
    assert "[run]" not in plan_toml(local, tmp_path)
    ids = [audit_fingerprint(p.as_dict(), [], "a", "b").audit_id() for p in (plan, local)]
    assert ids[0] == ids[1]


@pytest.mark.parametrize(("run", "named"), [
    ({"cluster": "spark://head:7077"}, "'run.cluster'"),
    ({"cluster": 3}, "'run.cluster'"),
    ({"workers": -1}, "'run.workers'"),
    ({"workers": True}, "'run.workers'"),
    ({"model_transfer": "nfs"}, "'run.model_transfer'"),
    ({"nodes": 2}, "'run.nodes'"),
    ("ray", "'run'"),
])
def test_bad_run_values_are_refused_naming_the_key(run: object, named: str) -> None:
    with pytest.raises(PlanError, match=named):
        plan_from_dict({**_BASE, "run": run})


def _refusal(tmp_path: Path, capsys, *args: str) -> str:
    plan = tmp_path / "plan.toml"
    plan.write_text(f'[model]\npath = "{DEMO / "model"}"\n[data]\nmembers = "{DEMO / "members.csv"}"\n'
                    f'non_members = "{DEMO / "non_members.csv"}"\n[data.columns]\nid = "patient_id"\n'
                    'sequence = "codes"\nkind = "codes"\n')
    code = main(["run", str(plan), "--out", str(tmp_path / "out"), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "results.json").exists()
    return err


def test_a_cluster_without_ray_installed_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert "install the [cluster] extra" in _refusal(tmp_path, capsys, "--cluster", "auto")


def test_an_unreachable_or_malformed_cluster_address_is_refused(tmp_path: Path, capsys) -> None:
    pytest.importorskip("ray")
    err = _refusal(tmp_path, capsys, "--cluster", "ray://127.0.0.1:9")  # the discard port: closed
    assert "cannot reach the Ray cluster at ray://127.0.0.1:9" in err
    assert "--cluster must be" in _refusal(tmp_path, capsys, "--cluster", "http://head:8265")


def test_a_local_run_never_imports_ray(tmp_path: Path, small_cohorts: tuple[Path, Path]) -> None:
    plan = write_plan(tmp_path, model=DEMO / "model", members=small_cohorts[0],
                      non_members=small_cohorts[1], probes="[probes.loss]\n")
    # The CLI's modules and the whole run (the PDF aside: reportlab is not the question).
    script = ("import sys\nimport audit_core.cli.main\nfrom audit_core import load_plan, run_audit\n"
              f"assert not run_audit(load_plan({str(plan)!r})).cancelled\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] == 'ray'))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
