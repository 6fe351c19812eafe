"""Reading a MEDS dataset folder into the members and non-members cohorts (plan
`[data] format = "meds"`; see plan/meds_keys.py for the keys, docs/meds.md for the rules).

Each subject of the named splits becomes one record: id = subject_id as text, its words the
static rows (no time) first, then the birth row (MEDS_BIRTH), then events by time, rows of
one timestamp in file order; one word per event (data/meds_tokens.py). `Cohort.events`
holds per word its time, the age then and the visit (data/events.py):

- static and birth rows: no time, no age, visit 0 (the birth row's time is what ages are
  counted from, not an event in a visit);
- visits: a new visit opens at the first timed event, and at each later event whose code
  head is one of the plan's `visit_codes` (HOSPITAL_ADMISSION, ED_REGISTRATION, ADMISSION,
  VISIT by default) at a later time than the open visit's start. A subject with no such
  event (an outpatient record, or `visit_codes = []`) gets one visit per calendar day (UTC).

Shards are read one at a time, only the columns needed, only the wanted subjects' rows.
Subgroups (`[data.columns] subgroups = ["GENDER"]`) are code heads: a subject's value is
the rest of its first row whose code is HEAD//value (or HEAD/value), "(missing)" if none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.data.events import DAYS_PER_YEAR, EventFeatures
from audit_core.data.meds_tokens import WordRule, metadata_quantiles, word_rule
from audit_core.data.meds_validation import CODES_FILE, MedsFolder, open_meds_folder, refuse_nulls, rows
from audit_core.errors import DataError
from audit_core.plan.meds_keys import RootedSource

BIRTH_CODE = "MEDS_BIRTH"  # meds.birth_code
MICROSECONDS_PER_DAY = 86_400_000_000
MISSING = "(missing)"


@dataclass(slots=True)
class SubjectRows:
    """One subject's rows in record order (static, birth, then by time)."""

    codes: list[str]
    times: np.ndarray  # int64 microseconds since 1970 UTC
    timed: np.ndarray  # bool: the row has a time and is not the birth row
    birth: np.ndarray  # bool: a MEDS_BIRTH row
    values: np.ndarray  # float64; NaN where the event has no numeric value


def load_meds_cohorts(source: RootedSource) -> dict[Role, Cohort]:
    """Members and non-members of a MEDS dataset, as the plan's splits name them."""
    folder = open_meds_folder(source.root)
    members = folder.subjects(source.members_splits, "members")
    non_members = folder.subjects(source.non_members_splits, "non-members")
    subjects = read_subjects(folder, members | non_members)
    for role, splits, wanted in (("members", source.members_splits, members),
                                 ("non-members", source.non_members_splits, non_members)):
        for split in splits:
            if not any(folder.split_of[s] == split and s in subjects for s in wanted):
                raise DataError(f"{folder.root.name}: no subject of the {role} split '{split}' has "
                                "events in data/; check the split file against the shards")
    rule = word_rule(source.tokens, _code_quantiles(folder) if source.tokens.numeric == "quantiles" else {},
                     _values_by_code(subjects, members) if source.tokens.numeric == "quantiles" else {})
    sha = folder.sha256()
    return {role: _cohort(role, folder, splits, sorted(s for s in wanted if s in subjects), subjects,
                          rule, source, sha)
            for role, splits, wanted in ((Role.MEMBERS, source.members_splits, members),
                                         (Role.NON_MEMBERS, source.non_members_splits, non_members))}


def read_subjects(folder: MedsFolder, wanted: set[int]) -> dict[int, SubjectRows]:
    """The wanted subjects' rows, shard by shard; refuses a subject found in two shards
    (MEDS keeps each subject in one shard) and rows without subject_id or code."""
    found: dict[int, SubjectRows] = {}
    shard_of: dict[int, int] = {}
    wanted_ids = pa.array(sorted(wanted), type=pa.int64())
    for number, relative in enumerate(folder.shards):
        table = _read_shard(folder.root, relative)
        subject_ids = table.column("subject_id").cast(pa.int64())
        here = np.unique(subject_ids.to_numpy()).tolist()
        shared = [s for s in here if s in shard_of]
        if shared:
            raise DataError(f"{folder.shards[shard_of[shared[0]]]} and {relative} both hold rows of "
                            f"{len(shared)} subject(s); MEDS keeps each subject's rows in one shard")
        shard_of.update(dict.fromkeys(here, number))
        keep = pc.is_in(subject_ids, value_set=wanted_ids)
        table = table.filter(keep)
        if table.num_rows:
            found.update(_subjects_of(table))
    return found


def _read_shard(root: Path, relative: str) -> pa.Table:
    try:
        return _shard_table(root, relative)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:  # e.g. uint64 ids past int64
        raise DataError(f"{relative}: a MEDS column cannot be cast to its MEDS type "
                        f"({exc.__class__.__name__}); check subject_id, time and numeric_value") from None


def _shard_table(root: Path, relative: str) -> pa.Table:
    names = pq.read_schema(root / relative).names
    columns = ["subject_id", "time", "code", *(["numeric_value"] if "numeric_value" in names else [])]
    try:
        table = pq.read_table(root / relative, columns=columns)
    except Exception as exc:  # the parser's message may quote the file's bytes: not shown
        raise DataError(f"{relative} cannot be read as Parquet ({exc.__class__.__name__})") from None
    for name in ("subject_id", "code"):
        refuse_nulls(relative, name, table.column(name))
    codes = table.column("code")
    if pa.types.is_dictionary(codes.type):
        codes = codes.cast(codes.type.value_type)
    codes = codes.cast(pa.string())
    blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(codes)), 0).to_numpy(zero_copy_only=False)
    if blank.any():
        raise DataError(f"{relative}: {int(blank.sum())} rows have an empty 'code' "
                        f"({rows(np.flatnonzero(blank))}); every MEDS event needs a code")
    time = table.column("time")
    if pa.types.is_null(time.type):
        time = pa.chunked_array([pa.nulls(table.num_rows, pa.timestamp("us"))])
    time = time.cast(pa.timestamp("us", tz=getattr(time.type, "tz", None)), safe=False).cast(pa.int64())
    values = (table.column("numeric_value").cast(pa.float64()) if "numeric_value" in columns
              else pa.chunked_array([pa.nulls(table.num_rows, pa.float64())]))
    return pa.table({"subject_id": table.column("subject_id").cast(pa.int64()), "time": time, "code": codes,
                     "numeric_value": values})


def _subjects_of(table: pa.Table) -> dict[int, SubjectRows]:
    subject = table.column("subject_id").cast(pa.int64()).to_numpy()
    time_column = table.column("time")
    has_time = time_column.is_valid().to_numpy(zero_copy_only=False)
    times = time_column.fill_null(0).to_numpy()
    codes = table.column("code").to_numpy(zero_copy_only=False)
    values = table.column("numeric_value").fill_null(np.nan).to_numpy()
    birth = codes == BIRTH_CODE
    group = np.where(~has_time, 0, np.where(birth, 1, 2))  # static, birth, then events
    order = np.lexsort((np.arange(len(subject)), np.where(group == 2, times, 0), group, subject))
    subject, times, codes, values = subject[order], times[order], codes[order], values[order]
    group, birth = group[order], birth[order]
    starts = np.flatnonzero(np.r_[True, subject[1:] != subject[:-1]])
    ends = np.r_[starts[1:], len(subject)]
    return {int(subject[a]): SubjectRows(codes=codes[a:b].tolist(), times=times[a:b],
                                         timed=group[a:b] == 2, birth=birth[a:b] & (group[a:b] == 1),
                                         values=values[a:b])
            for a, b in zip(starts, ends, strict=True)}


def event_features(rows_: SubjectRows, visit_heads: frozenset[str],
                   opens_visit: dict[str, bool] | None = None) -> EventFeatures:
    """Time, age and visit per word of one subject (module docstring for the rules)."""
    n = len(rows_.codes)
    time_days = np.where(rows_.timed, rows_.times / MICROSECONDS_PER_DAY, np.nan)
    births = rows_.times[rows_.birth]
    age_years = ((rows_.times - births.min()) / MICROSECONDS_PER_DAY / DAYS_PER_YEAR
                 if len(births) else np.full(n, np.nan))
    age_years = np.where(rows_.timed, age_years, np.nan)
    visit = np.zeros(n, dtype=np.int64)
    timed = np.flatnonzero(rows_.timed)
    known = {} if opens_visit is None else opens_visit  # code -> opens a visit (shared cache)
    opens = []
    for i in timed:
        code = rows_.codes[i]
        starts = known.get(code)
        if starts is None:
            starts = known[code] = code_head(code).upper() in visit_heads
        if starts:
            opens.append(i)
    if opens:
        number, start = 0, None
        opening = set(opens)
        for i in timed:
            if start is None or (i in opening and rows_.times[i] > start):
                number, start = number + 1, rows_.times[i]
            visit[i] = number
    elif len(timed):  # no admission-like event: one visit per calendar day
        days = rows_.times[timed] // MICROSECONDS_PER_DAY
        visit[timed] = np.cumsum(np.r_[True, days[1:] != days[:-1]])
    return EventFeatures(time_days=time_days.astype(np.float64), age_years=age_years.astype(np.float64),
                         visit=visit)


def code_head(code: str) -> str:
    """The part of a code before its first "//" or "/" (GENDER//F -> GENDER, LOINC/2236-8 -> LOINC)."""
    return code.split("/", 1)[0]


def subgroup_value(codes: Sequence[str], head: str) -> str:
    for code in codes:
        if code_head(code) == head and len(code) > len(head):
            return code[len(head):].lstrip("/") or MISSING
    return MISSING


def _cohort(role: Role, folder: MedsFolder, splits: Sequence[str], ids: list[int],
            subjects: dict[int, SubjectRows], rule: WordRule, source: RootedSource, sha: str) -> Cohort:
    heads = frozenset(h.upper() for h in source.visit_codes)
    opens_visit: dict[str, bool] = {}
    sequences, events = [], []
    for subject in ids:
        rows_ = subjects[subject]
        sequences.append(" ".join(rule.words(rows_.codes, rows_.values)))
        events.append(event_features(rows_, heads, opens_visit))
    subgroups = {head: np.array([subgroup_value(subjects[s].codes, head) for s in ids], dtype=object)
                 for head in source.subgroups}
    info = DatasetInfo(role=role.value, file=f"{folder.root.name} [{'+'.join(splits)}]", sha256=sha,
                       records=len(ids), format="meds",
                       columns={"id": "subject_id", "sequence": "code", "kind": "codes",
                                "subgroups": list(source.subgroups), "splits": list(splits)})
    return Cohort(role=role, ids=tuple(str(s) for s in ids), sequences=tuple(sequences),
                  subgroups=subgroups, info=info, events=tuple(events))


def _values_by_code(subjects: dict[int, SubjectRows], members: set[int]) -> dict[str, np.ndarray]:
    """The members' numeric values per code: what quantile bins are cut from."""
    codes: list[str] = []
    values: list[np.ndarray] = []
    for subject in members:
        rows_ = subjects.get(subject)
        if rows_ is not None:
            codes += rows_.codes
            values.append(rows_.values)
    if not codes:
        return {}
    pooled = np.concatenate(values)
    names, inverse = np.unique(np.asarray(codes, dtype=object).astype(str), return_inverse=True)
    order = np.argsort(inverse, kind="stable")  # one pass: each code's values contiguous
    bounds = np.searchsorted(inverse[order], np.arange(len(names) + 1))
    ranked = pooled[order]
    out = {}
    for i, name in enumerate(names):
        found = ranked[bounds[i]:bounds[i + 1]]
        found = found[~np.isnan(found)]
        if len(found):
            out[str(name)] = found
    return out


def _code_quantiles(folder: MedsFolder) -> dict[str, np.ndarray]:
    if not folder.has_codes:
        return {}
    names = pq.read_schema(folder.root / CODES_FILE).names
    if "values/quantiles" not in names:
        return {}
    try:
        table = pq.read_table(folder.root / CODES_FILE, columns=["code", "values/quantiles"])
        return metadata_quantiles(table)
    except Exception as exc:
        raise DataError(f"{CODES_FILE}: its 'values/quantiles' column cannot be read as quantiles "
                        f"({exc.__class__.__name__})") from None
