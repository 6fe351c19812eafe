"""What the data-edge tests share (test_data_edges.py, test_data_edge_values.py): the
planted values, the demo's rows to build files from, and a CLI run that must refuse."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from audit_core.cli.main import main
from audit_core.plan.parsing import ColumnMapping
from tests.conftest import DEMO, write_plan

SECRET = "ZZSECRET123"
NAME = "Jane Q Secretperson"
COLUMNS = ColumnMapping(id="patient_id", sequence="codes", kind="codes", subgroups=("age_band", "sex"))


def demo_frame() -> pd.DataFrame:
    """The demo's members, every value as text, to build hostile files from."""
    return pd.read_csv(DEMO / "members.csv", dtype=str, keep_default_na=False)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(folder: Path, members: Path, capsys, *, non_members: Path | None = None,
             model: Path = DEMO / "model", plan_text: str | None = None) -> str:
    """Run the CLI on a plan over `members`; assert exit 2, one clean line, no planted
    value, and every input file unchanged. The message is returned."""
    if non_members is None:
        non_members = folder / "non_members.csv"
        if not non_members.exists():
            pd.read_csv(DEMO / "non_members.csv", dtype=str).head(40).to_csv(non_members, index=False)
    plan = write_plan(folder, model=model, members=members, non_members=non_members,
                      probes="[probes.loss]\n")
    if plan_text is not None:
        plan.write_text(plan_text)
    inputs = [p for p in folder.rglob("*") if p.is_file()]
    before = {p: sha(p) for p in inputs}
    code = main(["run", str(plan), "--out", str(folder / "out"), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for planted in (SECRET, NAME, "Secretperson"):
        assert planted not in out + err, err
    assert {p: sha(p) for p in inputs} == before
    return err

