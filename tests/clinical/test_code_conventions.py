"""Every code convention a hospital's export uses reads alike in each path that interprets
codes: the sensitive categories, the rare-code and quasi-identifier paths, the ICD
hierarchy distance and the record layout's demographics (clinical.code_reading)."""

from __future__ import annotations

import numpy as np
import pytest

from audit_core.clinical.code_reading import (
    BIRTH,
    GENDER,
    ICD9CM,
    ICD9PROC,
    ICD10CM,
    ICD10PCS,
    LAB,
    LOINC,
    MEDICATION,
    OTHER,
    RXNORM,
    SNOMED,
    hierarchy_levels,
    read_code,
)
from audit_core.clinical.code_sets import BUILTIN_CODE_SETS, code_set_token_ids, in_code_set, parse_code_sets
from audit_core.clinical.embeddings import code_distance
from audit_core.clinical.record_layout import DEFAULT_DEMOGRAPHIC_PREFIXES, DEMOGRAPHICS, Tier, build_layout
from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.errors import PlanError
from audit_core.probes.membership_strata import RARE_CODES, membership_strata
from audit_core.probes.quasi_identifiers import code_quasi_identifiers, rare_tokens

SETS = {s.name: s for s in BUILTIN_CODE_SETS}

# One HIV diagnosis in each convention, and what it reads as.
HIV = {
    "B20": (ICD10CM, "B20"),
    "ICD10:B20": (ICD10CM, "B20"),
    "ICD10CM/B20": (ICD10CM, "B20"),
    "DIAGNOSIS//ICD//10//B20": (ICD10CM, "B20"),
    "DIAGNOSIS//ICD//9//042": (ICD9CM, "042"),
    "ICD9CM/042": (ICD9CM, "042"),
    "ICD9:V08": (ICD9CM, "V08"),
    "ICD9CM/079.53": (ICD9CM, "07953"),
}


@pytest.mark.parametrize("token, expected", [
    *HIV.items(),
    ("E11.9", (ICD10CM, "E119")),
    ("ICD10CM/E11.9", (ICD10CM, "E119")),
    ("DIAGNOSIS//ICD//10//M25511", (ICD10CM, "M25511")),
    ("DIAGNOSIS//ICD//9//4019", (ICD9CM, "4019")),
    ("ICD9CM/401.9", (ICD9CM, "4019")),
    ("PROCEDURE//ICD//9//3893", (ICD9PROC, "3893")),
    ("PROCEDURE//ICD//10//B2151ZZ", (ICD10PCS, "B2151ZZ")),
    ("SNOMED/3950001", (SNOMED, "3950001")),
    ("LOINC/2236-8", (LOINC, "2236-8")),
    ("RxNorm/17767", (RXNORM, "17767")),
    ("LAB//51237//UNK", (LAB, "51237")),
    ("MEDICATION//START//Heparin", (MEDICATION, "START//HEPARIN")),
    ("GENDER//M", (GENDER, "M")),
    ("Gender/F", (GENDER, "F")),
    ("MEDS_BIRTH", (BIRTH, "")),
    ("AGE_40_49", (OTHER, "AGE_40_49")),
    ("4019", (OTHER, "4019")),  # all digits without a namespace: could be a lab item
])
def test_each_convention_reads_as_vocabulary_and_code(token, expected) -> None:
    code = read_code(token)
    assert (code.vocabulary, code.code) == expected


def test_every_hiv_spelling_is_in_the_hiv_category_and_nothing_else_is() -> None:
    for token in HIV:
        assert in_code_set(token, SETS["hiv_sti"]), token
    # Procedures are not diagnoses: ICD-9 procedure 04.2 and ICD-10-PCS B20 imaging codes.
    for token in ("PROCEDURE//ICD//9//042", "PROCEDURE//ICD//10//B2000ZZ", "SNOMED/B20",
                  "LAB//042//UNK", "GENDER//M", "MEDS_BIRTH"):
        assert not in_code_set(token, SETS["hiv_sti"]), token


@pytest.mark.parametrize("category, icd9_tokens, outside", [
    ("alcohol", ["DIAGNOSIS//ICD//9//30500", "ICD9CM/303.90", "DIAGNOSIS//ICD//9//2911"], ["ICD9CM/305.1"]),
    ("opioids", ["DIAGNOSIS//ICD//9//30400", "ICD9CM/305.50", "ICD9CM/965.01"], ["ICD9CM/304.20"]),
    ("sedatives", ["DIAGNOSIS//ICD//9//30410", "ICD9CM/305.40"], ["ICD9CM/304.00"]),
    ("stimulants", ["ICD9CM/304.20", "ICD9CM/304.40", "DIAGNOSIS//ICD//9//30560", "ICD9CM/305.70"], []),
    ("other_substances", ["ICD9CM/304.30", "ICD9CM/304.50", "ICD9CM/304.90", "ICD9CM/305.20",
                          "ICD9CM/305.30", "ICD9CM/305.90"], ["ICD9CM/305.10"]),  # tobacco
    ("mental_health", ["DIAGNOSIS//ICD//9//29590", "ICD9CM/296.32", "ICD9CM/311", "ICD9CM/309.81",
                       "ICD9CM/300.02"], ["ICD9CM/299.00", "ICD9CM/290.0", "ICD9CM/317"]),
    ("reproductive_health", ["DIAGNOSIS//ICD//9//650", "ICD9CM/V22.0", "ICD9CM/V25.01",
                             "ICD9CM/V28.3", "ICD9CM/679.04"], ["ICD9CM/680.0", "ICD9CM/V29.0"]),
])
def test_icd9_codes_fall_in_the_category_of_the_same_meaning(category, icd9_tokens, outside) -> None:
    for token in icd9_tokens:
        assert in_code_set(token, SETS[category]), token
        others = [s.name for s in BUILTIN_CODE_SETS if s.name != category and in_code_set(token, s)]
        # Only pregnancy-related substance/mental codes may sit in two categories, as in ICD-10.
        assert not others or category == "reproductive_health", (token, others)
    for token in outside:
        assert not in_code_set(token, SETS[category]), token
    assert "ICD-9-CM" in SETS[category].source


def test_an_icd9_code_never_matches_an_icd10_prefix_of_the_same_letters() -> None:
    # ICD-10 V08 is a pedestrian injury; ICD-9 V08 is asymptomatic HIV.
    assert in_code_set("ICD9CM/V08", SETS["hiv_sti"])
    only_icd10 = parse_code_sets("hiv_sti=V08", "probes.attribute.code_sets")
    assert in_code_set("V08", only_icd10[0]) and not in_code_set("ICD9CM/V08", only_icd10[0])


def test_plan_edits_take_icd9_prefixes_and_old_plans_stay_valid() -> None:
    sets = {s.name: s for s in parse_code_sets("hiv_sti=B20,icd9:042;eating=F50,icd9:307.1",
                                               "probes.attribute.code_sets")}
    assert sets["hiv_sti"].prefixes == ("B20",) and sets["hiv_sti"].icd9_prefixes == ("042",)
    assert in_code_set("DIAGNOSIS//ICD//9//3071", sets["eating"])
    assert not in_code_set("ICD9CM/V08", sets["hiv_sti"])  # an edit replaces both lists
    old = {s.name: s for s in parse_code_sets("hiv_sti=B20,Z21;reproductive_health=", "k")}
    assert old["hiv_sti"].prefixes == ("B20", "Z21") and "reproductive_health" not in old
    assert {s.name for s in parse_code_sets("only=icd9:V08", "k")} >= {"only"}
    for bad in ("hiv_sti=icd9:B20", "hiv_sti=icd9:", "hiv_sti=snomed:123", "hiv_sti=9zz"):
        with pytest.raises(PlanError, match="is not an ICD-10 code prefix"):
            parse_code_sets(bad, "probes.attribute.code_sets")


def test_category_token_ids_find_every_convention_in_one_vocabulary() -> None:
    vocabulary = {token: i for i, token in enumerate([*HIV, "GENDER//M", "MEDS_BIRTH", "LOINC/2236-8"])}
    ids = code_set_token_ids(vocabulary, tuple(BUILTIN_CODE_SETS))
    assert sorted(ids["hiv_sti"].tolist()) == list(range(len(HIV)))


def test_hierarchy_distance_reads_meds_omop_and_icd9_codes() -> None:
    tokens = ["DIAGNOSIS//ICD//10//E119", "ICD10CM/E11.65", "E10.9", "DIAGNOSIS//ICD//9//4019",
              "ICD9CM/401.1", "ICD9CM/402.00", "ICD9CM/250.00", "LAB//51237//UNK", "ICD10CM/E11.9"]
    d = code_distance({t: i for i, t in enumerate(tokens)}, None)
    row = d.matrix(np.array([0]), np.arange(len(tokens)))[0]
    np.testing.assert_allclose(row, [0.0, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 0.25])
    icd9 = d.matrix(np.array([3]), np.arange(len(tokens)))[0]
    # 401.9 vs 401.1: same category; vs 402.00: same chapter (390-459); vs 250.00: other chapter.
    np.testing.assert_allclose(icd9[3:7], [0.0, 0.5, 0.75, 1.0])


def test_meds_and_omop_demographic_rows_open_the_demographics_prompt() -> None:
    vocabulary = {t: i for i, t in enumerate(
        ["[BOS]", "GENDER//F", "MEDS_BIRTH", "Gender/M", "AGE_40_49", "DIAGNOSIS//ICD//9//042", "[EOS]"])}
    layout = build_layout(vocabulary, demographic_prefixes=DEFAULT_DEMOGRAPHIC_PREFIXES)
    assert layout.demographic_ids == {1, 2, 3, 4}
    record = np.array([0, 1, 2, 5, 5, 6])
    assert layout.prompt_length(record, Tier(DEMOGRAPHICS, None)) == 3


def _cohort(role: Role, records: list[str]) -> Cohort:
    info = DatasetInfo(role=role.value, file=f"{role.value}.csv", sha256="", records=len(records),
                       format="csv", columns={"kind": "codes"})
    return Cohort(role=role, ids=tuple(f"{role.value}{i}" for i in range(len(records))),
                  sequences=tuple(records), subgroups={}, info=info)


@pytest.mark.parametrize("rare_code", ["DIAGNOSIS//ICD//9//042", "ICD9CM/042", "ICD10CM/B20",
                                       "DIAGNOSIS//ICD//10//B20", "ICD10:B20", "B20", "SNOMED/3950001",
                                       "LOINC/2236-8", "LAB//51237//UNK"])
def test_rare_codes_in_every_convention_make_carriers_but_person_rows_do_not(rare_code) -> None:
    common = "MEDS_BIRTH GENDER//F DIAGNOSIS//ICD//10//I10"
    members = [f"{common} {rare_code}", "MEDS_BIRTH GENDER//UNK DIAGNOSIS//ICD//10//I10"] + [common] * 4
    non_members = [common] * 3 + [f"MEDS_BIRTH GENDER//F {rare_code}"]
    cohorts = {Role.MEMBERS: _cohort(Role.MEMBERS, members),
               Role.NON_MEMBERS: _cohort(Role.NON_MEMBERS, non_members)}
    rare = next(s for s in membership_strata(cohorts, 2) if s.column == RARE_CODES)
    # The rare code's carrier is in the stratum; the only GENDER//UNK holder is not.
    assert rare.members.tolist() == [True, False, False, False, False, False]
    assert rare.non_members.tolist() == [False, False, False, True]

    records = [r.split() for r in members + non_members]
    found = rare_tokens(records, 2)
    assert rare_code in found and "GENDER//UNK" not in found and "MEDS_BIRTH" not in found
    qis = code_quasi_identifiers(records[0], found, set())
    assert qis == {rare_code, "GENDER//F"}  # the sex row is a quasi-identifier in MEDS style too


@pytest.mark.parametrize("token, expected", [
    ("LAB//LOINC//2236-8", (LOINC, "2236-8")),
    ("DIAGNOSIS//SNOMED//44054006", (SNOMED, "44054006")),
    ("MEDICATION//RXNORM//17767", (RXNORM, "17767")),
    ("PROCEDURE//SNOMED//57485005", (SNOMED, "57485005")),
])
def test_the_fhir_converters_code_strings_read_as_their_vocabulary(token, expected) -> None:
    code = read_code(token)
    assert (code.vocabulary, code.code) == expected


def test_t5_leaves_out_codes_of_care_only_and_swaps_meds_sex_rows() -> None:
    from audit_core.clinical.prompt_variants import VariantVocabulary, prompt_variants

    words = ["[BOS]", "GENDER//F", "GENDER//M", "MEDS_BIRTH", "VISIT//IMP", "DIAGNOSIS//ICD//9//042",
             "ICD10CM/E11.9", "GENDER//UNK"]

    class Tokenizer:
        def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]:
            return {w: i for i, w in enumerate(words)}

    vocab = VariantVocabulary.of(Tokenizer())
    variants = prompt_variants(np.array([0, 1, 7, 3, 4, 5, 6]), vocab)
    assert sorted(v.removed for v in variants if v.kind == "leave_one_out") == [5, 6]
    swapped = [v.ids.tolist() for v in variants if v.kind == "sex"]
    assert swapped == [[0, 2, 7, 3, 4, 5, 6]]


def test_fhir_visit_rows_are_visits_not_codes_in_the_layout() -> None:
    vocabulary = {t: i for i, t in enumerate(["[BOS]", "VISIT//AMB", "DIAGNOSIS//ICD//10//I10", "[EOS]"])}
    layout = build_layout(vocabulary)
    codes, _ = layout.codes_and_times(np.array([1, 2, 1, 2, 3]))
    assert codes.tolist() == [2, 2]


def test_any_token_reads_without_error() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(["//", "/", ":", "ICD", "9", "10", "DIAGNOSIS", "PROCEDURE", "LAB", "V08",
                              "E11.9", ".", "", "GENDER", "MEDS_BIRTH", "SNOMED", "x", "0"])

    @settings(max_examples=300, derandomize=True, deadline=None)
    @given(st.lists(pieces, max_size=8).map("".join) | st.text(max_size=30))
    def check(token: str) -> None:
        code = read_code(token)
        assert code.vocabulary in {ICD10CM, ICD9CM, ICD10PCS, ICD9PROC, SNOMED, LOINC, RXNORM, LAB,
                                   MEDICATION, GENDER, BIRTH, OTHER, "DEATH", "RACE", "ETHNICITY",
                                   "CPT", "VISIT"}
        for code_set in BUILTIN_CODE_SETS:
            in_code_set(token, code_set)
        levels = hierarchy_levels(code)
        assert levels is None or len(levels) == 3

    check()
