"""The Safe Harbor detector, one category at a time: what it must find, the value it
normalizes to, and the look-alikes it must leave alone."""

from __future__ import annotations

import pytest

from audit_core.identifiers.detector import detect
from audit_core.identifiers.masking import masked


def _found(text: str) -> list[tuple[str, str]]:
    return [(d.category, d.key) for d in detect(text)]


@pytest.mark.parametrize("text, key", [
    ("Patient Mary Hartley was seen", "mary hartley"),
    ("Name: John Smith", "john smith"),
    ("seen with Mrs. Okafor today", "okafor"),
    ("Dr Ellen Marchetti reviewed", "ellen marchetti"),
])
def test_names_after_a_cue(text: str, key: str) -> None:
    assert ("name", key) in _found(text)


def test_no_name_without_a_cue_or_from_a_verb() -> None:
    assert not [c for c, _ in _found("Hypertension Assessment Plan Metformin") if c == "name"]
    assert not [c for c, _ in _found("Patient seen on arrival") if c == "name"]


@pytest.mark.parametrize("text, key", [
    ("MRN 4829301", "4829301"), ("MRN: 00482930", "00482930"),
    ("medical record number #A123456", "A123456"), ("Chart no. 7734-221", "7734221"),
])
def test_medical_record_numbers(text: str, key: str) -> None:
    assert _found(text) == [("mrn", key)]


def test_a_bare_number_is_not_an_mrn() -> None:
    assert _found("glucose 4829301 mg") == []


@pytest.mark.parametrize("text, key", [
    ("DOB 03/14/1957", "1957-03-14"), ("on 2021-05-02", "2021-05-02"),
    ("March 4, 1957", "1957-03-04"), ("4th Mar 1957", "1957-03-04"), ("3/4/57", "1957-03-04"),
])
def test_dates_normalize_to_iso(text: str, key: str) -> None:
    assert _found(text) == [("date", key)]


def test_a_year_alone_or_an_impossible_date_is_not_a_date() -> None:
    assert _found("diagnosed in 1999") == []
    assert _found("ratio 13/45/2021") == []


@pytest.mark.parametrize("text", ["Phone 617-555-0134", "call (617) 555-0134", "tel 617.555.0134",
                                  "+1 617 555 0134"])
def test_phone_numbers_in_any_format_share_one_key(text: str) -> None:
    assert _found(text) == [("phone", "6175550134")]


def test_fax_needs_the_fax_cue() -> None:
    assert _found("Fax 617-555-0199 Phone 617-555-0134") == [("fax", "6175550199"),
                                                             ("phone", "6175550134")]
    assert _found("Fax: 508-555-0100") == [("fax", "5085550100")]


def test_email() -> None:
    assert _found("Email Mary.Hartley07@example.org .") == [("email", "mary.hartley07@example.org")]


@pytest.mark.parametrize("text, key", [("Address 42 Oak Street .", "42 oak street"),
                                       ("lives at 1200 Old Mill Rd.", "1200 old mill rd")])
def test_street_addresses(text: str, key: str) -> None:
    assert _found(text) == [("address", key)]


def test_ssn_with_dashes_or_after_the_cue_but_not_a_phone() -> None:
    assert _found("SSN 912-34-5678") == [("ssn", "912345678")]
    assert _found("SSN: 912345678") == [("ssn", "912345678")]
    assert ("ssn", "6175550134") not in _found("617-555-0134")


@pytest.mark.parametrize("text, key", [("Age 92 .", "92"), ("a 95-year-old woman", "95"),
                                       ("101 yo male", "101")])
def test_ages_over_89(text: str, key: str) -> None:
    assert _found(text) == [("age_over_89", key)]


def test_ages_up_to_89_are_not_identifiers() -> None:
    assert _found("Age 89 . a 45-year-old man") == []


def test_a_full_note_yields_each_category_once_and_spans_point_at_the_values() -> None:
    note = ("Patient Mary Hartley MRN 4829301 DOB 03/14/1928 Age 93 . Phone 617-555-0134 "
            "Fax 617-555-0199 Email mary.hartley07@example.org . Address 42 Oak Street . "
            "SSN 912-34-5678 . Seen on 2021-05-02 for chest pain .")
    found = detect(note)
    assert sorted({d.category for d in found}) == sorted(
        ["name", "mrn", "date", "age_over_89", "phone", "fax", "email", "address", "ssn"])
    assert sum(d.category == "date" for d in found) == 2
    for d in found:
        assert note[d.start:d.end] == d.value


def test_masked_examples_never_hold_the_value() -> None:
    shown = masked("phone", "617-555-0134")
    assert shown == "PHONE(12 chars, digit)"
    assert "617" not in shown and "0134" not in shown
    assert masked("name", "mary hartley") == "NAME(12 chars, lower-case letter)"
