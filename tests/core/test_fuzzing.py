"""Property-based fuzzing of the plan parser and the cohort loaders (hypothesis).

The property: whatever the input, it either loads or raises the tool's own error
(PlanError / DataError, which the CLI turns into one line and exit code 2), never any
other exception, which would surface as a traceback. Derandomized, with moderate example
counts, so the suite stays fast and a failure reproduces.
"""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from audit_core.data.cohort import Role  # noqa: E402
from audit_core.data.loading import load_cohort, read_table  # noqa: E402
from audit_core.errors import DataError, PlanError  # noqa: E402
from audit_core.plan.parsing import ColumnMapping, load_plan, plan_from_dict  # noqa: E402
from audit_core.run.runner import resolve_probes, resolve_thresholds  # noqa: E402

FUZZ = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# No subnormals: onnxruntime turns on flush-to-zero for the whole process, so after an
# in-process audit (earlier tests) hypothesis cannot draw them.
floats = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False)
# Scalars a plan or a data cell may hold, the hostile ones included.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    floats, st.text(max_size=12),
    st.sampled_from(["", "0", "-1", "1e999", "nan", "../../etc/passwd", "model", "codes", "text"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)

PLAN_KEYS = {
    "audit": ["title", "institution", "requester", "auditor", "intended_use", "release_context", "seed"],
    "model": ["path", "context_length", "batch_size", "threads", "reference", "declared"],
    "data": ["members", "non_members"],
}
PROBE_IDS = ["loss", "zlib", "min_k", "min_k_plus_plus", "extraction", "nonsense"]
FAMILIES = ["membership", "extraction", "split_validity", "subgroups", "nonsense"]
SETTING_KEYS = ["k", "prefix_tokens", "suffix_tokens", "batch_size", "primary_fpr", "warn_auc_lower",
                "fail_auc_lower", "alpha", "folds", "max_auc", "min_expected_false_positives"]
COLUMN_KEYS = ["id", "sequence", "kind", "subgroups", "features", "label"]


def _keys(known: list[str]) -> st.SearchStrategy[str]:
    """Mostly the keys the parser knows (so the fuzz gets past the unknown-key check)."""
    return st.one_of(*[st.sampled_from(known)] * 6, st.text(max_size=6))


def _table(known: list[str], inner: st.SearchStrategy = values) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(_keys(known), inner, max_size=len(known))


plan_sections = {section: _table(keys) for section, keys in PLAN_KEYS.items()}
plan_sections["probes"] = _table(PROBE_IDS, st.one_of(_table(SETTING_KEYS), values))
plan_sections["thresholds"] = _table(FAMILIES, st.one_of(_table(SETTING_KEYS), values))
plans = st.fixed_dictionaries({}, optional=plan_sections).flatmap(
    lambda plan: st.just(plan) | st.builds(lambda extra: {**plan, **extra},
                                           st.dictionaries(st.text(max_size=6), values, max_size=1)))


VALID = {
    "audit": {"title": "t", "seed": 7, "release_context": "internal"},
    "model": {"path": "model", "batch_size": 32, "context_length": 128, "threads": 0,
              "declared": {"epochs": 3}},
    "data": {"members": "m.csv", "non_members": "n.csv",
             "columns": {"id": "id", "sequence": "text", "kind": "codes", "subgroups": ["age"]}},
    "probes": {"loss": {}, "min_k": {"k": 0.2}, "extraction": {"prefix_tokens": 24, "suffix_tokens": 16}},
    "thresholds": {"membership": {"primary_fpr": 0.01}, "extraction": {"alpha": 0.05}},
}
# Where a mutation may land: every key of the valid plan, and settings under probes/families.
PATHS = sorted({("audit", k) for k in PLAN_KEYS["audit"]} | {("model", k) for k in PLAN_KEYS["model"]}
               | {("data", k) for k in ("members", "non_members", "columns")}
               | {("data", "columns", k) for k in COLUMN_KEYS}
               | {("probes", p, k) for p in PROBE_IDS for k in SETTING_KEYS} | {("probes", p) for p in PROBE_IDS}
               | {("thresholds", f, k) for f in FAMILIES for k in SETTING_KEYS}
               | {(k,) for k in ("audit", "model", "data", "probes", "thresholds", "extra")})
mutations = st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(values, _table(SETTING_KEYS))),
                     min_size=1, max_size=3)


def _mutated(changes: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    plan = json.loads(json.dumps(VALID))
    for path, value in changes:
        table = plan
        for key in path[:-1]:
            if not isinstance(table.get(key), dict):
                table[key] = {}
            table = table[key]
        table[path[-1]] = value
    return plan


@FUZZ
@given(raw=st.one_of(plans, mutations.map(_mutated)))
def test_any_plan_data_parses_or_raises_plan_error(raw: dict[str, Any]) -> None:
    try:
        plan = plan_from_dict(raw, base=Path("/nonexistent"))
        plan.as_dict()
        resolve_thresholds(plan)
        resolve_probes(plan)
    except PlanError as exc:
        assert str(exc)


@FUZZ
@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
                      plans.map(lambda p: json.dumps(p, default=str))),
       raw_bytes=st.binary(max_size=200), suffix=st.sampled_from([".toml", ".json"]))
def test_any_plan_file_loads_or_raises_plan_error(text: str, raw_bytes: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for content in (text.encode("utf-8", "surrogatepass"), raw_bytes):
            path = Path(folder) / f"plan{suffix}"
            path.write_bytes(content)
            try:
                load_plan(path)
            except PlanError as exc:
                assert path.name in str(exc)


FORMATS = [".csv", ".tsv", ".jsonl", ".parquet"]


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from(FORMATS))
def test_any_bytes_load_or_raise_data_error(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"members{suffix}"
        path.write_bytes(data)
        _load_or_data_error(path)


cells = st.one_of(st.text(alphabet=string.printable + "é\u2028\x00\"',;\t\n\r", max_size=30), st.none(),
                  st.integers(), floats, st.lists(st.text(max_size=5), max_size=3))
rows = st.lists(st.fixed_dictionaries({}, optional={"id": cells, "text": cells, "age": cells,
                                                   "Text": cells, "": cells}), max_size=8)


@FUZZ
@given(records=rows, suffix=st.sampled_from(FORMATS))
def test_any_table_loads_or_raises_data_error(records: list[dict[str, Any]], suffix: str) -> None:
    import pandas as pd

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"members{suffix}"
        frame = pd.DataFrame(records)
        try:
            if suffix == ".parquet":
                frame.to_parquet(path)
            elif suffix == ".jsonl":
                frame.to_json(path, orient="records", lines=True)
            else:
                frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
        except Exception:  # pandas/pyarrow cannot write this mix: nothing to load
            return
        cohort = _load_or_data_error(path)
        if cohort is not None:  # loaded: ids unique and non-empty, every record has text
            assert len(set(cohort.ids)) == len(cohort.ids) == len(cohort.sequences)
            assert all(cohort.ids) and all(s.strip() for s in cohort.sequences)


def _load_or_data_error(path: Path):
    try:
        read_table(path)
        return load_cohort(path, Role.MEMBERS, ColumnMapping(id="id", sequence="text",
                                                             subgroups=("age",)))
    except DataError as exc:
        assert path.name in str(exc) or str(path) in str(exc)
        return None
