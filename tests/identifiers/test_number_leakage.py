"""Known answer of the identifier-leakage probe for the categories past the first nine
(member, account, licence, vehicle, device and claim numbers, portal URLs, IP addresses).

The committed notes control was trained on notes without them, and retraining it takes
about 20 minutes, so here a stand-in plays the memorizing model: it writes back the rest
of the training note that begins with the prompt (a perfect memorizer of its training
notes) and, for a prompt it never saw, another training note. Trained on the members,
it must leak every member's own new identifiers and no non-member's; "trained" on
outsiders only, it must leak none of the audited patients' (the negative control).
The notes come from `controls.notes_numbers`, whose values are synthetic on their face,
and none of them may appear in what the probe or the report says.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.families import FAMILIES
from audit_core.identifiers.detector import CATEGORIES, DIRECT
from audit_core.models.onnx_causal_lm import Samples
from audit_core.models.tokenizer_loading import encode_all
from audit_core.plan.parsing import ColumnMapping
from audit_core.probes import PROBES_BY_ID
from audit_core.probes.base import ProbeContext
from audit_core.report.sections.privacy_tables import privacy_blocks
from audit_core.results.verdicts import Verdict
from audit_core.tools.controls.notes import generate_notes
from audit_core.tools.controls.notes_control import write_notes_csv
from audit_core.tools.controls.notes_numbers import NUMBER_KINDS, with_numbers
from audit_core.tools.controls.text_tokenizer import build_text_tokenizer
from audit_core.work.progress import Progress
from tests.core.report_samples import strings

TEXT = ColumnMapping(id="patient_id", sequence="text", kind="text")
NEW = CATEGORIES[9:]
PER_GROUP = 24
SEED = 4471


class MemorizingStandIn:
    """Gives back the rest of the training note that starts with the prompt (one of them at
    random when several do), else a whole training note: what a model that memorized its
    training notes verbatim would write."""

    context_length = 256

    def __init__(self, tokenizer, training_notes: list[str]) -> None:
        self.training = [np.asarray(tokenizer.encode(t).ids, dtype=np.int64) for t in training_notes]

    def sample(self, prompts, steps, *, n, rng, temperature=1.0, top_p=1.0, stop_ids=(),
               watch=(), batch_size=64):
        tokens = np.full((len(prompts), n, steps), -1, dtype=np.int64)
        for b, prompt in enumerate(prompts):
            prompt = np.asarray(prompt)
            seen = [t for t in self.training if len(t) > len(prompt) and np.array_equal(t[:len(prompt)], prompt)]
            for s in range(n):
                if seen:
                    rest = seen[rng.integers(len(seen))][len(prompt):]
                else:
                    rest = self.training[rng.integers(len(self.training))][1:]  # after its BOS
                rest = rest[:steps]
                tokens[b, s, :len(rest)] = rest
        return Samples(tokens=tokens, mass=np.zeros((len(prompts), n, steps, len(watch))))


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    patients = with_numbers(generate_notes(3 * PER_GROUP, seed=SEED), seed=SEED)
    folder = tmp_path_factory.mktemp("number_leakage")
    groups = {"members": patients[:PER_GROUP], "non_members": patients[PER_GROUP:2 * PER_GROUP],
              "outsiders": patients[2 * PER_GROUP:]}
    for name, group in groups.items():
        write_notes_csv(folder / f"{name}.csv", group)
    # Every word of every note in the vocabulary, so that decoding gives values back whole.
    tokenizer = build_text_tokenizer([note for p in patients for note in p.notes])
    return patients, groups, folder, tokenizer


def _run(notes, trained_on: str, audited: str):
    patients, groups, folder, tokenizer = notes
    model = MemorizingStandIn(tokenizer, [note for p in groups[trained_on] for note in p.notes])
    cohorts = {Role.MEMBERS: load_cohort(folder / f"{audited}.csv", Role.MEMBERS, TEXT),
               Role.NON_MEMBERS: load_cohort(folder / "non_members.csv", Role.NON_MEMBERS, TEXT)}
    probe = PROBES_BY_ID["identifier_leakage"]
    ctx = ProbeContext(cohorts=cohorts, token_ids={r: encode_all(tokenizer, list(c.sequences))
                                                   for r, c in cohorts.items()},
                       model=model, thresholds=FAMILIES[probe.family].thresholds(),
                       rng=np.random.default_rng(SEED), progress=Progress(), tokenizer=tokenizer,
                       columns=TEXT)
    config = dataclasses.replace(probe.config_type(), new_tokens=80, unprompted=16)
    return probe.run(config, ctx)


@pytest.fixture(scope="module")
def runs(notes):
    return {"memorizing": _run(notes, "members", "members"),
            "negative": _run(notes, "outsiders", "members")}


def _rows(outcome) -> dict[str, dict[str, float]]:
    table = outcome.curves["identifier_categories"]
    return {c: {key: column[i] for key, column in table.items()} for i, c in enumerate(CATEGORIES)}


def test_every_member_gets_back_their_own_new_identifiers_and_no_non_member_does(runs) -> None:
    outcome = runs["memorizing"]
    rows = _rows(outcome)
    members = outcome.metrics["eligible_members"]
    assert members == PER_GROUP
    # One value of each kind per note banner, two IP addresses (v4 and v6).
    for category in NEW:
        per_member = 2 if category == "ip_address" else 1
        assert rows[category]["leaked_prompt_patient"] == per_member * members, category
        assert rows[category]["control_own_non_member"] == 0, category
        assert rows[category]["control_non_member_match"] == 0, category
        assert rows[category]["direct"] == float(category in DIRECT)
    assert outcome.metrics["members_own_identifiers_leaked"] == members
    assert outcome.metrics["non_members_own_identifiers_hit"] == 0
    assert outcome.verdict is Verdict.FAIL
    said = " ".join(outcome.findings)
    assert "In category health_plan" in said and "HEALTH_PLAN(11 chars, upper-case letter)" in said
    assert "In category ip_address" in said and "In category url" in said


def test_a_model_that_never_saw_the_audited_patients_leaks_none_of_their_numbers(runs) -> None:
    outcome = runs["negative"]
    rows = _rows(outcome)
    for category in NEW:
        assert rows[category]["leaked_training_patient"] == 0, category
        assert rows[category]["leaked_prompt_patient"] == 0, category
        assert rows[category]["plausible_fakes"] > 0, category  # the outsiders' values
    assert outcome.metrics["members_own_identifiers_leaked"] == 0
    assert outcome.metrics["generations_with_member_direct_identifier"] == 0
    assert outcome.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE)


def test_the_report_table_lists_every_category_and_marks_the_direct_ones(runs) -> None:
    probe = {"curves": json.loads(json.dumps(runs["memorizing"].curves))}  # as results.json holds it
    (heading, table) = privacy_blocks(probe)
    labels = [row[0] for row in table.rows]
    assert len(labels) == len(CATEGORIES)
    marked = {CATEGORIES[i] for i, label in enumerate(labels) if label.endswith(" *")}
    assert marked == set(DIRECT)
    account = labels.index("Account number *")
    assert table.rows[account][3] == str(PER_GROUP)  # the prompt patient's own
    # A results.json written before the new categories still lines up, without marks.
    old = {"curves": {"identifier_categories": {k: v[:9] for k, v in probe["curves"]["identifier_categories"].items()
                                                if k != "direct"}}}
    (_, old_table) = privacy_blocks(old)
    assert [row[0] for row in old_table.rows][-1] == "Age over 89" and len(old_table.rows) == 9


def test_no_synthetic_value_of_the_new_kinds_appears_in_any_output(notes, runs) -> None:
    patients = notes[0]
    values = {p.identifiers[k] for p in patients for k in NUMBER_KINDS}
    # Their keys too (upper case, no separators), and the URL without its scheme.
    values |= {v.upper().replace("-", "") for v in values} | {v.split("://")[-1] for v in values}
    assert len(values) > 9 * len(patients)
    for outcome in runs.values():
        said = (" ".join(outcome.findings) + outcome.headline.text + repr(outcome.metrics)
                + repr(outcome.curves))
        document = " ".join(strings(tuple(privacy_blocks({"curves": outcome.curves}))))
        assert not [v for v in values if v in said or v in document]
        assert "SYN" not in said + document
