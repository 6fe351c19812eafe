"""The MEDS keys of a plan: defaults, checks, as_dict and the written plan's round trip;
a files plan's form unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_core.errors import PlanError
from audit_core.plan.parsing import load_plan, plan_from_dict
from audit_core.plan.writing import plan_toml, write_plan

MODEL = {"path": "model"}


def meds(**data):
    return plan_from_dict({"model": MODEL, "data": {"format": "meds", "root": "ds", **data}}, base=Path("/p"))


def test_defaults_without_members_keys() -> None:
    plan = meds()
    assert plan.data.format == "meds" and plan.data.root == Path("/p/ds")
    assert plan.data.members_splits == ("train",) and plan.data.non_members_splits == ("held_out",)
    assert plan.data.tokens.numeric == "none" and plan.data.columns.kind == "codes"
    assert plan.as_dict()["data"] == {
        "format": "meds", "root": "/p/ds", "members_splits": ["train"], "non_members_splits": ["held_out"],
        "columns": {"id": "subject_id", "sequence": "code", "kind": "codes", "subgroups": []}}


def test_files_plan_as_dict_has_no_new_keys(demo_dir: Path) -> None:
    plan = load_plan(demo_dir / "plan.toml")
    assert plan.data.format == "files"
    assert set(plan.as_dict()["data"]) == {"members", "non_members", "columns"}
    again = plan_from_dict({"model": MODEL, "data": {"format": "files", "members": "a.csv",
                                                     "non_members": "b.csv"}})
    assert "format" not in again.as_dict()["data"]


def test_written_plan_round_trips(tmp_path: Path) -> None:
    tokens = {"prefixes": {"DIAGNOSIS//ICD//10//": "ICD10//"}, "numeric": "quantiles", "bins": 5,
              "edges": {"LAB//51237//UNK": [1.0, 2.5]}}
    plan = plan_from_dict({"model": MODEL, "data": {
        "format": "meds", "root": "ds", "members_splits": ["train", "tuning"],
        "non_members_splits": ["held_out"], "visit_codes": ["VISIT"], "tokens": tokens,
        "columns": {"subgroups": ["GENDER"]}}}, base=tmp_path)
    path = tmp_path / "plan.toml"
    write_plan(plan, path)
    text = path.read_text(encoding="utf-8")
    assert 'root = "ds"' in text and '"DIAGNOSIS//ICD//10//" = "ICD10//"' in text
    again = load_plan(path)
    assert again.data == plan.data
    assert again.as_dict() == plan.as_dict()
    assert plan_toml(again, tmp_path) == text


@pytest.mark.parametrize(("data", "message"), [
    ({"members": "a.csv"}, "unknown key 'data.members' for format 'meds'"),
    ({"root": ""}, "'data.root' must be a non-empty path"),
    ({"members_splits": []}, "'data.members_splits' names no split"),
    ({"members_splits": "train"}, "'data.members_splits' must be a list of names"),
    ({"non_members_splits": ["train"]}, "split 'train' is named in both"),
    ({"tokens": {"numeric": "bins"}}, "'data.tokens.numeric' must be one of none, quantiles, edges"),
    ({"tokens": {"numeric": "edges"}}, "names no code"),
    ({"tokens": {"edges": {"X": [2.0, 1.0]}}}, "must rise strictly"),
    ({"tokens": {"bins": 1}}, "'data.tokens.bins' must be an integer from 2"),
    ({"tokens": {"prefixes": {"A": "B C"}}}, "'data.tokens.prefixes' must map"),
    ({"tokens": {"unit": 1}}, "unknown key 'data.tokens.unit'"),
    ({"columns": {"sequence": "text"}}, "'data.columns.sequence' is fixed for a MEDS dataset"),
    ({"columns": {"features": ["a"]}}, "unknown key 'data.columns.features' for a MEDS dataset"),
])
def test_bad_keys_are_refused(data: dict, message: str) -> None:
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        meds(**data)


def test_missing_root_and_unknown_format() -> None:
    with pytest.raises(PlanError, match="missing key 'data.root'"):
        plan_from_dict({"model": MODEL, "data": {"format": "meds"}})
    with pytest.raises(PlanError, match="'data.format' must be one of files, meds"):
        plan_from_dict({"model": MODEL, "data": {"format": "omop", "root": "x"}})


def test_any_meds_data_table_is_a_plan_or_a_plan_error() -> None:
    """Fuzzed [data] tables of a MEDS plan: a plan whose as_dict parses back the same, or
    PlanError; never another exception (a traceback for the user)."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 2000), st.floats(allow_nan=True, allow_subnormal=False),
                        st.text(max_size=12), st.sampled_from(["train", "held_out", "none", "quantiles",
                                                               "edges", "GENDER", "ICD10//"]))
    values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                           st.dictionaries(st.text(max_size=8), inner,
                                                                           max_size=3)), max_leaves=8)
    keys = st.sampled_from(["root", "members_splits", "non_members_splits", "tokens", "visit_codes",
                            "columns", "members", "prefixes", "numeric", "bins", "edges", "subgroups"])
    tables = st.dictionaries(keys, values, max_size=5)

    @hypothesis.settings(max_examples=80, derandomize=True, deadline=None, database=None)
    @hypothesis.given(data=tables, tokens=st.dictionaries(keys, values, max_size=4))
    def check(data: dict, tokens: dict) -> None:
        raw = {**data, "format": "meds", "tokens": tokens} if tokens else {**data, "format": "meds"}
        try:
            plan = plan_from_dict({"model": MODEL, "data": raw})
        except PlanError:
            return
        again = plan_from_dict({"model": MODEL, "data": plan.as_dict()["data"]})
        assert again.data == plan.data

    check()


def test_audit_id_does_not_depend_on_the_working_folder(tmp_path: Path, monkeypatch) -> None:
    """`run plan.toml` in its folder and `run /abs/plan.toml` elsewhere are the same audit:
    the dataset folder is resolved in the fingerprint as the files are."""
    from audit_core.run.fingerprint import audit_fingerprint

    (tmp_path / "plan.toml").write_text('[model]\npath = "model"\n\n[data]\nformat = "meds"\nroot = "ds"\n',
                                        encoding="utf-8")
    absolute = load_plan(tmp_path / "plan.toml")
    monkeypatch.chdir(tmp_path)
    relative = load_plan(Path("plan.toml"))
    assert str(relative.data.root) == "ds" and absolute.data.root.is_absolute()
    ids = {audit_fingerprint(p.as_dict(), [], "m", "m").audit_id() for p in (absolute, relative)}
    assert len(ids) == 1
