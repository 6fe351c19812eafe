"""Subgroup values are data (issue 19, defect 6): a value is printed only as a category,
held by at least 11 patients in a column of at most 50 values. Rarer values share one
pooled stratum that names none of them; a column of more values is refused with exit 2
before any scoring. Each case runs the real CLI on files built here and looks for the
planted value in every output: the terminal, report.pdf, results.json and records.csv."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from audit_core.cli.main import main
from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.probes.vulnerable_strata import vulnerable_strata
from tests.conftest import DEMO, ROOT, write_plan
from tests.printed_tokens import pdf_text

SECRET = "ZZSECRET123"
TABULAR = ROOT / "resources" / "examples" / "tabular"


def _digests(*paths: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _cohorts(folder: Path, n: int = 120) -> tuple[Path, Path]:
    members = pd.read_csv(DEMO / "members.csv", dtype=str).head(n)
    non_members = pd.read_csv(DEMO / "non_members.csv", dtype=str).head(n)
    # Two wards everyone shares, and two values held by one and by two patients: a name
    # typed into the ward field, the kind of value the report must never print.
    members["ward"] = ["WARD_A" if i % 2 else "WARD_B" for i in range(n)]
    non_members["ward"] = ["WARD_A" if i % 2 else "WARD_B" for i in range(n)]
    members.loc[7, "ward"] = SECRET
    non_members.loc[[3, 4], "ward"] = SECRET + "-B"
    m, nm = folder / "members.csv", folder / "non_members.csv"
    members.to_csv(m, index=False)
    non_members.to_csv(nm, index=False)
    return m, nm


def _plan(folder: Path, members: Path, non_members: Path, subgroups: str) -> Path:
    plan = write_plan(folder, model=DEMO / "model", members=members, non_members=non_members,
                      probes="[probes.loss]\n")
    text = plan.read_text().replace('subgroups = ["age_band", "sex"]', f"subgroups = {subgroups}")
    plan.write_text(text)
    return plan


def test_a_rare_value_is_pooled_unnamed_and_printed_nowhere(tmp_path: Path, capsys) -> None:
    members, non_members = _cohorts(tmp_path)
    plan = _plan(tmp_path, members, non_members, '["ward", "sex"]')
    before = _digests(members, non_members, plan)
    out = tmp_path / "out"

    assert main(["run", str(plan), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert SECRET not in printed.out + printed.err

    results = json.loads((out / "results.json").read_text())
    loss = next(p for p in results["probes"] if p["id"] == "loss")
    ward = [s for s in loss["subgroups"] if s["column"] == "ward"]
    labels = [s["value"] for s in ward]
    assert labels[:2] == ["WARD_A", "WARD_B"]  # categories are named
    assert labels[2] == "other (2 values, each under 11 patients)"
    pooled = ward[2]
    # The pooled stratum still counts its patients (1 member, 2 non-members): both hidden.
    assert pooled["suppressed"] and pooled["hidden_counts"] == {"n_members": "small",
                                                                 "n_non_members": "small"}
    for name in ("results.json", "records.csv", "report.pdf"):
        assert SECRET.encode() not in (out / name).read_bytes(), name
    text = pdf_text(out / "report.pdf")
    assert SECRET not in text and "Ward: other (2 values" in " ".join(text.split())
    assert _digests(members, non_members, plan) == before


def test_a_column_of_many_values_is_refused_before_any_scoring(tmp_path: Path, capsys,
                                                               monkeypatch) -> None:
    members, non_members = _cohorts(tmp_path, n=60)
    for path, tag in ((members, "m"), (non_members, "n")):
        frame = pd.read_csv(path, dtype=str)
        frame["full_name"] = [f"{SECRET} {tag}{i}" for i in range(len(frame))]
        frame.to_csv(path, index=False)
    plan = _plan(tmp_path, members, non_members, '["sex", "full_name"]')
    before = _digests(members, non_members, plan)

    def no_scoring(*args, **kwargs):
        raise AssertionError("the model scored records of a refused plan")

    monkeypatch.setattr("audit_core.passes.chunked_scoring.score_streamed", no_scoring)
    out = tmp_path / "out"
    assert main(["run", str(plan), "--out", str(out), "--quiet"]) == 2
    printed = capsys.readouterr()
    err = printed.err
    assert err.startswith("mnemoscope: error: data.columns.subgroups: column 'full_name' holds "
                          "120 distinct values across members.csv and non_members.csv (120 of "
                          "them held by fewer than 11 patients)"), err
    assert "at most 50" in err and "Traceback" not in err
    assert SECRET not in printed.out + err
    assert not out.exists() or not any(out.iterdir())
    assert _digests(members, non_members, plan) == before


def test_a_tabular_audit_refuses_the_same_column(tmp_path: Path, capsys) -> None:
    for name in ("members.csv", "non_members.csv"):
        frame = pd.read_csv(TABULAR / name, dtype=str).head(150)
        frame["admitting_doctor"] = [f"Dr {SECRET} {name[0]}{i}" for i in range(len(frame))]
        frame.to_csv(tmp_path / name, index=False)
    text = (TABULAR / "plan.toml").read_text()
    text = text.replace('path = "model"', f'path = "{TABULAR / "model"}"')
    text = text.replace('reference = "reference"', f'reference = "{TABULAR / "reference"}"')
    text = text.replace('subgroups = ["age_band", "sex"]', 'subgroups = ["admitting_doctor"]')
    plan = tmp_path / "plan.toml"
    plan.write_text(text)
    before = _digests(tmp_path / "members.csv", tmp_path / "non_members.csv", plan)

    assert main(["run", str(plan), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    printed = capsys.readouterr()
    assert "column 'admitting_doctor' holds 300 distinct values" in printed.err, printed.err
    assert SECRET not in printed.out + printed.err
    assert _digests(tmp_path / "members.csv", tmp_path / "non_members.csv", plan) == before


def test_the_vulnerable_subgroups_strata_pool_rare_values_too() -> None:
    """T6 builds its strata from the same declared columns: a rare value is pooled there
    as well, at the plan's min_cell when that is larger than 11."""
    def cohort(role: Role, values: list[str]) -> Cohort:
        info = DatasetInfo(role=role.value, file=f"{role.value}.csv", sha256="0",
                           records=len(values), format="csv", columns={"kind": "text"})
        return Cohort(role=role, ids=tuple(f"{role.value}{i}" for i in range(len(values))),
                      sequences=("a b",) * len(values),
                      subgroups={"site": np.array(values, dtype=object)}, info=info)

    members = ["A"] * 30 + ["B"] * 14 + [SECRET]
    non_members = ["A"] * 30 + ["B"] * 3
    cohorts = {Role.MEMBERS: cohort(Role.MEMBERS, members),
               Role.NON_MEMBERS: cohort(Role.NON_MEMBERS, non_members)}
    labels = [s.value for s in vulnerable_strata(cohorts, 1, {}, {}, 11) if s.column == "site"]
    assert labels == ["A", "B", "other (1 value, each under 11 patients)"]
    # min_cell 20: B (17 patients) is now rare as well; both are pooled, neither named.
    strata = [s for s in vulnerable_strata(cohorts, 1, {}, {}, 20) if s.column == "site"]
    assert [s.value for s in strata] == ["A", "other (2 values, each under 20 patients)"]
    assert (strata[1].members.sum(), strata[1].non_members.sum()) == (15, 3)

