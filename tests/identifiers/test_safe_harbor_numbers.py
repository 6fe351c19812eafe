"""The Safe Harbor categories past the first nine: health-plan, account, licence, vehicle,
device and other cued numbers, URLs and IP addresses. What each must find after its cue,
the key two writings of one value share, and the clinical look-alikes (doses, lab values
and ranges, codes, vitals, versions, provider numbers) it must leave alone."""

from __future__ import annotations

import pytest

from audit_core.identifiers.detector import CATEGORIES, DIRECT, detect
from audit_core.identifiers.index import IdentifierIndex


def _found(text: str) -> list[tuple[str, str]]:
    return [(d.category, d.key) for d in detect(text)]


def test_every_text_category_of_safe_harbor_is_listed_and_direct_ones_are_justified() -> None:
    assert CATEGORIES[:9] == ("name", "mrn", "date", "phone", "fax", "email", "address", "ssn",
                              "age_over_89")  # older results line up with the report's rows
    assert set(CATEGORIES[9:]) == {"health_plan", "account", "certificate", "vehicle", "device",
                                   "url", "ip_address", "other_id"}
    assert DIRECT <= set(CATEGORIES)
    # Shared services (portal, workstation) make URLs and IPs quasi-identifiers.
    assert {"url", "ip_address", "date", "age_over_89"}.isdisjoint(DIRECT)
    assert {"health_plan", "account", "certificate", "vehicle", "device", "other_id"} <= DIRECT


@pytest.mark.parametrize("text, expected", [
    # 9. health plan beneficiary numbers
    ("Member ID: SYNH1234567", ("health_plan", "SYNH1234567")),
    ("member # synh-123-4567 on file", ("health_plan", "SYNH1234567")),
    ("Policy no. SYN88231X", ("health_plan", "SYN88231X")),
    ("Medicare ID 1EG4-TE5-MK73", ("health_plan", "1EG4TE5MK73")),
    ("subscriber id SYN4471902", ("health_plan", "SYN4471902")),
    ("MBI 1EG4TE5MK73", ("health_plan", "1EG4TE5MK73")),
    # 10. account numbers
    ("Acct # 0048213377", ("account", "48213377")),
    ("account no. 48213377", ("account", "48213377")),
    ("acct: SYNA-2141504", ("account", "SYNA2141504")),
    # 11. certificate / licence numbers
    ("Driver's license SYNL772682", ("certificate", "SYNL772682")),
    ("licence no. SYN-0042-77", ("certificate", "SYN004277")),
    ("passport # SYN550912", ("certificate", "SYN550912")),
    ("birth certificate no. 2021-SYN-4471", ("certificate", "2021SYN4471")),
    # 12. vehicle identifiers and plates
    ("VIN SYNTH745715271371", ("vehicle", "SYNTH745715271371")),
    ("license plate 7SYN123", ("vehicle", "7SYN123")),
    ("plate # syn-4471", ("vehicle", "SYN4471")),
    # 13. device identifiers and serial numbers
    ("Pacemaker S/N SYN580036", ("device", "SYN580036")),
    ("insulin pump serial no. SYN-4471-AB", ("device", "SYN4471AB")),
    ("device ID: SYND00912", ("device", "SYND00912")),
    ("UDI (01)00884838000001(21)SYN123", ("device", "010088483800000121SYN123")),
    # 14. URLs
    ("portal https://portal.example.org/p/SYNP846086.", ("url", "portal.example.org/p/SYNP846086")),
    ("see www.Example.org/chart/SYN12/", ("url", "example.org/chart/SYN12")),
    # 15. IP addresses
    ("login from 192.0.2.58", ("ip_address", "192.0.2.58")),
    ("client IP: 10.0.0.1", ("ip_address", "10.0.0.1")),
    ("accessed by 203.0.113.200 at night", ("ip_address", "203.0.113.200")),
    ("IPv6 2001:DB8:0:0::9477:D6AA", ("ip_address", "2001:db8::9477:d6aa")),
    # 18. other unique identifying numbers, named as such
    ("Claim # SYNC047959", ("other_id", "SYNC047959")),
    ("patient ID SYN-004417", ("other_id", "SYN004417")),
    ("accession no. S21-04417", ("other_id", "S2104417")),
    ("employee ID SYNE4471", ("other_id", "SYNE4471")),
])
def test_each_new_category_after_its_cue(text: str, expected: tuple[str, str]) -> None:
    assert _found(text) == [expected]


def test_spans_point_at_the_value_not_the_cue() -> None:
    text = "Member ID SYNH1234567 S/N SYN580036 http://www.example.org/x IP 192.0.2.7"
    for d in detect(text):
        assert text[d.start:d.end] == d.value
    assert [d.value for d in detect(text)] == ["SYNH1234567", "SYN580036", "http://www.example.org/x",
                                               "192.0.2.7"]


@pytest.mark.parametrize("first, second", [
    ("Member ID SYNH-123-4567", "member id synh1234567"),  # case and separators
    ("Acct # 000482193", "account number 482193"),  # billing systems zero-pad accounts
    ("S/N syn-5800-36", "serial no. SYN580036"),
    ("https://www.example.org/p/SYN1/", "http://example.org/p/SYN1"),  # scheme, www., slash
    ("HTTPS://PORTAL.EXAMPLE.ORG/p/SYN1", "https://portal.example.org/p/SYN1"),  # host case
    ("IP 2001:db8:0:0:0:0:0:1f", "IP 2001:DB8::1F"),  # IPv6 zeros and case
])
def test_two_writings_of_one_value_share_a_key(first: str, second: str) -> None:
    (a,), (b,) = _found(first), _found(second)
    assert a == b


def test_normalization_keeps_what_tells_values_apart() -> None:
    # A serial's or member id's leading zero is part of the issued value; a URL path's case
    # is significant to the server.
    assert _found("S/N 0580036") != _found("S/N 580036")
    assert _found("Member ID 0123456") != _found("Member ID 123456")
    assert _found("https://example.org/p/SYNa") != _found("https://example.org/p/SYNA")


def test_the_index_matches_a_generated_writing_to_the_training_patient() -> None:
    index = IdentifierIndex(["Member ID SYNH-123-4567 . Acct # 000482193 .",
                             "Pacemaker S/N SYN580036 . Portal https://portal.example.org/p/SYNP1 ."])
    owners = {d.category: index.owners(d) for d in detect(
        "member id synh1234567 acct 482193 serial no. syn580036 www.portal.example.org/p/SYNP1")}
    assert owners == {"health_plan": {0}, "account": {0}, "device": {1}, "url": {1}}


def test_a_patient_id_that_is_a_training_mrn_matches_that_patient() -> None:
    index = IdentifierIndex(["MRN 9023541 seen today", "MRN 9023542 seen today"])
    (found,) = detect("patient ID 9023541")
    assert found.category == "other_id" and index.owners(found) == {0}


@pytest.mark.parametrize("text", [
    # doses, vitals, lab values and ranges
    "metoprolol 25 mg PO BID , insulin 5 units a/c and hs",
    "BP 120/80 HR 72 T 98.6 SpO2 97% RR 16 Temp 100.4",
    "Hgb 13.5 (12.0-15.5) WBC 11.2 x10^9/L K 3.5.5.0 Na 140",
    "reference 10.0.0.1 to 4.5.11.0 reported",
    "WBC 4.5.11.0 , ranges 1.2.3.4",
    "BP 120.80.70.16 , BMP 138.4.2.102 , vitals: 120.80.72.98",
    # codes
    "ICD-10 E11.9 , CPT 99213 , HCPCS J1885 , LOINC 2345-7 , ICD 10.0.0.1",
    # versions, outline and section numbers
    "Epic version 10.0.0.1 , v2.3.100.4 , build 1.2.300.4 , section 164.514.200.2",
    # clinical uses of the cue words
    "serial troponins negative , serial exams , serial 3",
    "growth plate 2 , a 3.5 mm locking plate 10 holes , plate 4",
    "per hospital policy 12 , family member 2 , the patient's account of the fall",
    "case 3 of the series , visit 2 , lot 12345 , model no. 5076",
    # times and ratios that look like IPv6 or addresses
    "at 12:30:45 , ratio 1:2:3 , scored 3::2",
    # provider identifiers are not the patient's (Safe Harbor: the individual, relatives,
    # employers, household members)
    "NPI 1234567893 , DEA # AB1234563 , DEA license no. AB1234563 , medical license # SYN4471",
    # a bare number or a bare domain without a cue or scheme
    "48213377 , example.org/portal , www , http://",
])
def test_clinical_text_is_not_taken_for_the_new_categories(text: str) -> None:
    new = set(CATEGORIES[9:])
    assert [(c, k) for c, k in _found(text) if c in new] == []


def test_a_dotted_run_of_four_is_not_a_date_either() -> None:
    assert _found("ranges 10.12.14.2") == []
    assert _found("on 10.12.14 .") == [("date", "2014-10-12")]


def test_invalid_addresses_are_not_addresses() -> None:
    assert _found("IP 256.1.2.3") == [] and _found("IP 192.168.01.2") == []
    assert _found("IP 1.2.3.4.5") == [] and _found("IP 2001:db8::g1") == []
    assert _found("VIN SYNTH7457152713") == []  # 15 characters
    assert _found("VIN 1HGCM82633AOO4352") == []  # O is never in a VIN
