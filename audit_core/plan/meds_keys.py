"""The [data] keys of a plan that reads a MEDS dataset folder (`format = "meds"`) rather
than two files of records, and how an event becomes a word ([data.tokens]).

Kept apart from parsing.py, which builds the DataSpec from what this module checks; the
MEDS reader itself is audit_core/data/meds_reading.py, the documentation docs/meds.md.

    [data]
    format = "meds"
    root = "meds_dataset"              # relative to the plan
    members_splits = ["train"]         # the default
    non_members_splits = ["held_out"]  # the default; ["tuning"] when that is the held-out set
    visit_codes = ["HOSPITAL_ADMISSION", "ED_REGISTRATION", "ADMISSION", "VISIT"]

    [data.tokens]                      # all optional; without it a word is the code as is
    prefixes = {"DIAGNOSIS//ICD//10//" = "ICD10//"}
    numeric = "quantiles"              # "none" (default), "quantiles" or "edges"
    bins = 10                          # quantile bins per code (numeric = "quantiles")
    edges = {"LAB//51237//UNK" = [1.1, 1.5]}   # explicit bin edges per code
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_core.errors import PlanError

# "files": the members and non_members keys name two files of records (the default).
DATA_FORMATS = ("files", "meds", "fhir")
# Formats read from a dataset folder through the MEDS reader (FHIR converts to MEDS first).
ROOTED_FORMATS = ("meds", "fhir")
# FHIR has no splits: `members` (and optionally `non_members`) name files of Patient ids,
# one a line; the converted dataset's splits are then train and held_out (data/fhir_meds.py).
FHIR_KEYS = {"format", "root", "members", "non_members", "tokens", "visit_codes", "columns"}
NUMERIC_MODES = ("none", "quantiles", "edges")
DEFAULT_BINS = 10
MAX_BINS = 1000
# Code heads (the part before the first "//" or "/", compared without case) that open a
# visit: MIMIC-IV MEDS's admission and ED rows, OMOP's Visit rows, and the plain
# ADMISSION//... of MEDS's own sample data. ICU_ADMISSION is left out on purpose: an ICU
# stay is part of a hospital admission, not a new visit.
DEFAULT_VISIT_CODES = ("HOSPITAL_ADMISSION", "ED_REGISTRATION", "ADMISSION", "VISIT")
ROOTED_KEYS = {"format", "root", "members_splits", "non_members_splits", "tokens", "visit_codes",
               "columns"}
TOKEN_KEYS = {"prefixes", "numeric", "bins", "edges"}
# A MEDS record's columns as the report names them: fixed by the standard, not the plan.
MEDS_COLUMNS = {"id": "subject_id", "sequence": "code", "kind": "codes"}


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenSpec:
    """How one event (its code and numeric value) becomes one word of the record."""

    prefixes: Mapping[str, str] = field(default_factory=dict)  # code prefix -> replacement
    numeric: str = "none"  # how numeric values join the word: not at all, quantile or edge bins
    bins: int = DEFAULT_BINS
    edges: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # code -> bin edges

    def is_default(self) -> bool:
        return self == TokenSpec()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"numeric": self.numeric}
        if self.prefixes:
            out["prefixes"] = dict(self.prefixes)
        if self.numeric == "quantiles":
            out["bins"] = self.bins
        if self.edges:
            out["edges"] = {code: list(edges) for code, edges in self.edges.items()}
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RootedSource:
    """The checked MEDS keys of [data], before parsing.py puts them in its DataSpec."""

    format: str
    root: Path
    members_splits: tuple[str, ...]
    non_members_splits: tuple[str, ...]
    tokens: TokenSpec
    visit_codes: tuple[str, ...]
    subgroups: tuple[str, ...]
    member_list: Path | None = None  # FHIR: the members' Patient ids, one a line
    non_member_list: Path | None = None  # FHIR: the non-members' (default: every other Patient)


def data_format(data: Mapping[str, Any]) -> str:
    value = data.get("format", "files")
    if not isinstance(value, str) or value not in DATA_FORMATS:
        raise PlanError(f"'data.format' must be one of {', '.join(DATA_FORMATS)} (got {value!r})")
    return value


def rooted_source(data: Mapping[str, Any], base: Path) -> RootedSource:
    """The MEDS keys of [data], checked; relative paths from the plan's folder (`base`)."""
    fmt = data_format(data)
    if fmt == "fhir":
        return _fhir_source(data, base)
    for key in data:
        if key not in ROOTED_KEYS:
            hint = (" (a MEDS plan names splits: members_splits, non_members_splits)"
                    if key in ("members", "non_members") else "")
            raise PlanError(f"unknown key 'data.{key}' for format '{fmt}' (known keys in [data]: "
                            f"{', '.join(sorted(ROOTED_KEYS))}){hint}")
    root = data.get("root")
    if "root" not in data:
        raise PlanError(f"missing key 'data.root' (the {fmt.upper()} dataset folder)")
    if not isinstance(root, str) or not root:
        raise PlanError("'data.root' must be a non-empty path")
    members = _names(data, "members_splits", ("train",))
    non_members = _names(data, "non_members_splits", ("held_out",))
    both = sorted(set(members) & set(non_members))
    if both:
        raise PlanError(f"split '{both[0]}' is named in both data.members_splits and "
                        "data.non_members_splits: a subject cannot be both a member and a non-member")
    visit_codes = _names(data, "visit_codes", DEFAULT_VISIT_CODES, empty_ok=True)
    return RootedSource(format=fmt, root=base / root, members_splits=members,
                        non_members_splits=non_members, tokens=token_spec(data.get("tokens", {})),
                        visit_codes=visit_codes, subgroups=_columns(data.get("columns", {})))


def _fhir_source(data: Mapping[str, Any], base: Path) -> RootedSource:
    """[data] of a FHIR plan: the folder, and the list file(s) of Patient ids."""
    for key in data:
        if key not in FHIR_KEYS:
            raise PlanError(f"unknown key 'data.{key}' for format 'fhir' (known keys in [data]: "
                            f"{', '.join(sorted(FHIR_KEYS))})")
    lists: list[Path | None] = []
    for key in ("members", "non_members"):
        value = data.get(key)
        if value is None and key == "non_members":
            lists.append(None)
            continue
        if not isinstance(value, str) or not value:
            raise PlanError(f"'data.{key}' must name a file of FHIR Patient ids, one a line"
                            + (" (the training patients)" if key == "members" else ""))
        lists.append(base / value)
    source = rooted_source({k: v for k, v in data.items() if k not in ("members", "non_members")}
                           | {"format": "meds"}, base)
    return RootedSource(format="fhir", root=source.root, members_splits=("train",),
                        non_members_splits=("held_out",), tokens=source.tokens,
                        visit_codes=source.visit_codes, subgroups=source.subgroups,
                        member_list=lists[0], non_member_list=lists[1])


def rooted_as_dict(source: RootedSource) -> dict[str, Any]:
    """The [data] table of a MEDS plan as `AuditPlan.as_dict` writes it (round-trips)."""
    out: dict[str, Any] = {"format": source.format, "root": str(source.root),
                           "members_splits": list(source.members_splits),
                           "non_members_splits": list(source.non_members_splits)}
    if source.format == "fhir":
        del out["members_splits"], out["non_members_splits"]
        out["members"] = str(source.member_list)
        if source.non_member_list is not None:
            out["non_members"] = str(source.non_member_list)
    if source.visit_codes != DEFAULT_VISIT_CODES:
        out["visit_codes"] = list(source.visit_codes)
    if not source.tokens.is_default():
        out["tokens"] = source.tokens.as_dict()
    out["columns"] = {**MEDS_COLUMNS, "subgroups": list(source.subgroups)}
    return out


def token_spec(raw: Any) -> TokenSpec:
    if not isinstance(raw, Mapping):
        raise PlanError("'data.tokens' must be a table")
    for key in raw:
        if key not in TOKEN_KEYS:
            raise PlanError(f"unknown key 'data.tokens.{key}' (known keys in [data.tokens]: "
                            f"{', '.join(sorted(TOKEN_KEYS))})")
    prefixes = raw.get("prefixes", {})
    if not isinstance(prefixes, Mapping) or not all(
            isinstance(k, str) and k and isinstance(v, str) and not any(c.isspace() for c in v)
            for k, v in prefixes.items()):
        raise PlanError("'data.tokens.prefixes' must map code prefixes to replacements without "
                        'spaces, e.g. {"DIAGNOSIS//ICD//10//" = "ICD10//"}')
    numeric = raw.get("numeric", "none")
    if numeric not in NUMERIC_MODES:
        raise PlanError(f"'data.tokens.numeric' must be one of {', '.join(NUMERIC_MODES)} "
                        f"(got {numeric!r})")
    bins = raw.get("bins", DEFAULT_BINS)
    if not isinstance(bins, int) or isinstance(bins, bool) or not 2 <= bins <= MAX_BINS:
        raise PlanError(f"'data.tokens.bins' must be an integer from 2 to {MAX_BINS} (got {bins!r})")
    edges_raw = raw.get("edges", {})
    if not isinstance(edges_raw, Mapping):
        raise PlanError("'data.tokens.edges' must map codes to lists of numbers")
    edges: dict[str, tuple[float, ...]] = {}
    for code, values in edges_raw.items():
        if not isinstance(values, list) or not values or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v == v for v in values):
            raise PlanError(f"'data.tokens.edges' for code number {len(edges) + 1} must be a "
                            "non-empty list of numbers")
        ordered = tuple(float(v) for v in values)
        if any(b <= a for a, b in zip(ordered, ordered[1:], strict=False)):
            raise PlanError(f"'data.tokens.edges' for code number {len(edges) + 1} must rise "
                            "strictly (each edge above the one before)")
        edges[str(code)] = ordered
    if numeric == "edges" and not edges:
        raise PlanError("'data.tokens.numeric' is \"edges\" but 'data.tokens.edges' names no code")
    return TokenSpec(prefixes=dict(prefixes), numeric=numeric, bins=bins, edges=edges)


def _names(data: Mapping[str, Any], key: str, default: tuple[str, ...], *,
           empty_ok: bool = False) -> tuple[str, ...]:
    value = data.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PlanError(f"'data.{key}' must be a list of names, e.g. {list(default)!r}")
    if not value and not empty_ok:
        raise PlanError(f"'data.{key}' names no split")
    if len(set(value)) != len(value):
        raise PlanError(f"'data.{key}' names the same value twice")
    return tuple(value)


def _columns(raw: Any) -> tuple[str, ...]:
    """[data.columns] of a MEDS plan: only `subgroups` (code heads such as GENDER) is the
    plan's; id, sequence and kind are fixed by the standard and accepted only as such."""
    if not isinstance(raw, Mapping):
        raise PlanError("'data.columns' must be a table")
    for key, value in raw.items():
        if key == "subgroups":
            continue
        if key not in MEDS_COLUMNS:
            raise PlanError(f"unknown key 'data.columns.{key}' for a MEDS dataset (known: subgroups)")
        if value != MEDS_COLUMNS[key]:
            raise PlanError(f"'data.columns.{key}' is fixed for a MEDS dataset "
                            f"('{MEDS_COLUMNS[key]}'); leave it out")
    subgroups = raw.get("subgroups", [])
    if not isinstance(subgroups, list) or not all(isinstance(s, str) and s for s in subgroups):
        raise PlanError("'data.columns.subgroups' must be a list of static code heads, e.g. [\"GENDER\"]")
    return tuple(subgroups)
