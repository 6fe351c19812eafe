"""Sensitive code sets: built-in categories by ICD-10-CM and ICD-9-CM code prefix, editable per audit.

The categories follow Tonekaboni et al. 2025 (T2: infectious disease such as HIV and
syphilis, substance abuse, mental health) with substance use split by substance, as
42 CFR Part 2 and most hospital privacy policies treat it, and reproductive health added
(pregnancy, contraception, infertility; a sensitive category under state health-privacy
laws and HIPAA's 2024 reproductive-health rule). Each category carries its prefixes and
the source of the list, for ICD-10-CM and, with the same meaning, for ICD-9-CM (MIMIC-IV
and other US data before October 2015 code in ICD-9; each ICD-9 list names the codes it
takes from the ICD-9-CM tabular list and leaves out what the ICD-10 list leaves out, e.g.
dementia 290, autism 299 and intellectual disability 317-319 in mental health).

A hospital edits the sets with one plan string (a probe setting, so it shows in the
plan, `mnemoscope probes`, the desktop form and the report's settings table):

    "hiv_sti=B20,Z21;eating_disorders=F50;reproductive_health="

`name=prefix,prefix` replaces the built-in category of that name (both its ICD-10 and
ICD-9 lists) or adds a new one; `name=` (nothing after the sign) drops it. A prefix is
ICD-10 unless written `icd9:` ("hiv_sti=B20,Z21,icd9:042,icd9:V08"); `icd10:` may be
written too. Prefixes are compared without the dot and case-insensitively, so "T40.1"
matches "T401X1A" and "ICD10CM//T40.1X1A", and "icd9:305.0" matches
"DIAGNOSIS//ICD//9//30500" and "ICD9CM/305.00". Tokens are read by clinical.code_reading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from audit_core.clinical.code_reading import ICD9CM, ICD10CM, read_code
from audit_core.errors import PlanError


@dataclass(frozen=True, slots=True)
class CodeSet:
    name: str  # plan and results key, e.g. "hiv_sti"
    label: str  # the report's wording
    prefixes: tuple[str, ...]  # ICD-10 prefixes, as written (with or without the dot)
    source: str  # where the list comes from
    icd9_prefixes: tuple[str, ...] = ()  # ICD-9-CM prefixes of the same category


_ICD9_TABULAR = "ICD-9-CM tabular list (CMS/NCHS, FY2015 edition)"

BUILTIN_CODE_SETS: tuple[CodeSet, ...] = (
    CodeSet("hiv_sti", "HIV and other sexually transmitted infections",
            ("B20", "Z21", "R75", "O98.7", "Z20.6", "Z11.4", "Z72.5",
             "A50", "A51", "A52", "A53", "A54", "A55", "A56", "A57", "A58", "A59", "A60",
             "A63", "A64", "B97.35", "Z20.2", "Z11.3"),
            "ICD-10-CM B20 (HIV disease), Z21, R75, O98.7, Z20.6, Z11.4 and block A50-A64 "
            "(infections with a predominantly sexual mode of transmission); ICD-9-CM 042 (HIV "
            "disease), V08, 079.53 (HIV-2), 795.71, 090-099 (syphilis, gonorrhea, other venereal "
            "diseases), 131 (trichomoniasis), 054.1, 078.11, V01.6, V02.7, V02.8, V69.2, V74.5 "
            f"({_ICD9_TABULAR}); Tonekaboni et al. 2025 T2",
            ("042", "V08", "079.53", "795.71", "09", "131", "054.1", "078.11", "V01.6", "V02.7",
             "V02.8", "V69.2", "V74.5")),
    CodeSet("alcohol", "Alcohol use",
            ("F10", "K70", "T51", "Z71.41", "G31.2", "G62.1", "I42.6", "K29.2", "K85.2",
             "K86.0", "O99.31", "Z50.2"),
            "ICD-10-CM F10 (alcohol-related disorders) and alcohol-induced organ damage "
            "(K70, G31.2, G62.1, I42.6, K29.2, K85.2, K86.0), T51, Z71.41, O99.31; ICD-9-CM 291, "
            "303, 305.0 (alcohol-induced mental disorders, dependence, abuse), 571.0-571.3 "
            "(alcoholic liver disease), 357.5, 425.5, 535.3, 980 (toxic effect of alcohol), V11.3, "
            f"V79.1 ({_ICD9_TABULAR})",
            ("291", "303", "305.0", "571.0", "571.1", "571.2", "571.3", "357.5", "425.5", "535.3",
             "980", "V11.3", "V79.1")),
    CodeSet("opioids", "Opioid use",
            ("F11", "T40.0", "T40.1", "T40.2", "T40.3", "T40.4", "T40.6"),
            "ICD-10-CM F11 (opioid-related disorders) and T40.0-T40.4, T40.6 (opioid poisoning); "
            "ICD-9-CM 304.0, 304.7 (opioid dependence, alone or combined), 305.5 (opioid abuse), "
            f"965.0 (poisoning by opiates), E850.0-E850.2 ({_ICD9_TABULAR}); "
            "42 CFR Part 2 substance-use records",
            ("304.0", "304.7", "305.5", "965.0", "E850.0", "E850.1", "E850.2")),
    CodeSet("sedatives", "Sedative, hypnotic or anxiolytic use",
            ("F13", "T42.3", "T42.4", "T42.7"),
            "ICD-10-CM F13 and T42.3, T42.4, T42.7 (barbiturate, benzodiazepine, sedative-hypnotic "
            "poisoning); ICD-9-CM 304.1, 305.4 (sedative dependence, abuse), 967 (poisoning by "
            f"sedatives and hypnotics), 969.4 (benzodiazepines) ({_ICD9_TABULAR}); "
            "Tonekaboni et al. 2025 case study (sedative dependence)",
            ("304.1", "305.4", "967", "969.4")),
    CodeSet("stimulants", "Cocaine or other stimulant use",
            ("F14", "F15", "T40.5", "T43.6"),
            "ICD-10-CM F14 (cocaine), F15 (other stimulants), T40.5, T43.6 (poisoning); ICD-9-CM "
            "304.2, 304.4 (cocaine, amphetamine dependence), 305.6, 305.7 (abuse), 970.81, 969.7 "
            f"(poisoning) ({_ICD9_TABULAR})",
            ("304.2", "304.4", "305.6", "305.7", "970.81", "969.7")),
    CodeSet("other_substances", "Cannabis, hallucinogen, inhalant or other drug use",
            ("F12", "F16", "F18", "F19", "T40.7", "T40.8", "T40.9", "Z71.51", "O99.32"),
            "ICD-10-CM F12, F16, F18, F19 (other psychoactive substances), T40.7-T40.9, "
            "Z71.51, O99.32; ICD-9-CM 304.3, 304.5, 304.6, 304.8, 304.9 (cannabis, hallucinogen, "
            "other and combined dependence), 305.2, 305.3, 305.9 (abuse), 292 (drug-induced mental "
            "disorders), 969.6 (psychodysleptics), 648.3 (drug dependence in pregnancy), V65.42 "
            f"({_ICD9_TABULAR}); substance-use codes not in the four named categories",
            ("304.3", "304.5", "304.6", "304.8", "304.9", "305.2", "305.3", "305.9", "292",
             "969.6", "648.3", "V65.42")),
    CodeSet("mental_health", "Mental health",
            ("F2", "F3", "F4", "F50", "F51", "F53", "F6", "R45.851", "T14.91", "Z91.5"),
            "ICD-10-CM F20-F48 (psychotic, mood, anxiety and stress disorders), F50, "
            "F51, F60-F69, R45.851 (suicidal ideation), T14.91, Z91.5 (suicide attempt and history); "
            "ICD-9-CM chapter 5 (290-319) without its organic, developmental, childhood and "
            "substance blocks: 295-298 (psychoses), 300, 306, 308, 309 (anxiety, somatoform, stress, "
            "adjustment), 301, 302 (personality, sexual and gender identity), 307.1, 307.5 (eating), "
            "307.4 (sleep), 311 (depression), 312.3 (impulse control), 648.4, V62.84 (suicidal "
            f"ideation), E950-E959 (suicide and self-inflicted injury) ({_ICD9_TABULAR}); "
            "Tonekaboni et al. 2025 T2",
            ("295", "296", "297", "298", "300", "301", "302", "306", "307.1", "307.4", "307.5",
             "308", "309", "311", "312.3", "648.4", "V62.84", "E95")),
    CodeSet("reproductive_health", "Reproductive health",
            ("O", "Z30", "Z31", "Z32", "Z33", "Z34", "Z36", "Z37", "Z39", "Z3A", "N96", "N97",
             "N46"),
            "ICD-10-CM chapter 15 (O00-O9A: pregnancy, childbirth, abortion), Z30-Z3A "
            "(contraception, procreative management, pregnancy), N96, N97, N46 (infertility); "
            "ICD-9-CM chapter 11 (630-679), V22-V28 (pregnancy, contraception, procreation, "
            f"delivery, antenatal screening), V72.4, 606, 628, 629.81 (infertility) ({_ICD9_TABULAR})",
            ("63", "64", "65", "66", "67", "V22", "V23", "V24", "V25", "V26", "V27", "V28",
             "V72.4", "606", "628", "629.81")),
)

_SPEC = re.compile(r"[a-z][a-z0-9_]*")
_ICD10_PREFIX = re.compile(r"[A-Za-z][0-9A-Za-z.]{0,7}")
_ICD9_PREFIX = re.compile(r"([0-9][0-9.]{0,5}|[VvEe][0-9.]{0,5})")


def _bare(prefix: str) -> str:
    return prefix.strip().upper().replace(".", "")


@lru_cache(maxsize=256)  # a code set is tested against every token of the vocabulary
def _bare_prefixes(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_bare(p) for p in prefixes)


def in_code_set(token: str, code_set: CodeSet) -> bool:
    code = read_code(token)
    if code.vocabulary == ICD10CM:
        return code.code.startswith(_bare_prefixes(code_set.prefixes))
    if code.vocabulary == ICD9CM:
        return bool(code_set.icd9_prefixes) and \
            code.code.startswith(_bare_prefixes(code_set.icd9_prefixes))
    return False


def _split_prefixes(values: str, name: str, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """"B20,icd9:042,icd10:Z21" -> (ICD-10 prefixes, ICD-9 prefixes), each checked."""
    icd10: list[str] = []
    icd9: list[str] = []
    for item in (v.strip() for v in values.split(",") if v.strip()):
        scheme, colon, prefix = item.partition(":")
        scheme = scheme.strip().lower() if colon else "icd10"
        prefix = prefix.strip() if colon else item
        if scheme == "icd9" and _ICD9_PREFIX.fullmatch(prefix):
            icd9.append(prefix)
        elif scheme == "icd10" and _ICD10_PREFIX.fullmatch(prefix):
            icd10.append(prefix)
        else:
            raise PlanError(f"'{where}': '{item}' in category '{name}' is not an ICD-10 code prefix "
                            "(or an ICD-9-CM one written icd9:042)")
    return tuple(icd10), tuple(icd9)


def parse_code_sets(spec: str, where: str) -> tuple[CodeSet, ...]:
    """The built-in code sets edited by `spec` ("name=prefix,prefix;name=;...").

    `where` names the plan key in messages. A name that is not built in needs prefixes.
    An edited category keeps only the prefixes the plan gives it (ICD-9 ones included).
    """
    sets = {s.name: s for s in BUILTIN_CODE_SETS}
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        name, sign, values = part.partition("=")
        name = name.strip().lower()
        if not sign or not _SPEC.fullmatch(name):
            raise PlanError(f"'{where}': '{part}' is not 'category=prefix,prefix' (category names "
                            "are lower case letters, digits and underscores)")
        prefixes, icd9_prefixes = _split_prefixes(values, name, where)
        if not prefixes and not icd9_prefixes:
            sets.pop(name, None)
            continue
        old = sets.get(name)
        sets[name] = CodeSet(name, old.label if old else name.replace("_", " ").capitalize(),
                             prefixes, f"{old.source}; edited in the plan" if old else "added in the plan",
                             icd9_prefixes)
    if not sets:
        raise PlanError(f"'{where}' drops every sensitive category: nothing would be tested")
    return tuple(sets.values())


def category_token_ids(vocabulary: Mapping[str, int], code_set: CodeSet) -> np.ndarray:
    """Sorted ids of the vocabulary's tokens that fall in the code set."""
    return np.array(sorted(i for token, i in vocabulary.items() if in_code_set(token, code_set)),
                    dtype=np.int64)


def code_set_token_ids(vocabulary: Mapping[str, int],
                       code_sets: tuple[CodeSet, ...]) -> dict[str, np.ndarray]:
    """Token ids per category name (a category with no token in the vocabulary maps to an empty array)."""
    return {s.name: category_token_ids(vocabulary, s) for s in code_sets}
