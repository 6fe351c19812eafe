"""The strata of the vulnerable-subgroups test (T6): who might be memorized more than most.

On top of `probes.membership_strata` (one stratum per value of every declared subgroup
column, and the carriers of rare codes), this adds:

* the very old: over 85 (Tonekaboni et al. 2025, T6) and 90 and over (HIPAA Safe Harbor,
  45 CFR 164.514(b)(2)(i)(C): ages over 89 are identifiers and must be aggregated);
* the carriers of each sensitive category (the code sets of `clinical.code_sets`).

Ages come from the record's age token or, failing that, from a declared subgroup column
that holds ages (see `clinical.ages`). A band vocabulary cannot place an 80-89 band
above or below 85; the stratum is then widened to the whole straddling band and its
label says so, rather than silently guessing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from audit_core.clinical.ages import AgeRange, column_ages, record_age
from audit_core.data.cohort import Cohort, Role
from audit_core.probes.membership_strata import Stratum, membership_strata

AGE = "age"
SENSITIVE = "sensitive_diagnosis"
# (first year inside, label): "over 85" starts at 86.
AGE_CUTS = ((86, "over 85"), (90, "90 and over"))


def record_ages(cohort: Cohort) -> list[AgeRange | None]:
    """Each record's age: its age token, else an age column's value, else None."""
    ages: list[AgeRange | None] = []
    for sequence in cohort.sequences:
        found = record_age(sequence.split())
        ages.append(found[1] if found else None)
    if any(a is None for a in ages):
        for values in cohort.subgroups.values():
            parsed = column_ages(values)
            if parsed is not None:
                ages = [a if a is not None else p for a, p in zip(ages, parsed)]
                break
    return ages


def age_strata(cohorts: Mapping[Role, Cohort]) -> list[Stratum]:
    ages = {role: record_ages(cohorts[role]) for role in Role}
    everyone = [a for role in Role for a in ages[role] if a is not None]
    if not everyone:
        return []
    strata: list[Stratum] = []
    for cut, label in AGE_CUTS:
        straddling = [a.low for a in everyone if a.at_least(cut) is None]
        first, name = cut, label
        if straddling:  # widen to the band that cannot be split, and say so
            first = min(straddling)
            name = f"{first} and over (the age bands do not resolve '{label}')"
        masks = {role: np.array([a is not None and a.at_least(first) is True for a in ages[role]],
                                dtype=bool) for role in Role}
        if any(s.value == name for s in strata):  # both cuts fell back to the same band
            continue
        strata.append(Stratum(AGE, name, masks[Role.MEMBERS], masks[Role.NON_MEMBERS], False))
    return strata


def carrier_strata(carriers: Mapping[str, Mapping[Role, np.ndarray]],
                   labels: Mapping[str, str]) -> list[Stratum]:
    """One stratum per sensitive category: the records that hold one of its codes."""
    return [Stratum(SENSITIVE, f"{labels.get(category, category)} (carriers)",
                    masks[Role.MEMBERS], masks[Role.NON_MEMBERS], False)
            for category, masks in carriers.items()]


def vulnerable_strata(cohorts: Mapping[Role, Cohort], rare_max_members: int,
                      carriers: Mapping[str, Mapping[Role, np.ndarray]],
                      labels: Mapping[str, str], min_cell: int) -> list[Stratum]:
    """Declared subgroups (rare values pooled, unnamed) and rare-code carriers, then age,
    then sensitive carriers."""
    return (membership_strata(dict(cohorts), rare_max_members, min_cell) + age_strata(cohorts)
            + carrier_strata(carriers, labels))
