"""The audit result: everything a run found, frozen; results.json is its plain-data form.

The report, the CLI summary and (later) the desktop app read only this. Per-record
scores are kept for records.csv, which stays on the workstation; results.json holds
aggregate figures plus the ids of extracted records (it stays local too), and the PDF
shows only keyed pseudonyms.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Final

import numpy as np

from audit_core.build_info import build_hash
from audit_core.results.sections import AuditSection, DatasetSection, ModelSection
from audit_core.results.verdicts import Verdict
from audit_core.version import TOOL_NAME, __version__
from audit_core.work.units import from_npz, to_npz

SCHEMA = "mnemoscope.results/2"
RUN_SCHEMA = "mnemoscope.run/1"
# What differs between two runs of the same plan on the same inputs (when, how long, on
# which machine, its latest self-validation): kept out of results.json, which is then a
# function of plan, inputs, seed and tool version alone, and written to run.json instead.
RUN_AUDIT_KEYS: Final = ("started_utc", "finished_utc", "seconds")
REPORT_ID_DIGITS = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    id: str
    title: str
    family: str
    question: str
    citation: str
    verdict: Verdict
    headline: dict[str, Any]
    settings: dict[str, Any]
    settings_meta: list[dict[str, Any]]
    thresholds: dict[str, Any]
    thresholds_meta: list[dict[str, Any]]  # label, help, range and source of each threshold
    metrics: dict[str, Any]
    curves: Mapping[str, Mapping[str, Sequence[float | None]]]  # column name -> values
    findings: tuple[str, ...]
    extracted: tuple[dict[str, str], ...]  # role, id, ref
    seconds: float
    error: str | None = None
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # role -> per-record score
    attack_strength: str | None = None  # membership: "reference-free" / "reference-calibrated"
    subgroups: tuple[dict[str, Any], ...] = ()  # membership: one entry per stratum
    # Membership: False when the split check found the two files separable without the
    # model; the verdict is then INCONCLUSIVE and `verdict_if_split_valid` keeps the original.
    reliable: bool = True
    verdict_if_split_valid: Verdict | None = None
    # T2/T6: every examined sensitive carrier's disclosure figure (role, id, ref, category,
    # code, rank, probability, p_value, named); written only when there are some.
    carriers: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id, "title": self.title, "family": self.family,
            "question": self.question, "citation": self.citation,
            "verdict": self.verdict.value, "headline": self.headline,
            "settings": self.settings, "settings_meta": self.settings_meta,
            "thresholds": self.thresholds, "thresholds_meta": self.thresholds_meta,
            "metrics": self.metrics, "curves": self.curves,
            "findings": list(self.findings), "seconds": round(self.seconds, 3), "error": self.error,
        }
        if self.family == "extraction" or self.extracted:  # T1 reproduced, T2 flagged for review
            out["extracted"] = list(self.extracted)
        if self.family == "membership":
            out["attack_strength"] = self.attack_strength
            out["subgroups"] = list(self.subgroups)
            out["reliable"] = self.reliable
            if self.verdict_if_split_valid is not None:
                out["verdict_if_split_valid"] = self.verdict_if_split_valid.value
        elif self.subgroups:  # strata of other families (vulnerable subgroups, T6)
            out["subgroups"] = list(self.subgroups)
        if self.carriers:
            out["carriers"] = list(self.carriers)
        return out


# records.csv's columns of the sensitive carriers, after the probes' score columns: the
# probe's id and one of these (run/outputs.py writes them, reading.py knows them).
CARRIER_RANK, NAMED_CARRIER = "_carrier_rank", "_named_carrier"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordTable:
    """One row per record, for records.csv."""

    roles: tuple[str, ...]
    ids: tuple[str, ...]
    refs: tuple[str, ...]
    tokens: np.ndarray
    windows: np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditResult:
    audit: AuditSection
    overall_verdict: Verdict
    overall_rationale: str
    model: ModelSection
    datasets: tuple[DatasetSection, ...]
    probes: tuple[ProbeResult, ...]
    plan: dict[str, Any]
    environment: dict[str, str]
    records: RecordTable | None
    # `validation.latest_validation()`: date, outcome and certificate hash of this machine's
    # latest `mnemoscope validate`, or status "never_validated"; None when not looked up.
    validation: dict[str, Any] | None = None
    split_validity: dict[str, Any] | None = None  # the model-free split check, before any attack
    # Units of finished work read back from a checkpoint instead of recomputed (0: none).
    resumed: int = 0
    # The "tool" of a results.json read back (results/reading.py): it stays the version that
    # wrote the file, so the report id is still the one its PDF prints. None: this build.
    tool: dict[str, Any] | None = None
    # Probes of the standard suite left out because they do not apply to the records (id,
    # title, reason: probes/applicability.py); written to results.json only when there are any.
    not_applicable: tuple[dict[str, str], ...] = ()
    # Memorized spans of the records most at risk (results/memorized_spans.MemorizedSpans):
    # its counts go to results.json, its records to the local memorized_spans.json; None
    # when not localised (another model kind, settings, a cancelled or older run).
    memorized_spans: Any = None
    # What the run's generation schedule decoded (generation/schedule.Counts.as_dict): run.json
    # only (timings); None when nothing was decoded.
    generation: dict[str, Any] | None = None
    # Where the run ran when not on this workstation (a Ray cluster: audit_core/cluster/,
    # docs/cluster.md): run.json only; None for a local run.
    cluster: dict[str, Any] | None = None
    # A GPU run's device memory and batch caps (OnnxCausalLM.device_facts): run.json only.
    device: dict[str, Any] | None = None

    @property
    def cancelled(self) -> bool:
        return self.audit.get("outcome") == "cancelled"

    def as_dict(self) -> dict[str, Any]:
        """The results.json document (schema in docs/report.md): byte for byte the
        same for the same plan, inputs, seed and tool version; see `run_dict` for the rest."""
        probes = [p.as_dict() for p in self.probes]
        for probe in probes:
            probe.pop("seconds", None)
        document = plain({
            "schema": SCHEMA,
            "tool": self.tool or {"name": TOOL_NAME, "version": __version__, "build": build_hash()},
            "audit": {k: v for k, v in self.audit.items() if k not in RUN_AUDIT_KEYS},
            "overall_verdict": self.overall_verdict.value,
            "overall_rationale": self.overall_rationale,
            "model": self.model,
            "datasets": list(self.datasets),
            "split_validity": self.split_validity,
            "probes": probes,
            "plan": self.plan,
            # The key itself stays out: with it, a list of candidate ids would unmask refs.
            "pseudonymization": {"method": "HMAC-SHA256 with a key derived from the full "
                                           "contents of both cohorts and the seed, not stored; "
                                           "records.csv maps refs to ids"},
        })
        if self.not_applicable:
            document["not_applicable"] = plain(list(self.not_applicable))
        if self.memorized_spans is not None:
            document["memorized_spans"] = plain(self.memorized_spans.summary)
        document["audit"]["report_id"] = report_id(document)
        return document

    def run_dict(self, report: str | None = None) -> dict[str, Any]:
        """The run.json document: this run's timings, machine and self-validation.
        `report`: the report id, when the caller already has results.json at hand."""
        return plain({
            "schema": RUN_SCHEMA,
            "audit_id": self.audit.get("id"),
            "report_id": report or self.as_dict()["audit"]["report_id"],
            **{k: self.audit[k] for k in RUN_AUDIT_KEYS if k in self.audit},
            "probe_seconds": {p.id: round(p.seconds, 3) for p in self.probes},
            "resumed": self.resumed,
            **({"generation": self.generation} if self.generation else {}),
            **({"cluster": self.cluster} if self.cluster else {}),
            **({"device": self.device} if self.device else {}),
            "environment": self.environment,
            "validation": self.validation,
        })

    def report_dict(self) -> dict[str, Any]:
        """What the report is built from: results.json with run.json under "run"."""
        document = self.as_dict()
        return {**document, "run": self.run_dict(document["audit"]["report_id"])}


def report_id(document: dict[str, Any]) -> str:
    """This report's id: the audit id (the same for every run of one plan on the same
    inputs, which is what a resume needs) and digits of what the run found. A cancelled
    run and the finished run of one plan, or runs with different results, get different
    ids; a rerun with identical results gets the same one.

    The digits hash results.json without the extracted records' ids (the PDF prints the
    report id; a hash of patient ids, however short, stays out of it) and without the
    report id itself."""
    content = json.loads(json.dumps(document, default=str))
    content["audit"].pop("report_id", None)
    for probe in content.get("probes") or ():
        for record in (*(probe.get("extracted") or ()), *(probe.get("carriers") or ())):
            record.pop("id", None)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digits = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:REPORT_ID_DIGITS].upper()
    return f"{document['audit'].get('id') or 'MNS'}-{digits}"


def plain(value: Any) -> Any:
    """JSON-ready data: numpy scalars to Python, NaN and infinities to null."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, Verdict):
        return value.value
    return value


# A probe's outcome as a checkpoint unit (work/units.py): its scores as arrays (exact bits),
# the plain-data rest as JSON (floats round-trip exactly). Fields that are tuples in memory
# come back from JSON as lists; verdicts come back as strings.
_META = "__meta__"
_TUPLES = ("findings", "extracted", "subgroups", "carriers")
_VERDICTS = ("verdict", "verdict_if_split_valid")


def encode_probe(result: ProbeResult) -> bytes:
    data: dict[str, Any] = {}
    for f in fields(ProbeResult):
        if f.name == "scores":
            continue
        value = getattr(result, f.name)
        data[f.name] = value.value if isinstance(value, Verdict) else plain(value)
    arrays = {f"score_{role}": np.asarray(values) for role, values in result.scores.items()}
    return to_npz(**arrays, **{_META: np.frombuffer(json.dumps(data).encode("utf-8"), dtype=np.uint8)})


def decode_probe(data: bytes) -> ProbeResult:
    arrays = from_npz(data)
    meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
    for name in _TUPLES:
        meta[name] = tuple(meta.get(name) or ())
    for name in _VERDICTS:
        if meta.get(name) is not None:
            meta[name] = Verdict(meta[name])
    scores = {key.removeprefix("score_"): values for key, values in arrays.items()}
    return ProbeResult(**meta, scores=scores)
