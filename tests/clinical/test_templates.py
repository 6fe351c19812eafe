"""Template-aware figures (issue 17): template text is what most notes share, members and
non-members alike, and a model is neither credited nor blamed for writing it out.

The committed notes control shares no run of four words across a third of its notes (its
identifiers sit between single words), so here the notes control's generator writes notes
inside a clinic's template: a header line and a footer with the clinic's phone number. A
stand-in plays the model, as in tests/identifiers/test_number_leakage.py (retraining a notes
model takes minutes): trained on some notes, it writes back the rest of the training note
that holds the prompt, and for a prompt it never saw it writes only the clinic's template
(what any model of these notes learns). Known answers: the raw extraction and identifier
figures count the template for members and non-members alike; the figures net of template
do not, and the verdict reads them. Code records (the demo) have no template: the figures
net of template equal the raw ones (tests/probes: demo_outputs).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from audit_core.clinical.templates import find_templates
from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.families import FAMILIES
from audit_core.models.onnx_causal_lm import Samples
from audit_core.models.tokenizer_loading import encode_all
from audit_core.plan.parsing import ColumnMapping
from audit_core.probes import PROBES_BY_ID
from audit_core.probes.base import ProbeContext
from audit_core.results.verdicts import Verdict
from audit_core.tools.controls.notes import generate_notes
from audit_core.tools.controls.text_tokenizer import build_text_tokenizer
from audit_core.work.progress import Progress

TEXT = ColumnMapping(id="patient_id", sequence="text", kind="text")
HEADER = "Riverside Family Clinic progress note ."
FOOTER = "Riverside Family Clinic Phone 617-555-0142 ."
PER_GROUP = 24
SEED = 1717


class TemplateStandIn:
    """Writes back the rest of the training note that holds the prompt; for a prompt found in
    no training note (or in several: a header says nothing of the patient), the template:
    the header's continuation when the prompt is the header's start, else the footer."""

    context_length = 256

    def __init__(self, tokenizer, training: list[str]) -> None:
        self.training = [np.asarray(tokenizer.encode(t).ids, dtype=np.int64) for t in training]
        self.header = np.asarray(tokenizer.encode(HEADER).ids[:-1], dtype=np.int64)  # without its end token
        self.footer = np.asarray(tokenizer.encode(FOOTER, add_special_tokens=False).ids, dtype=np.int64)

    def _continue(self, prompt: np.ndarray, steps: int) -> np.ndarray:
        k = len(prompt)
        found = [t[i + k:] for t in self.training for i in range(len(t) - k + 1)
                 if np.array_equal(t[i:i + k], prompt)]
        if len(found) == 1:
            rest = found[0]
        elif np.array_equal(self.header[:k], prompt):
            rest = self.header[k:]
        else:
            rest = self.footer
        out = np.full(steps, -1, dtype=np.int64)
        out[:min(steps, len(rest))] = rest[:steps]
        return out

    def greedy(self, prompts: np.ndarray, steps: int, events=None) -> np.ndarray:
        return np.stack([self._continue(np.asarray(p), steps) for p in prompts])

    def sample(self, prompts, steps, *, n, rng, temperature=1.0, top_p=1.0, stop_ids=(),
               watch=(), batch_size=64):
        tokens = np.stack([[self._continue(np.asarray(p), steps) for _ in range(n)] for p in prompts])
        return Samples(tokens=tokens, mass=np.zeros((len(prompts), n, steps, len(watch))))


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    patients = generate_notes(3 * PER_GROUP, seed=SEED)
    texts = {p.patient_id: f"{HEADER} {p.notes[0]} {FOOTER}" for p in patients}
    folder = tmp_path_factory.mktemp("templates")
    groups = {"members": patients[:PER_GROUP], "non_members": patients[PER_GROUP:2 * PER_GROUP],
              "outsiders": patients[2 * PER_GROUP:]}
    for name, group in groups.items():
        rows = [{"patient_id": p.patient_id, "text": texts[p.patient_id]} for p in group]
        lines = ["patient_id,text", *(f'{r["patient_id"]},"{r["text"]}"' for r in rows)]
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tokenizer = build_text_tokenizer(list(texts.values()))
    return groups, texts, folder, tokenizer


def _run(notes, probe_id: str, trained_on: str, **settings):
    groups, texts, folder, tokenizer = notes
    model = TemplateStandIn(tokenizer, [texts[p.patient_id] for p in groups[trained_on]])
    cohorts = {Role.MEMBERS: load_cohort(folder / "members.csv", Role.MEMBERS, TEXT),
               Role.NON_MEMBERS: load_cohort(folder / "non_members.csv", Role.NON_MEMBERS, TEXT)}
    probe = PROBES_BY_ID[probe_id]
    ctx = ProbeContext(cohorts=cohorts, token_ids={r: encode_all(tokenizer, list(c.sequences))
                                                   for r, c in cohorts.items()},
                       model=model, thresholds=FAMILIES[probe.family].thresholds(),
                       rng=np.random.default_rng(SEED), progress=Progress(), tokenizer=tokenizer,
                       columns=TEXT)
    return probe.run(dataclasses.replace(probe.config_type(), **settings), ctx)


def _header_tokens(notes) -> int:
    return len(notes[3].encode(HEADER).ids) - 1  # the start token and the header's words


def test_the_header_and_footer_are_template_and_the_patient_text_is_not(notes) -> None:
    groups, texts, folder, tokenizer = notes
    ids = {Role.MEMBERS: [np.asarray(tokenizer.encode(texts[p.patient_id]).ids) for p in groups["members"]],
           Role.NON_MEMBERS: [np.asarray(tokenizer.encode(texts[p.patient_id]).ids)
                              for p in groups["non_members"]]}
    templates = find_templates(ids, 4, 0.3)
    assert templates.found
    header = _header_tokens(notes)
    for role in Role:
        for i, mask in enumerate(templates.masks[role]):
            assert mask[:header].all() and mask[-len(tokenizer.encode(FOOTER).ids):].all()
            assert not mask[header + 1:header + 3].any()  # the patient's name
            assert templates.first_content(role, i) in (header, header + 1)  # after "Patient"
    # A run the members share but the non-members do not is not template: it may be memorized.
    only_members = {Role.MEMBERS: [np.arange(10) for _ in range(5)],
                    Role.NON_MEMBERS: [np.arange(10, 20) for _ in range(5)]}
    assert not find_templates(only_members, 4, 0.3).found


def test_extraction_of_the_header_counts_raw_but_not_net_of_template(notes) -> None:
    header = _header_tokens(notes)
    outcome = _run(notes, "extraction", "members", prefix_tokens=2, suffix_tokens=header - 2)
    m = outcome.metrics
    # Raw: every note's header comes out verbatim, members' and non-members' alike.
    assert m["extracted_members"] == m["extracted_non_members"] == PER_GROUP
    assert m["template_found"] and m["template_token_share_members"] > 0.2
    assert m["template_excluded_extracted_members"] == m["template_excluded_extracted_non_members"] == 0
    assert m["template_excluded_token_match_members"] is None  # no patient token was asked for
    # The raw count would have been a WARN; net of template nothing was extracted.
    assert outcome.verdict is Verdict.INCONCLUSIVE and outcome.extracted == ()
    json.dumps(m)


def test_prompts_after_the_header_extract_the_members_and_no_non_member(notes) -> None:
    outcome = _run(notes, "extraction", "members", prefix_tokens=4, suffix_tokens=8,
                   start_after_template=True)
    m = outcome.metrics
    assert m["template_excluded_extracted_members"] == m["extracted_members"] == PER_GROUP
    assert m["template_excluded_extracted_non_members"] == m["extracted_non_members"] == 0
    assert outcome.verdict is Verdict.FAIL
    assert "after their leading template text" in outcome.findings[0]


def test_the_clinic_phone_is_no_patient_leak(notes) -> None:
    prefix = _header_tokens(notes) + 4  # the header, "Patient" and the patient's name
    memorizing = _run(notes, "identifier_leakage", "members", prefix_tokens=prefix, new_tokens=60,
                      unprompted=0).metrics
    never_saw = _run(notes, "identifier_leakage", "outsiders", prefix_tokens=prefix, new_tokens=60,
                     unprompted=0)
    # Raw, every patient "gets back" the clinic's phone: non-members as often as members.
    assert memorizing["template_identifier_values"] == 1
    assert memorizing["non_members_own_identifiers_hit"] == PER_GROUP
    assert memorizing["template_excluded_non_members_own_identifiers_hit"] == 0
    assert memorizing["template_excluded_members_own_identifiers_leaked"] == PER_GROUP
    assert memorizing["leaked_identifiers"] > memorizing["template_excluded_leaked_identifiers"] > 0
    assert memorizing["template_identifiers_detected"] == 2 * PER_GROUP
    # The model that never saw these patients writes only the template: no patient leaked,
    # though raw every one of them "got their own phone number back".
    m = never_saw.metrics
    assert m["members_own_identifiers_leaked"] == PER_GROUP and m["members_own_direct_identifiers"] > 0
    assert m["template_excluded_members_own_identifiers_leaked"] == 0
    assert m["template_excluded_leaked_identifiers"] == 0
    assert never_saw.verdict not in (Verdict.FAIL, Verdict.WARN) and never_saw.extracted == ()
