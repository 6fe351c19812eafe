"""Known answer of the carrier disclosure figure (issue 20, section 5): every carrier of a
sensitive category is examined whatever the sample size, and a member whose HIV code the
model memorised is named while a non-member carrying the same code is not.

The model is the committed sensitive-attribute control (resources/controls/sensitive): it
memorised planted member P001462, in whose record the rare pair M16.2 R51.9 is always
followed by B20 (HIV). The test member is that record up to its first B20 (a prefix of a
training record: the model has seen it, 24 times); the test non-member is a non-member's
record with B20 added at its end, which the model never saw. With B20 removed, the
member's record ends on the rare pair and the model's next code is B20; the non-member's
is an ordinary record. The other patients of both cohorts are ordinary records, few of
them carriers, so that a sample of 1 leaves most of them out.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit_core.clinical.code_sets import code_set_token_ids, parse_code_sets
from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.families import FAMILIES
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.plan.parsing import ColumnMapping
from audit_core.probes.base import ProbeContext
from audit_core.probes.sensitive_attributes import SensitiveAttributes
from audit_core.results.verdicts import Verdict
from audit_core.settings import build_settings
from audit_core.work.progress import Progress
from tests.printed_tokens import pdf_text_if_readable

ROOT = Path(__file__).resolve().parents[2]
SENSITIVE = ROOT / "resources" / "controls" / "sensitive"
COLUMNS = ColumnMapping(id="patient_id", sequence="codes", kind="codes", subgroups=("age_band", "sex"))
MEMBER, NON_MEMBER = "P001462", "Q900001"
OTHERS = 16


def _without_sensitive(frame: pd.DataFrame) -> pd.DataFrame:
    """Ordinary patients: no code the built-in sensitive sets name (F, B2, Z, A5, O...),
    so that the two test carriers are the only carriers of HIV."""
    keep = ~frame.codes.str.contains(r"\b(?:B20|Z21|A5\d|A6\d|R75)", regex=True)
    return frame[keep]


@pytest.fixture(scope="module")
def cohort_files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("carriers")
    members = pd.read_csv(SENSITIVE / "members.csv", dtype=str)
    planted = members[members.patient_id == MEMBER].iloc[0].copy()
    words = planted.codes.split(" ")
    planted.codes = " ".join(words[:words.index("B20") + 1])
    truth = json.loads((SENSITIVE / "ground_truth.json").read_text())
    others = members[~members.patient_id.isin({p["patient_id"] for p in truth["planted"]})]
    members = pd.concat([pd.DataFrame([planted]), _without_sensitive(others).head(OTHERS)])
    non_members = pd.read_csv(SENSITIVE / "non_members.csv", dtype=str)
    non_members = _without_sensitive(non_members)
    carrier = non_members.iloc[0].copy()
    carrier.patient_id = NON_MEMBER
    carrier.codes = " ".join(carrier.codes.split(" ")[:12] + ["B20"])
    non_members = pd.concat([pd.DataFrame([carrier]), non_members.iloc[1:OTHERS + 1]])
    paths = folder / "members.csv", folder / "non_members.csv"
    members.to_csv(paths[0], index=False)
    non_members.to_csv(paths[1], index=False)
    return paths


def _context(cohort_files: tuple[Path, Path], seed: int) -> ProbeContext:
    model_dir = SENSITIVE / "model"
    cohorts = {Role.MEMBERS: load_cohort(cohort_files[0], Role.MEMBERS, COLUMNS),
               Role.NON_MEMBERS: load_cohort(cohort_files[1], Role.NON_MEMBERS, COLUMNS)}
    tokenizer = load_tokenizer(model_dir)
    ids = {role: encode_all(tokenizer, list(c.sequences)) for role, c in cohorts.items()}
    probe = SensitiveAttributes()
    return ProbeContext(cohorts=cohorts, token_ids=ids, model=OnnxCausalLM(inspect_model(model_dir), threads=2),
                        thresholds=FAMILIES[probe.family].thresholds(), rng=np.random.default_rng(seed),
                        progress=Progress(), tokenizer=tokenizer, columns=COLUMNS)


@pytest.mark.parametrize("max_records", [1, 5, 100])
def test_the_memorised_member_is_named_and_the_non_member_is_not(cohort_files, max_records):
    ctx = _context(cohort_files, seed=max_records)
    probe = SensitiveAttributes()
    config = build_settings(probe.config_type, {"tiers": "demographics", "samples": 1, "horizon": 4,
                                                "baseline_samples": 1, "max_records": max_records},
                            "probes.sensitive_attributes")
    outcome = probe.run(config, ctx)
    ids = {role: ctx.cohorts[role].ids for role in Role}
    hiv = {(c["role"], ids[c["role"]][c["index"]]): c for c in outcome.carriers if c["code"] == "B20"}
    member, non_member = hiv[(Role.MEMBERS, MEMBER)], hiv[(Role.NON_MEMBERS, NON_MEMBER)]
    assert member["named"] and member["rank"] <= 3
    assert not non_member["named"] and non_member["rank"] > member["rank"]
    assert member["best_other_carrier_rank"] == non_member["rank"]
    assert not any(c["named"] for c in outcome.carriers if c["role"] is Role.NON_MEMBERS)
    assert outcome.metrics["carriers_named_members"] >= 1
    # One named case is a case for review, not a significant excess: WARN, not PASS.
    assert outcome.verdict in (Verdict.WARN, Verdict.FAIL)
    assert any(f.startswith("Named: a member carrying HIV") for f in outcome.findings)


def test_every_carrier_is_examined_and_only_the_others_sampled(cohort_files):
    ctx = _context(cohort_files, seed=1)
    probe = SensitiveAttributes()
    config = build_settings(probe.config_type, {"tiers": "demographics", "samples": 1, "horizon": 4,
                                                "baseline_samples": 1, "max_records": 1},
                            "probes.sensitive_attributes")
    outcome = probe.run(config, ctx)
    vocabulary = ctx.tokenizer.get_vocab(with_added_tokens=True)
    sets = code_set_token_ids(vocabulary, parse_code_sets("", "probes.sensitive_attributes.code_sets"))
    sensitive = set(np.concatenate(list(sets.values())).tolist())
    for role in Role:
        carriers = {i for i, ids in enumerate(ctx.token_ids[role]) if sensitive & set(ids.tolist())}
        assert {c["index"] for c in outcome.carriers if c["role"] is role} == carriers
        # The sample of 1 bounds the others: the T2 cells hold the carriers and one more.
        assert outcome.metrics[f"n_{role.value}"] <= len(carriers) + 1


def test_the_named_member_is_in_records_csv_and_the_report_by_pseudonym(cohort_files, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(f"""[audit]
title = "Carrier known answer"
seed = 5

[model]
path = "{SENSITIVE / 'model'}"

[data]
members = "{cohort_files[0]}"
non_members = "{cohort_files[1]}"

[data.columns]
id = "patient_id"
sequence = "codes"
kind = "codes"
subgroups = ["age_band", "sex"]

[probes.sensitive_attributes]
tiers = "demographics"
samples = 1
horizon = 4
baseline_samples = 1
max_records = 1

[probes.vulnerable_subgroups]
samples = 1
horizon = 4
max_records = 1
resamples = 100
""", encoding="utf-8")
    from audit_core import load_plan, run_audit
    from audit_core.run.outputs import write_outputs

    result = run_audit(load_plan(plan))
    paths = write_outputs(result, tmp_path / "out")
    with paths["records"].open(encoding="utf-8") as handle:
        rows = {(r["role"], r["id"]): r for r in csv.DictReader(handle)}
    for probe in ("sensitive_attributes", "vulnerable_subgroups"):
        assert rows[("members", MEMBER)][f"{probe}_named_carrier"] == "1"
        assert rows[("non_members", NON_MEMBER)][f"{probe}_named_carrier"] == "0"
        assert not any(r[f"{probe}_named_carrier"] == "1" for (role, _), r in rows.items()
                       if role == "non_members")
    document = json.loads(paths["results"].read_text(encoding="utf-8"))
    verdicts = {p["id"]: p["verdict"] for p in document["probes"]}
    assert verdicts["sensitive_attributes"] in ("warn", "fail")
    assert verdicts["vulnerable_subgroups"] in ("warn", "fail")
    text = pdf_text_if_readable(paths["report"], "-layout")
    if text is not None:  # poppler-utils; the other checks stand without it
        assert rows[("members", MEMBER)]["ref"] in text
        assert rows[("non_members", NON_MEMBER)]["ref"] not in text
        assert MEMBER not in text and NON_MEMBER not in text
    # The saved audit opens with its records table: the carrier columns are known columns.
    from audit_core.results.reading import read_result

    again = read_result(paths["results"], records=paths["records"])
    assert again.records is not None and MEMBER in again.records.ids
    assert {p.id: len(p.carriers) for p in again.probes} == {p.id: len(p.carriers) for p in result.probes}
    t2 = next(p for p in again.probes if p.id == "sensitive_attributes")
    assert set(t2.scores) == {"members", "non_members"}


def test_without_carriers_the_sample_is_the_one_drawn_before():
    """Files without sensitive codes (notes, other vocabularies) examine the same records as
    before the carriers were: the same seeded draw."""
    from audit_core.clinical.carrier_disclosure import examined_rows
    from audit_core.probes.clinical_context import sampled_rows

    for size, limit in ((150, 100), (40, 5), (10, 0), (10, 20)):
        none = np.zeros(size, dtype=bool)
        assert np.array_equal(examined_rows(none, limit, np.random.default_rng(9)),
                              sampled_rows(size, limit, np.random.default_rng(9)))
    carriers = np.zeros(150, dtype=bool)
    carriers[[3, 77, 149]] = True
    rows = examined_rows(carriers, 10, np.random.default_rng(9))
    assert {3, 77, 149} <= set(rows.tolist()) and len(rows) == 13


def test_carriers_survive_a_checkpoint():
    """A resumed audit reads the probe back from its checkpoint with its carriers."""
    from audit_core.results.result import ProbeResult, decode_probe, encode_probe
    from audit_core.results.verdicts import Verdict as V

    carriers = ({"role": "members", "index": 4, "category": "hiv_sti", "label": "HIV", "code": "B20",
                 "rank": 1, "probability": 0.7, "p_value": 0.1, "best_other_carrier_rank": 68,
                 "named": True},)
    probe = ProbeResult(id="sensitive_attributes", title="T2", family="attribute", question="q",
                        citation="c", verdict=V.WARN, headline={"label": "l", "value": None, "text": "t"},
                        settings={}, settings_meta=[], thresholds={}, thresholds_meta=[], metrics={},
                        curves={}, findings=(), extracted=(), seconds=1.0, carriers=carriers)
    assert decode_probe(encode_probe(probe)).carriers == carriers
