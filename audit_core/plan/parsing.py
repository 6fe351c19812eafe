"""The audit plan: everything a run needs, read from a TOML (or JSON) file.

A plan is plain data. Probe ids and their settings stay raw dicts here; the runner
checks them against the registered probes before any work starts, so that a typo is
refused with a message naming the key rather than silently ignored.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_core.errors import PlanError
from audit_core.plan.meds_keys import (
    DEFAULT_VISIT_CODES,
    MEDS_COLUMNS,
    RootedSource,
    TokenSpec,
    data_format,
    rooted_as_dict,
    rooted_source,
)
from audit_core.plan.reference_keys import reference_role
from audit_core.plan.run_keys import RunSettings, parse_run
from audit_core.plan.side_input_keys import parse_inputs, parse_token_types, side_input_tables
from audit_core.results.reference_role import DEFAULT_REFERENCE_ROLE

DEFAULT_SEED = 20261129
SEQUENCE_KINDS = ("codes", "text")
# Who may query or hold the model after the audit; it selects the threshold tier the report
# applies and states (weights leaving the hospital mean a white-box adversary).
RELEASE_CONTEXTS = ("internal", "partners", "public")
# A real plan nests four levels (root, [probes], [probes.loss], a value); anything far deeper
# is not a plan, and code that walks it (a repr in a message, the checkpoint's canonical
# form, results.json) could exhaust Python's recursion limit on it.
MAX_PLAN_DEPTH = 16
# A bound on model.threads that does not depend on the machine, so a plan written on a
# server runs on a laptop (the runtime caps the threads at the cores it finds there:
# models/runtime.py); above it the value is a typo, and a billion threads was a MemoryError.
MAX_THREADS = 1024
# The probe settings that name a file, by key: a relative one is read from the plan file's
# folder, as model and data paths are. Listed here because the plan sits below the probes and
# cannot ask them; a probe declares its own (`path_settings`, e.g. canary_exposure's manifest)
# and the conformance suite checks each is listed here and no other setting of it is
# (tests/probes/test_conformance.py). A key here in a table of a probe without that setting
# is resolved too, then refused as unknown by the probe selection (its message names the key).
PROBE_PATH_SETTINGS = ("manifest",
                       "frequency_table")  # dc_pdd's public token-frequency CSV


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditInfo:
    title: str = "Memorization audit"
    institution: str = ""
    requester: str = ""
    auditor: str = ""
    intended_use: str = ""
    release_context: str = "internal"
    seed: int = DEFAULT_SEED


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    path: Path
    context_length: int | None = None  # None: read n_positions from config.json beside the model
    batch_size: int = 32
    threads: int = 0  # 0: one intra-op thread per core
    provider: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda" (models/runtime.py)
    precision: str = "fp32"  # "int8" / "fp16": labelled precisions (models/precision.py); never default
    reference: Path | None = None  # a model of the same tokenizer that never saw the members
    # What the reference is (results/reference_role.py): "shadow", a model trained without
    # the members, or "base", the public base model this model was fine-tuned from.
    reference_role: str = DEFAULT_REFERENCE_ROLE
    # Training facts as the model's owner declares them (dataset, epochs, DP epsilon, ...):
    # reported as declared, never as verified.
    declared: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    # Side inputs (plan/side_input_keys.py): graph input -> source, word head -> type id;
    # empty: side_inputs.json beside the model, if any, says.
    inputs: Mapping[str, str] = field(default_factory=dict)
    token_types: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnMapping:
    id: str = "id"
    sequence: str = "text"
    kind: str = "text"  # "codes": whitespace-separated codes or a list column; "text": free text
    subgroups: tuple[str, ...] = ()
    # Tabular classifiers: the model's input columns, in its input order, and the outcome.
    features: tuple[str, ...] = ()
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSpec:
    # For a MEDS dataset (format "meds") both are the dataset folder `root`, so code that
    # only names the inputs (output-folder checks) needs no case of its own; the records
    # come from the splits (plan/meds_keys.py, data/meds_reading.py).
    members: Path
    non_members: Path
    columns: ColumnMapping = field(default_factory=ColumnMapping)
    format: str = "files"
    root: Path | None = None
    members_splits: tuple[str, ...] = ("train",)
    non_members_splits: tuple[str, ...] = ("held_out",)
    tokens: TokenSpec = field(default_factory=TokenSpec)
    visit_codes: tuple[str, ...] = DEFAULT_VISIT_CODES
    member_list: Path | None = None  # format "fhir": the Patient-id list files
    non_member_list: Path | None = None

    def rooted(self) -> RootedSource:
        """The MEDS keys (format != "files"), as plan/meds_keys.py checked them."""
        if self.root is None:
            raise ValueError("a files plan has no dataset folder")
        return RootedSource(format=self.format, root=self.root, members_splits=self.members_splits,
                            non_members_splits=self.non_members_splits, tokens=self.tokens,
                            visit_codes=self.visit_codes, subgroups=self.columns.subgroups,
                            member_list=self.member_list, non_member_list=self.non_member_list)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditPlan:
    model: ModelSpec
    data: DataSpec
    audit: AuditInfo = field(default_factory=AuditInfo)
    # probe id -> raw settings; None means "the standard suite with defaults"
    probes: Mapping[str, Mapping[str, Any]] | None = None
    thresholds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: Path | None = None  # the plan file, when it came from one
    # Where it runs ([run], plan/run_keys.py): not part of as_dict (nor of the audit's id).
    run: RunSettings = field(default_factory=RunSettings)

    def as_dict(self) -> dict[str, Any]:
        """The plan as plain data (paths as strings), the form embedded in results and PDF."""
        cols = self.data.columns
        out: dict[str, Any] = {
            "audit": {"title": self.audit.title, "institution": self.audit.institution,
                      "requester": self.audit.requester, "auditor": self.audit.auditor,
                      "intended_use": self.audit.intended_use,
                      "release_context": self.audit.release_context, "seed": self.audit.seed},
            "model": {"path": str(self.model.path), "batch_size": self.model.batch_size,
                      "threads": self.model.threads, "provider": self.model.provider,
                      "precision": self.model.precision},
            "data": {"members": str(self.data.members), "non_members": str(self.data.non_members),
                     "columns": {"id": cols.id, "sequence": cols.sequence, "kind": cols.kind,
                                 "subgroups": list(cols.subgroups),
                                 **({"features": list(cols.features)} if cols.features else {}),
                                 **({"label": cols.label} if cols.label else {})}},
            "thresholds": {k: dict(v) for k, v in self.thresholds.items()},
        }
        if self.model.context_length is not None:
            out["model"]["context_length"] = self.model.context_length
        if self.model.reference is not None:
            out["model"]["reference"] = str(self.model.reference)
            out["model"]["reference_role"] = self.model.reference_role
        if self.model.declared:
            out["model"]["declared"] = dict(self.model.declared)
        out["model"].update(side_input_tables(self.model.inputs, self.model.token_types))
        if self.probes is not None:
            out["probes"] = {k: dict(v) for k, v in self.probes.items()}
        if self.data.format != "files":  # files plans keep their form, byte for byte
            out["data"] = rooted_as_dict(self.data.rooted())
        return out


def load_plan(path: str | Path) -> AuditPlan:
    """Read and check a plan file; relative paths in it are relative to the file."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        raise PlanError(f"plan file not found: {path}") from None
    if not stat.S_ISREG(mode):  # a FIFO would block the read forever, a device never end
        raise PlanError(f"plan file {path} is not a regular file (a folder, pipe or device)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PlanError(f"plan file {path} is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise PlanError(f"cannot read plan file {path}: {exc.__class__.__name__}") from None
    language = "JSON" if path.suffix.lower() == ".json" else "TOML"
    try:
        raw = json.loads(text) if language == "JSON" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"{path.name} is not valid {language}: {exc}") from None
    except RecursionError:  # both parsers recurse once per nested array or table
        raise PlanError(_too_deep(path.name)) from None
    try:  # JSON may escape half a surrogate pair, which no output can hold
        json.dumps(raw, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        raise PlanError(f"{path.name} holds a \\u escape that is not a character (half a surrogate "
                        "pair)") from None
    if not isinstance(raw, Mapping):  # JSON may hold a list or a number at the top
        raise PlanError(f"{path.name} must hold a table of settings ([model], [data], ...), "
                        "not a list or a single value")
    try:
        return plan_from_dict(raw, base=path.parent, source=path)
    except PlanError as exc:
        raise PlanError(f"{path.name}: {exc}") from None


def plan_from_dict(raw: Mapping[str, Any], *, base: Path = Path("."),
                   source: Path | None = None) -> AuditPlan:
    """Build a plan from plain data (the parsed file), refusing unknown keys."""
    if _depth(raw) > MAX_PLAN_DEPTH:  # before anything walks it
        raise PlanError(_too_deep("the plan"))
    _only(raw, "", {"audit", "model", "data", "probes", "thresholds", "run"})
    for required in ("model", "data"):
        if required not in raw:
            raise PlanError(f"missing table [{required}]")
    audit = _table(raw, "audit")
    _only(audit, "audit", {"title", "institution", "requester", "auditor", "intended_use",
                           "release_context", "seed"})
    model = _table(raw, "model")
    _only(model, "model", {"path", "context_length", "batch_size", "threads", "reference", "declared",
                           "reference_role", "provider", "precision", "inputs", "token_types"})
    provider = _get(model, "provider", str, "model", "auto")
    if provider not in ("auto", "cpu", "cuda"):
        raise PlanError(f"'model.provider' must be one of auto, cpu, cuda (got '{provider}')")
    precision = _get(model, "precision", str, "model", "fp32")
    if precision not in ("fp32", "int8", "fp16"):  # models/precision.py's PRECISIONS
        raise PlanError(f"'model.precision' must be fp32, int8 or fp16 (got '{precision}')")
    declared = _table(model, "declared", "model.declared")
    for key, value in declared.items():
        if not isinstance(value, (str, int, float, bool)):
            raise PlanError(f"'model.declared.{key}' must be a text, number or true/false")
    release = _get(audit, "release_context", str, "audit", "internal")
    if release not in RELEASE_CONTEXTS:
        raise PlanError(f"'audit.release_context' must be one of {', '.join(RELEASE_CONTEXTS)} (got '{release}')")
    data = _table(raw, "data")
    if data_format(data) != "files":
        data_spec = _rooted_data(data, base)
    else:
        data_spec = _files_data(data, base)
    context = model.get("context_length")
    if context is not None:
        context = _positive_int(context, "model.context_length", minimum=2)

    probes_raw = raw.get("probes")
    probes = None
    if probes_raw is not None:
        if not isinstance(probes_raw, Mapping):
            raise PlanError("'probes' must be a table of probe tables, e.g. [probes.loss]")
        probes = {}
        for probe_id, settings in probes_raw.items():
            if not isinstance(settings, Mapping):
                raise PlanError(f"'probes.{probe_id}' must be a table of settings")
            probes[probe_id] = dict(settings)
            for key in PROBE_PATH_SETTINGS:  # like model.path: from the plan's folder
                value = probes[probe_id].get(key)
                if isinstance(value, str) and value:
                    probes[probe_id][key] = str(base / value)
    thresholds_raw = raw.get("thresholds", {})
    if not isinstance(thresholds_raw, Mapping) or not all(
            isinstance(v, Mapping) for v in thresholds_raw.values()):
        raise PlanError("'thresholds' must hold tables such as [thresholds.membership]")

    seed = _get(audit, "seed", int, "audit", DEFAULT_SEED)
    if seed < 0:
        raise PlanError(f"'audit.seed' must be zero or positive (got {seed})")
    return AuditPlan(
        audit=AuditInfo(title=_get(audit, "title", str, "audit", "Memorization audit"),
                        institution=_get(audit, "institution", str, "audit", ""),
                        requester=_get(audit, "requester", str, "audit", ""),
                        auditor=_get(audit, "auditor", str, "audit", ""),
                        intended_use=_get(audit, "intended_use", str, "audit", ""),
                        release_context=release, seed=seed),
        model=ModelSpec(path=base / _required(model, "path", "model"),
                        context_length=context,
                        batch_size=_positive_int(model.get("batch_size", 32), "model.batch_size"),
                        threads=_threads(model.get("threads", 0)),
                        provider=provider, precision=precision,
                        reference=base / model["reference"] if "reference" in model and
                        _required(model, "reference", "model") else None,
                        reference_role=reference_role(model),
                        declared=dict(declared),
                        inputs=parse_inputs(model.get("inputs", {})),
                        token_types=parse_token_types(model.get("token_types", {}))),
        data=data_spec,
        probes=probes,
        thresholds={k: dict(v) for k, v in thresholds_raw.items()},
        source=source,
        run=parse_run(raw.get("run")),
    )


def _rooted_data(data: Mapping[str, Any], base: Path) -> DataSpec:
    """[data] of a MEDS plan: a dataset folder and its splits (plan/meds_keys.py)."""
    source = rooted_source(data, base)
    return DataSpec(members=source.root, non_members=source.root, format=source.format,
                    root=source.root, members_splits=source.members_splits,
                    non_members_splits=source.non_members_splits, tokens=source.tokens,
                    visit_codes=source.visit_codes, member_list=source.member_list,
                    non_member_list=source.non_member_list,
                    columns=ColumnMapping(id=MEDS_COLUMNS["id"], sequence=MEDS_COLUMNS["sequence"],
                                          kind=MEDS_COLUMNS["kind"], subgroups=source.subgroups))


def _files_data(data: Mapping[str, Any], base: Path) -> DataSpec:
    """[data] of a plan that names two files of records."""
    _only(data, "data", {"format", "members", "non_members", "columns"})
    cols = _table(data, "columns", "data.columns")
    _only(cols, "data.columns", {"id", "sequence", "kind", "subgroups", "features", "label"})
    features = _get(cols, "features", list, "data.columns", [])
    if not all(isinstance(f, str) and f for f in features):
        raise PlanError("'data.columns.features' must be a list of column names")
    if len(set(features)) != len(features):
        raise PlanError("'data.columns.features' names a column twice")
    label = _get(cols, "label", str, "data.columns", "")
    if label and label in features:
        raise PlanError(f"'data.columns.label' ('{label}') is also listed among the features")

    kind = _get(cols, "kind", str, "data.columns", "codes")
    if kind not in SEQUENCE_KINDS:
        raise PlanError(f"'data.columns.kind' must be one of {', '.join(SEQUENCE_KINDS)} (got '{kind}')")
    subgroups = _get(cols, "subgroups", list, "data.columns", [])
    if not all(isinstance(s, str) for s in subgroups):
        raise PlanError("'data.columns.subgroups' must be a list of column names")
    return DataSpec(members=base / _required(data, "members", "data"),
                    non_members=base / _required(data, "non_members", "data"),
                    columns=ColumnMapping(id=_get(cols, "id", str, "data.columns", "id"),
                                          sequence=_get(cols, "sequence", str, "data.columns", "text"),
                                          kind=kind, subgroups=tuple(subgroups),
                                          features=tuple(features), label=label))


def _only(table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            name = f"{where}.{key}" if where else key
            raise PlanError(f"unknown key '{name}' (known keys{' in [' + where + ']' if where else ''}: "
                            f"{', '.join(sorted(allowed))})")


def _table(raw: Mapping[str, Any], key: str, where: str | None = None) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise PlanError(f"'{where or key}' must be a table")
    return value


def _get(table: Mapping[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    value = table.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PlanError(f"'{where}.{key}' must be {'a ' + kind.__name__ if kind is not int else 'an integer'}")
    return value


def _required(table: Mapping[str, Any], key: str, where: str) -> str:
    if key not in table:
        raise PlanError(f"missing key '{where}.{key}'")
    value = table[key]
    if not isinstance(value, str) or not value:
        raise PlanError(f"'{where}.{key}' must be a non-empty path")
    return value


def _threads(value: Any) -> int:
    threads = _positive_int(value, "model.threads", minimum=0)
    if threads > MAX_THREADS:
        raise PlanError(f"'model.threads' must be at most {MAX_THREADS}, or 0 for one per "
                        f"physical core (got {threads})")
    return threads


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in `value`, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children = list(item.values())
        elif isinstance(item, (list, tuple)):
            children = list(item)
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_PLAN_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(name: str) -> str:
    return (f"{name} nests arrays or tables more than {MAX_PLAN_DEPTH} levels deep; a plan needs "
            "four at most ([probes.loss] and its settings): this is not a Mnemoscope plan")


def _positive_int(value: Any, key: str, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise PlanError(f"'{key}' must be an integer of at least {minimum} (got {value!r})")
    return value
