"""Save plan writes exactly what `mnemoscope run` reads."""

from __future__ import annotations

import tomllib
from pathlib import Path

from audit_core.plan.parsing import load_plan, plan_from_dict
from audit_core.plan.writing import plan_toml, write_plan

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_plan_round_trips(tmp_path: Path) -> None:
    plan = load_plan(ROOT / "resources" / "demo" / "plan.toml")
    target = tmp_path / "saved.toml"
    write_plan(plan, target)
    again = load_plan(target)
    assert again.as_dict() | {"model": None, "data": None} == plan.as_dict() | {"model": None, "data": None}
    assert again.model.path.resolve() == plan.model.path.resolve()
    assert again.data.members.resolve() == plan.data.members.resolve()
    assert again.model.declared == plan.model.declared
    assert again.probes == plan.probes


def test_paths_beside_the_plan_are_written_relative(tmp_path: Path) -> None:
    plan = plan_from_dict({"model": {"path": "model"},
                           "data": {"members": "m.csv", "non_members": "n.csv"}}, base=tmp_path)
    raw = tomllib.loads(plan_toml(plan, tmp_path))
    assert raw["model"]["path"] == "model"
    assert raw["data"]["members"] == "m.csv"


def test_awkward_text_and_every_value_type_survive(tmp_path: Path) -> None:
    raw = {"audit": {"title": 'Audit "Q3" \\ notes\nsecond line\tÅsa', "seed": 3,
                     "release_context": "public"},
           "model": {"path": str(tmp_path / "model"), "batch_size": 8,
                     "declared": {"epochs": 2, "dp": False, "epsilon": 8.0, "data set": "x"}},
           "data": {"members": "m.csv", "non_members": "n.csv",
                    "columns": {"id": "id", "sequence": "text", "kind": "text", "subgroups": ["a b", "c"]}},
           "probes": {"loss": {}, "min_k": {"k": 0.1}},
           "thresholds": {"membership": {"primary_fpr": 1e-5}}}
    plan = plan_from_dict(raw, base=tmp_path)
    target = tmp_path / "p.toml"
    write_plan(plan, target)
    again = load_plan(target)
    assert again.audit == plan.audit
    assert again.model.declared == plan.model.declared
    assert again.data.columns == plan.data.columns
    assert again.probes == plan.probes
    assert again.thresholds == plan.thresholds
