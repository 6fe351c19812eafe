"""Shared material for the report tests: the example results and variants of it."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

import pytest

from audit_core.report.sections.elements import (
    Section,
    Table,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "results_example.json"
REPO = Path(__file__).parents[2]


@pytest.fixture
def results() -> dict:
    return json.loads(FIXTURE.read_text())


def record_ids(results: dict) -> list[str]:
    return [r["id"] for p in results["probes"] for r in p.get("extracted", [])]


def record_refs(results: dict) -> list[str]:
    return [r["ref"] for p in results["probes"] for r in p.get("extracted", [])]


def strings(value) -> list[str]:
    """Every string anywhere in a document (texts, cells, captions, labels)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return [s for item in value for s in strings(item)]
    if dataclasses.is_dataclass(value):
        return [s for f in dataclasses.fields(value) for s in strings(getattr(value, f.name))]
    return []


def table_rows(section: Section, first_header: str) -> list[tuple]:
    for block in section.blocks:
        if isinstance(block, Table) and block.header and block.header[0] == first_header:
            return list(block.rows)
    raise AssertionError(f"no table headed {first_header!r} in {section.key}")


def all_table_rows(section: Section, first_header: str) -> list[tuple]:
    """The rows of every table headed `first_header`, in order (page 2 has one per bucket)."""
    return [row for block in section.blocks
            if isinstance(block, Table) and block.header and block.header[0] == first_header
            for row in block.rows]


def metric_values(section: Section) -> dict[str, tuple[str, str]]:
    """label -> (value, n); in the two-column layout n is the one in the caption."""
    table = next(b for b in section.blocks if isinstance(b, Table) and b.header and b.header[0] == "Metric")
    if len(table.header) == 3:
        return {label: (value, n) for label, value, n in table.rows}
    shared = re.search(r"n = (.+?) \(", table.caption or "").group(1)
    pairs = [pair for row in table.rows for pair in (row[:2], row[2:]) if pair[0]]
    return {label: (value, "" if re.fullmatch(r"[\d,]+", value) else shared) for label, value in pairs}


def cancelled(results: dict) -> dict:
    results = copy.deepcopy(results)
    results["audit"]["outcome"] = "cancelled"
    results["probes"] = results["probes"][:1]
    return results


def with_errored_probe(results: dict) -> dict:
    results = copy.deepcopy(results)
    results["probes"].append(
        {
            "id": "phi_leak",
            "title": "PHI in generated text",
            "family": "identifiers",
            "verdict": "error",
            "metrics": {},
            "findings": [],
            "error": "onnxruntime: Got invalid dimensions for input: input_ids",
        }
    )
    return results


def with_subgroups(results: dict) -> dict:
    """Subgroups as the engine may write them: one small cell, one flagged."""
    results = copy.deepcopy(results)
    results["probes"][0]["subgroups"] = [
        {"column": "sex", "value": "F", "n_members": 510, "n_non_members": 498, "suppressed": False,
         "auc": 0.93, "auc_ci": [0.91, 0.95], "q_value": 0.02, "significant": True,
         "tpr_at_primary_fpr": 0.44, "tpr_at_primary_fpr_ci": [0.40, 0.48]},
        {"column": "sex", "value": "M", "n_members": 490, "n_non_members": 502, "suppressed": False,
         "auc": 0.89, "auc_ci": [0.87, 0.91], "q_value": 0.4, "significant": False},
        {"column": "age_band", "value": "90+", "n_members": 7, "n_non_members": 4, "suppressed": True,
         "auc": 0.99, "auc_ci": [0.9, 1.0], "q_value": 0.9, "significant": True},
    ]
    return results


def with_split_validity(results: dict, verdict: str = "pass") -> dict:
    results = copy.deepcopy(results)
    results["split_validity"] = {
        "verdict": verdict, "headline": "A model-free classifier tells the cohorts apart with AUC 0.52",
        "auc": 0.52, "auc_ci": [0.49, 0.55],
        "checks": [{"name": "record length", "auc": 0.51, "auc_ci": [0.48, 0.54], "verdict": "pass"}],
    }
    return results


# Distinctive patient data planted where free text and ids could carry it into a report.
PLANTED = {
    "names": ["Jonathan Quixote Smithers", "Eleanor Vasquez-Whitby"],
    "mrns": ["88412093", "MRN-55102938"],
    "note": "crushing substernal pain after the cocaine binge at Lakeview Motel",
    "phone": "617-555-0199",
    "email": "j.smithers@example.org",
}


def with_planted_phi(results: dict) -> dict:
    results = copy.deepcopy(results)
    p = PLANTED
    # Probe 0 (membership) findings are in results.json only; probe 1's are printed too.
    for probe in results["probes"][:2]:
        probe["findings"].append(
            f"Record of {p['names'][0]} (MRN {p['mrns'][0]}) scored highest; note read "
            f"\"{p['note']}\"; call {p['phone']} or {p['email']}.")
    results["probes"][1]["extracted"].append({"role": "members", "id": p["mrns"][1], "ref": "R-PLANTED01"})
    results["probes"][1]["findings"].append(f"Record {p['mrns'][1]} reproduced verbatim for {p['names'][1]}.")
    results["probes"][1]["headline"]["text"] += f" (worst: {p['names'][1]})"
    results["overall_rationale"] += f" Worst patient: {p['names'][0]}."
    results["model"]["notes"] = [f"Trained on notes such as '{p['note']}'"]
    results.setdefault("pseudonymization", {})["key"] = "k" * 64
    return results


def make_pkcs12(path: Path, password: bytes) -> None:
    """A self-signed signing certificate, as a hospital would supply one (PKCS#12)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Privacy Office"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo General Hospital")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"test", key, cert, None, serialization.BestAvailableEncryption(password)))
