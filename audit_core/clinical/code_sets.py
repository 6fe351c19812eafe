"""Sensitive code sets: built-in categories by ICD-10(-CM) code prefix, editable per audit.

The categories follow Tonekaboni et al. 2025 (T2: infectious disease such as HIV and
syphilis, substance abuse, mental health) with substance use split by substance, as
42 CFR Part 2 and most hospital privacy policies treat it, and reproductive health added
(pregnancy, contraception, infertility; a sensitive category under state health-privacy
laws and HIPAA's 2024 reproductive-health rule). Each category carries its prefixes and
the source of the list.

A hospital edits the sets with one plan string (a probe setting, so it shows in the
plan, `mnemoscope probes`, the desktop form and the report's settings table):

    "hiv_sti=B20,Z21;eating_disorders=F50;reproductive_health="

`name=prefix,prefix` replaces the built-in category of that name or adds a new one;
`name=` (nothing after the sign) drops it. Prefixes are compared without the dot and
case-insensitively, so "T40.1" matches "T401X1A" and "ICD10CM//T40.1X1A".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from audit_core.errors import PlanError


@dataclass(frozen=True, slots=True)
class CodeSet:
    name: str  # plan and results key, e.g. "hiv_sti"
    label: str  # the report's wording
    prefixes: tuple[str, ...]  # ICD-10 prefixes, as written (with or without the dot)
    source: str  # where the list comes from


BUILTIN_CODE_SETS: tuple[CodeSet, ...] = (
    CodeSet("hiv_sti", "HIV and other sexually transmitted infections",
            ("B20", "Z21", "R75", "O98.7", "Z20.6", "Z11.4", "Z72.5",
             "A50", "A51", "A52", "A53", "A54", "A55", "A56", "A57", "A58", "A59", "A60",
             "A63", "A64", "B97.35", "Z20.2", "Z11.3"),
            "ICD-10-CM B20 (HIV disease), Z21, R75, O98.7, Z20.6, Z11.4 and block A50-A64 "
            "(infections with a predominantly sexual mode of transmission); Tonekaboni et al. 2025 T2"),
    CodeSet("alcohol", "Alcohol use",
            ("F10", "K70", "T51", "Z71.41", "G31.2", "G62.1", "I42.6", "K29.2", "K85.2",
             "K86.0", "O99.31", "Z50.2"),
            "ICD-10-CM F10 (alcohol-related disorders) and alcohol-induced organ damage "
            "(K70, G31.2, G62.1, I42.6, K29.2, K85.2, K86.0), T51, Z71.41, O99.31"),
    CodeSet("opioids", "Opioid use",
            ("F11", "T40.0", "T40.1", "T40.2", "T40.3", "T40.4", "T40.6"),
            "ICD-10-CM F11 (opioid-related disorders) and T40.0-T40.4, T40.6 (opioid poisoning); "
            "42 CFR Part 2 substance-use records"),
    CodeSet("sedatives", "Sedative, hypnotic or anxiolytic use",
            ("F13", "T42.3", "T42.4", "T42.7"),
            "ICD-10-CM F13 and T42.3, T42.4, T42.7 (barbiturate, benzodiazepine, sedative-hypnotic "
            "poisoning); Tonekaboni et al. 2025 case study (sedative dependence)"),
    CodeSet("stimulants", "Cocaine or other stimulant use",
            ("F14", "F15", "T40.5", "T43.6"),
            "ICD-10-CM F14 (cocaine), F15 (other stimulants), T40.5, T43.6 (poisoning)"),
    CodeSet("other_substances", "Cannabis, hallucinogen, inhalant or other drug use",
            ("F12", "F16", "F18", "F19", "T40.7", "T40.8", "T40.9", "Z71.51", "O99.32"),
            "ICD-10-CM F12, F16, F18, F19 (other psychoactive substances), T40.7-T40.9, "
            "Z71.51, O99.32; substance-use codes not in the four named categories"),
    CodeSet("mental_health", "Mental health",
            ("F2", "F3", "F4", "F50", "F51", "F53", "F6", "R45.851", "T14.91", "Z91.5"),
            "ICD-10-CM F20-F48 (psychotic, mood, anxiety and stress disorders), F50, "
            "F51, F60-F69, R45.851 (suicidal ideation), T14.91, Z91.5 (suicide attempt and history); "
            "Tonekaboni et al. 2025 T2"),
    CodeSet("reproductive_health", "Reproductive health",
            ("O", "Z30", "Z31", "Z32", "Z33", "Z34", "Z36", "Z37", "Z39", "Z3A", "N96", "N97",
             "N46"),
            "ICD-10-CM chapter 15 (O00-O9A: pregnancy, childbirth, abortion), Z30-Z3A "
            "(contraception, procreative management, pregnancy), N96, N97, N46 (infertility)"),
)

# ICD-10 codes: a letter, two characters, then up to four more after an optional dot.
_ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?")
# Namespaced tokens ("ICD10CM//F32.9", "DIAGNOSIS:ICD9:V70"): ICD-9 namespaces are not ICD-10.
_ICD9_NAMESPACE = re.compile(r"ICD[^A-Z0-9]*9(?![0-9])", re.IGNORECASE)
_SPEC = re.compile(r"[a-z][a-z0-9_]*")


def icd10_code(token: str) -> str | None:
    """The ICD-10 code a token stands for, dot removed and upper case, or None.

    Plain codes ("E11.9"), and codes behind a namespace separated by "//", "/" or ":"
    ("ICD10CM//E11.9"); tokens such as AGE_40_49, VISIT, LAB_* or RX_* are not codes.
    """
    head, _, code = token.strip().rpartition("//") if "//" in token else token.strip().rpartition(":")
    if not code:
        return None
    if "/" in code:
        head, code = head + code.rsplit("/", 1)[0], code.rsplit("/", 1)[1]
    if head and _ICD9_NAMESPACE.search(head):
        return None
    code = code.upper()
    if not _ICD10.fullmatch(code):
        return None
    return code.replace(".", "")


def _bare(prefix: str) -> str:
    return prefix.strip().upper().replace(".", "")


def in_code_set(token: str, code_set: CodeSet) -> bool:
    code = icd10_code(token)
    return code is not None and code.startswith(tuple(_bare(p) for p in code_set.prefixes))


def parse_code_sets(spec: str, where: str) -> tuple[CodeSet, ...]:
    """The built-in code sets edited by `spec` ("name=prefix,prefix;name=;...").

    `where` names the plan key in messages. A name that is not built in needs prefixes.
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
        prefixes = tuple(p.strip() for p in values.split(",") if p.strip())
        bad = [p for p in prefixes if not re.fullmatch(r"[A-Za-z][0-9A-Za-z.]{0,7}", p)]
        if bad:
            raise PlanError(f"'{where}': '{bad[0]}' in category '{name}' is not an ICD-10 code prefix")
        if not prefixes:
            sets.pop(name, None)
            continue
        old = sets.get(name)
        sets[name] = CodeSet(name, old.label if old else name.replace("_", " ").capitalize(),
                             prefixes, f"{old.source}; edited in the plan" if old else "added in the plan")
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
