"""Read a record's token as (vocabulary, code), whatever convention the export writes it in.

Every place that interprets a code (the sensitive categories, the rare-code and
quasi-identifier paths, the ICD hierarchy distance, the record layout's demographics)
reads tokens here, so the conventions in use read alike everywhere:

=================================  ==============  ===========================
token                              vocabulary      code
=================================  ==============  ===========================
``E11.9``, ``ICD10:E11.9``         ICD10CM         ``E119``
``ICD10CM/E11.9``, ``ICD10CM//E11.9``  ICD10CM     ``E119``
``DIAGNOSIS//ICD//10//M25511``     ICD10CM         ``M25511``
``DIAGNOSIS//ICD//9//4019``        ICD9CM          ``4019``
``ICD9CM/401.9``, ``ICD9:V08``     ICD9CM          ``4019``, ``V08``
``PROCEDURE//ICD//10//0DTJ4ZZ``    ICD10PCS        ``0DTJ4ZZ``
``PROCEDURE//ICD//9//3893``        ICD9PROC        ``3893``
``SNOMED/3950001``                 SNOMED          ``3950001``
``LOINC/2236-8``                   LOINC           ``2236-8``
``RxNorm/17767``                   RXNORM          ``17767``
``LAB//51237//UNK``                LAB             ``51237``
``LAB//LOINC//2236-8``             LOINC           ``2236-8``
``DIAGNOSIS//SNOMED//44054006``    SNOMED          ``44054006``
``MEDICATION//RXNORM//17767``      RXNORM          ``17767``
``VISIT//AMB``                     VISIT           ``AMB``
``MEDICATION//START//Heparin``     MEDICATION      ``START//HEPARIN``
``GENDER//M``, ``Gender/F``        GENDER          ``M``, ``F``
``MEDS_BIRTH``, ``MEDS_DEATH``     BIRTH, DEATH    (empty)
anything else (AGE_40_49, VISIT)   OTHER           the token
=================================  ==============  ===========================

ICD codes are upper case without the dot. Procedure codes are their own vocabularies:
ICD-10-PCS "B20..." (imaging) and ICD-9 procedure "04.2" would otherwise read as HIV.
A namespace this table does not name keeps the historical reading: the code after the
last separator is ICD-10 if it has the ICD-10 shape, unless the namespace says ICD-9.
A plain all-digit token is not read as ICD-9: without a namespace "4019" could be a lab id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

ICD10CM, ICD9CM, ICD10PCS, ICD9PROC = "ICD10CM", "ICD9CM", "ICD10PCS", "ICD9PROC"
SNOMED, LOINC, RXNORM = "SNOMED", "LOINC", "RXNORM"
LAB, MEDICATION, GENDER, BIRTH, DEATH, OTHER = "LAB", "MEDICATION", "GENDER", "BIRTH", "DEATH", "OTHER"
CPT, VISIT = "CPT", "VISIT"
RACE, ETHNICITY = "RACE", "ETHNICITY"

# The person's own attributes: quasi-identifiers and the "demographics" prompt tier.
DEMOGRAPHIC_VOCABULARIES = frozenset({GENDER, RACE, ETHNICITY})
# MEDS rows that describe the person rather than an event of care.
STATIC_VOCABULARIES = DEMOGRAPHIC_VOCABULARIES | {BIRTH, DEATH}

# ICD-10(-CM): a letter, two characters, then up to four more after an optional dot.
_ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?")
# ICD-9-CM diagnoses: 001-999 (up to two decimals), V01-V91 (up to two), E000-E999 (one).
_ICD9 = re.compile(r"([0-9]{3}(\.?[0-9]{1,2})?|V[0-9]{2}(\.?[0-9]{1,2})?|E[0-9]{3}(\.?[0-9])?)")
_ICD10PCS = re.compile(r"[0-9A-HJ-NP-Z]{7}")
_ICD9PROC = re.compile(r"[0-9]{2}(\.?[0-9]{1,2})?")
_ICD9_NAMESPACE = re.compile(r"ICD[^A-Z0-9]*9(?![0-9])", re.IGNORECASE)

# OMOP vocabulary_id (as MEDS ETLs from OMOP write "vocabulary_id/concept_code"), upper case.
_OMOP = {"ICD10CM": ICD10CM, "ICD10": ICD10CM, "ICD9CM": ICD9CM, "ICD10PCS": ICD10PCS,
         "ICD9PROC": ICD9PROC, "SNOMED": SNOMED, "LOINC": LOINC, "RXNORM": RXNORM,
         "RXNORM EXTENSION": RXNORM, "CPT4": CPT, "CPT": CPT, "GENDER": GENDER, "RACE": RACE,
         "ETHNICITY": ETHNICITY}
# MIMIC-IV MEDS heads ("HEAD//rest") that are not ICD.
_MEDS_HEADS = {"LAB": LAB, "MEDICATION": MEDICATION, "GENDER": GENDER, "SEX": GENDER,
               "RACE": RACE, "ETHNICITY": ETHNICITY, "VISIT": VISIT}
# Heads whose second part may name a standard vocabulary ("LAB//LOINC//2236-8", as
# data.fhir_events writes FHIR codings).
_DOMAINS = ("DIAGNOSIS", "PROCEDURE", "LAB", "MEDICATION")
_MEDS_ROWS = {"MEDS_BIRTH": BIRTH, "MEDS_DEATH": DEATH}


@dataclass(frozen=True, slots=True)
class Code:
    vocabulary: str  # one of the constants above
    code: str  # normalised: ICD without dot, upper case; OTHER: the token as written


def _icd(code: str, icd9: bool, procedure: bool = False) -> Code | None:
    code = code.strip().upper()
    if procedure:
        pattern, vocabulary = (_ICD9PROC, ICD9PROC) if icd9 else (_ICD10PCS, ICD10PCS)
    else:
        pattern, vocabulary = (_ICD9, ICD9CM) if icd9 else (_ICD10, ICD10CM)
    return Code(vocabulary, code.replace(".", "")) if pattern.fullmatch(code) else None


@lru_cache(maxsize=1 << 16)  # a vocabulary's tokens are read again for every record
def read_code(token: str) -> Code:
    """The (vocabulary, code) a token stands for; OTHER when it is not a known code."""
    text = token.strip()
    other = Code(OTHER, text)
    if text.upper() in _MEDS_ROWS:
        return Code(_MEDS_ROWS[text.upper()], "")
    if "//" in text:
        parts = text.split("//")
        head = parts[0].upper()
        if head in ("DIAGNOSIS", "PROCEDURE") and len(parts) >= 4 and parts[1].upper() == "ICD" \
                and parts[2] in ("9", "10"):
            return _icd(parts[3], parts[2] == "9", head == "PROCEDURE") or other
        named = _OMOP.get(parts[1].upper()) if len(parts) >= 3 and head in _DOMAINS else None
        if named is not None and not named.startswith("ICD"):
            return Code(named, parts[2].strip().upper())
        if head in _MEDS_HEADS and len(parts) > 1:
            vocabulary = _MEDS_HEADS[head]
            # LAB//itemid//unit: the item is the code, the unit only how it is measured.
            value = parts[1] if vocabulary == LAB else "//".join(parts[1:])
            return Code(vocabulary, value.upper())
        namespace, _, code = text.rpartition("//")
    elif ":" in text:
        namespace, _, code = text.rpartition(":")
    else:
        namespace, code = "", text
    if "/" in code:  # OMOP style "ICD10CM/E11.9", or a "/" after the last "//"
        vocab, _, code = code.rpartition("/")
        namespace = namespace + vocab
        mapped = _OMOP.get(vocab.strip().upper())
        if mapped in (ICD10CM, ICD9CM, ICD10PCS, ICD9PROC):
            return _icd(code, mapped in (ICD9CM, ICD9PROC), mapped in (ICD10PCS, ICD9PROC)) or other
        if mapped is not None:
            return Code(mapped, code.strip().upper())
    if not code:
        return other
    if namespace and _ICD9_NAMESPACE.search(namespace):
        return _icd(code, True) or other
    return _icd(code, False) or other


def icd10_code(token: str) -> str | None:
    """The ICD-10 diagnosis code a token stands for, dot removed and upper case, or None."""
    code = read_code(token)
    return code.code if code.vocabulary == ICD10CM else None


def icd9_code(token: str) -> str | None:
    """The ICD-9-CM diagnosis code a token stands for, dot removed and upper case, or None."""
    code = read_code(token)
    return code.code if code.vocabulary == ICD9CM else None


def is_demographic(token: str) -> bool:
    """A row naming the person's sex, race or ethnicity (GENDER//M, Gender/F, RACE//WHITE)."""
    return read_code(token).vocabulary in DEMOGRAPHIC_VOCABULARIES


def is_static_row(token: str) -> bool:
    """A MEDS row about the person rather than an event of care (demographics, birth, death)."""
    return read_code(token).vocabulary in STATIC_VOCABULARIES


# ICD-9-CM chapters by the first three digits (V and E codes are chapters of their own).
_ICD9_CHAPTERS = (139, 239, 279, 289, 319, 389, 459, 519, 579, 629, 679, 709, 739, 759, 779, 799, 999)


def hierarchy_levels(code: Code) -> tuple[str, ...] | None:
    """(chapter, category, subcategory) keys of an ICD diagnosis code, coarse to fine, or
    None for a code outside the ICD diagnosis hierarchies. Two codes share a level when
    their keys at it are equal; keys carry the vocabulary, so ICD-9 never meets ICD-10.

    ICD-10: the chapter letter, 3-character category, 4-character subcategory (the
    approximation the hierarchy distance always used). ICD-9-CM: the chapter of its
    category (001-139 ... 800-999, V, E), the 3-digit category (E: 4), one more digit.
    """
    c = code.code
    if code.vocabulary == ICD10CM:
        return ("10:" + c[:1], "10:" + c[:3], "10:" + c[:4])
    if code.vocabulary != ICD9CM:
        return None
    if c[0] in "VE":
        width = 4 if c[0] == "E" else 3
        return ("9:" + c[0], "9:" + c[:width], "9:" + c[:width + 1])
    number = int(c[:3])
    chapter = next(i for i, last in enumerate(_ICD9_CHAPTERS) if number <= last)
    return (f"9:ch{chapter}", "9:" + c[:3], "9:" + c[:4])
