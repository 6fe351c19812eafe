"""Sensitive conditions named in free text: a built-in lexicon of sensitive diagnoses and
their common wordings, editable per audit, for the sensitive-category tests on clinical notes.

The categories are the code sets' (`clinical.code_sets`), under the same names, so one plan
string edits either: on free-text records the probes' `code_sets` setting edits this
lexicon, with wordings where code records have ICD-10 prefixes:

    "opioids=opioid use disorder,heroin,OUD;eating_disorders=anorexia nervosa;alcohol="

`name=wording,wording` replaces the built-in category of that name or adds one; `name=`
drops it. A wording matches as a whole word (or words), case-insensitively, with any run of
spaces between its words; a wording written all in capitals ("AIDS", "OUD", "STI") is an
acronym and matches as written, since its lower-case form is often an ordinary word ("aids",
"art"). A lexicon does not read negation ("denies heroin use" mentions heroin): the label
is "the note names the condition", which is what a model could repeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from audit_core.clinical.code_sets import parse_code_sets
from audit_core.errors import PlanError


@dataclass(frozen=True)
class TermSet:
    name: str  # the code set's name, e.g. "opioids"
    label: str  # the report's wording
    wordings: tuple[str, ...]
    source: str

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """One pattern for every wording: whole words, spaces flexible."""
        parts = []
        for wording in self.wordings:
            body = r"\s+".join(re.escape(w) for w in wording.split())
            parts.append(body if _acronym(wording) else f"(?i:{body})")
        # (?<!\w) / (?!\w) rather than \b: a wording may start or end with a non-word
        # character ("T-cell", "Plan B.") and must still be a whole word.
        return re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])")

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of every mention in `text`."""
        return [m.span() for m in self.pattern.finditer(text)]

    def mentioned(self, text: str) -> bool:
        return self.pattern.search(text) is not None


def _acronym(wording: str) -> bool:
    letters = [c for c in wording if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters) and " " not in wording.strip()


BUILTIN_TERM_SETS: tuple[TermSet, ...] = (
    TermSet("hiv_sti", "HIV and other sexually transmitted infections",
            ("HIV", "hiv", "human immunodeficiency virus", "AIDS", "acquired immunodeficiency syndrome",
             "antiretroviral therapy", "antiretrovirals", "PrEP", "pre-exposure prophylaxis",
             "syphilis", "gonorrhea", "gonorrhoea", "chlamydia", "genital herpes", "genital warts",
             "trichomoniasis", "chancroid", "lymphogranuloma venereum", "sexually transmitted infection",
             "sexually transmitted infections", "sexually transmitted disease",
             "sexually transmitted diseases", "STI", "STIs", "STD", "STDs"),
            "ICD-10-CM B20, Z21 and A50-A64 in clinical wording; Tonekaboni et al. 2025 T2"),
    TermSet("alcohol", "Alcohol use",
            ("alcohol use disorder", "alcohol dependence", "alcohol abuse", "alcoholism", "alcoholic",
             "alcohol withdrawal", "delirium tremens", "AUD", "EtOH abuse", "EtOH dependence",
             "heavy drinking", "binge drinking"),
            "ICD-10-CM F10 and alcohol-induced organ damage in clinical wording"),
    TermSet("opioids", "Opioid use",
            ("opioid use disorder", "opioid dependence", "opioid abuse", "opioid overdose",
             "opiate dependence", "opiate abuse", "opiate use disorder", "OUD", "heroin",
             "fentanyl use", "methadone maintenance", "methadone program", "buprenorphine",
             "Suboxone", "naloxone"),
            "ICD-10-CM F11 and T40.0-T40.4, T40.6 in clinical wording; 42 CFR Part 2"),
    TermSet("sedatives", "Sedative, hypnotic or anxiolytic use",
            ("benzodiazepine dependence", "benzodiazepine abuse", "benzodiazepine use disorder",
             "benzodiazepine overdose", "sedative use disorder", "sedative dependence",
             "sedative abuse", "barbiturate dependence", "hypnotic dependence"),
            "ICD-10-CM F13 and T42.3, T42.4, T42.7 in clinical wording"),
    TermSet("stimulants", "Cocaine or other stimulant use",
            ("cocaine", "crack cocaine", "methamphetamine", "amphetamine use disorder",
             "amphetamine abuse", "stimulant use disorder", "stimulant abuse"),
            "ICD-10-CM F14, F15, T40.5, T43.6 in clinical wording"),
    TermSet("other_substances", "Cannabis, hallucinogen, inhalant or other drug use",
            ("cannabis use disorder", "cannabis dependence", "cannabis abuse", "marijuana abuse",
             "hallucinogen use", "inhalant use", "substance use disorder", "substance abuse",
             "polysubstance use", "polysubstance abuse", "injection drug use", "intravenous drug use",
             "IVDU", "PWID"),
            "ICD-10-CM F12, F16, F18, F19 in clinical wording"),
    TermSet("mental_health", "Mental health",
            ("depression", "major depressive disorder", "MDD", "bipolar disorder", "schizophrenia",
             "schizoaffective disorder", "psychosis", "anxiety", "anxiety disorder",
             "generalized anxiety disorder", "panic disorder", "PTSD", "post-traumatic stress disorder",
             "posttraumatic stress disorder", "obsessive-compulsive disorder", "OCD",
             "anorexia nervosa", "bulimia", "eating disorder", "suicidal ideation", "suicide attempt",
             "self-harm", "borderline personality disorder", "personality disorder"),
            "ICD-10-CM F20-F48, F50, F51, F60-F69, R45.851, Z91.5 in clinical wording; "
            "Tonekaboni et al. 2025 T2"),
    TermSet("reproductive_health", "Reproductive health",
            ("abortion", "pregnancy termination", "termination of pregnancy", "elective termination",
             "miscarriage", "pregnant", "pregnancy", "ectopic pregnancy", "prenatal care",
             "contraception", "emergency contraception", "birth control", "IUD", "infertility",
             "IVF", "in vitro fertilization"),
            "ICD-10-CM O00-O9A, Z30-Z3A, N96, N97, N46 in clinical wording"),
)

_NAME = re.compile(r"[a-z][a-z0-9_]*")
# Letters, digits, spaces and the punctuation clinical wordings use ("post-traumatic").
_WORDING = re.compile(r"[\w][\w .'/+-]{0,79}")


def parse_sensitive_terms(spec: str, where: str) -> tuple[TermSet, ...]:
    """The built-in lexicon edited by `spec` ("name=wording,wording;name=;..."); `where`
    names the plan key in messages. A name that is not built in needs wordings."""
    sets = {s.name: s for s in BUILTIN_TERM_SETS}
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        name, sign, values = part.partition("=")
        name = name.strip().lower()
        if not sign or not _NAME.fullmatch(name):
            raise PlanError(f"'{where}': '{part}' is not 'category=wording,wording' (category "
                            "names are lower case letters, digits and underscores)")
        wordings = tuple(" ".join(w.split()) for w in values.split(",") if w.strip())
        bad = [w for w in wordings if not _WORDING.fullmatch(w)]
        if bad:
            raise PlanError(f"'{where}': a wording of category '{name}' is not letters, digits, "
                            "spaces and - ' / + . (at most 80 characters)")
        if not wordings:
            sets.pop(name, None)
            continue
        old = sets.get(name)
        sets[name] = TermSet(name, old.label if old else name.replace("_", " ").capitalize(),
                             wordings, f"{old.source}; edited in the plan" if old else "added in the plan")
    if not sets:
        raise PlanError(f"'{where}' drops every sensitive category: nothing would be tested")
    return tuple(sets.values())


def check_sensitive_spec(spec: str, where: str) -> None:
    """A probe's `code_sets` string, checked where the record kind is not known (a probe's own
    plan check): ICD-10 prefixes for code records or wordings for notes. The plan check that
    knows the kind (probes.applicability) holds it to that kind's syntax."""
    try:
        parse_code_sets(spec, where)
    except PlanError:
        parse_sensitive_terms(spec, where)
