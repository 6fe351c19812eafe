"""Notes get the tests that fit notes (issue 20, part 4).

* The lexicon of sensitive conditions named in text: whole words, case-insensitive,
  acronyms as written, editable by the same plan string as the code sets.
* T2 and T6 on notes, driven by a stand-in model whose behaviour is planted exactly: one
  that writes a planted member's sensitive condition back when prompted with the start of
  that member's note (a memory), one that never does. T2 must name the planted members and
  FAIL on the first, and find nothing on the second; T6 must compare disclosure on notes.
* Which tests apply: T1 and T5 (codes) are left out of a notes audit with the reason, and
  refused when a notes plan names them; the code audit is unchanged.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit_core.clinical.code_sets import BUILTIN_CODE_SETS
from audit_core.clinical.sensitive_notes import after_label, mention_spans, prompt_without_mentions
from audit_core.clinical.sensitive_terms import BUILTIN_TERM_SETS, parse_sensitive_terms
from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.errors import PlanError
from audit_core.families import FAMILIES
from audit_core.models.onnx_causal_lm import Samples
from audit_core.models.tokenizer_loading import encode_all
from audit_core.plan.parsing import ColumnMapping, load_plan
from audit_core.probes import PROBES_BY_ID
from audit_core.probes.base import ProbeContext
from audit_core.probes.selection import left_out_for_records, resolve_probes
from audit_core.probes.sensitive_attributes import SensitiveAttributes
from audit_core.probes.vulnerable_subgroups import VulnerableSubgroups
from audit_core.results.verdicts import Verdict
from audit_core.tools.controls.text_tokenizer import build_text_tokenizer
from audit_core.work.progress import Progress
from tests.conftest import DEMO, write_plan
from tests.printed_tokens import pdf_text_if_readable

TEXT = ColumnMapping(id="patient_id", sequence="text", kind="text")
OPIOIDS = next(t for t in BUILTIN_TERM_SETS if t.name == "opioids")

# --- the lexicon -----------------------------------------------------------------------


def _named(text: str, name: str, spec: str = "") -> bool:
    return next(t for t in parse_sensitive_terms(spec, "test") if t.name == name).mentioned(text)


def test_the_lexicon_matches_whole_words_in_any_case_and_acronyms_as_written() -> None:
    assert _named("Assessment: Opioid  Use\nDisorder, on methadone maintenance", "opioids")
    assert _named("history of HEROIN use", "opioids") and _named("OUD, stable", "opioids")
    assert not _named("the heroine of the story", "opioids")  # a whole word, not a prefix
    assert not _named("should use hearing aids", "hiv_sti")  # "aids" is not the acronym AIDS
    assert _named("AIDS-defining illness", "hiv_sti") and _named("hiv negative", "hiv_sti")
    assert _named("s/p elective termination of pregnancy", "reproductive_health")
    assert _named("generalized anxiety disorder", "mental_health")
    assert not _named("no complaints", "mental_health")


def test_the_lexicon_has_the_code_sets_categories_and_is_edited_like_them() -> None:
    assert [t.name for t in BUILTIN_TERM_SETS] == [s.name for s in BUILTIN_CODE_SETS]
    edited = parse_sensitive_terms("opioids=kratom use; eating_disorders=anorexia nervosa;alcohol=", "k")
    names = [t.name for t in edited]
    assert "alcohol" not in names and names[-1] == "eating_disorders"
    opioids = next(t for t in edited if t.name == "opioids")
    assert opioids.wordings == ("kratom use",) and opioids.label == "Opioid use"
    for bad in ("opioids", "Bad Name=x", "x=<script>"):
        with pytest.raises(PlanError, match="'k'"):
            parse_sensitive_terms(bad, "k")
    with pytest.raises(PlanError, match="drops every"):
        parse_sensitive_terms(";".join(f"{t.name}=" for t in BUILTIN_TERM_SETS), "k")


def test_a_mention_is_found_in_tokens_and_left_out_of_the_prompt() -> None:
    text = "Patient Ann Lee . Seen for pain . Assessment opioid use disorder . Plan naloxone ."
    tokenizer = build_text_tokenizer([text])
    ids = encode_all(tokenizer, [text])[0]
    (spans,) = mention_spans(tokenizer, [text], [ids], [OPIOIDS])
    words = ["[BOS]", *text.split(), "[EOS]"]
    assert [words[a:b] for a, b in spans["opioids"]] == [["opioid", "use", "disorder"], ["naloxone"]]
    cut = 11  # the prompt ends inside "opioid use disorder": none of it may stay
    prompt = prompt_without_mentions(ids, cut, spans)
    assert [tokenizer.id_to_token(int(i)) for i in prompt] == words[:10]
    assert after_label(spans["opioids"], 3) == 1.0  # named after a short prompt
    assert np.isnan(after_label(spans["opioids"][:1], cut))  # only inside the prompt: no label
    assert after_label([], cut) == 0.0


# --- T2 and T6 on notes, with a planted stand-in model ------------------------------------

_PLANTED = 8  # members whose condition the "memorizing" model writes back


def _note(name: str, condition: str) -> str:
    return (f"Patient {name} MRN 4821 . Seen for back pain . Assessment {condition} . "
            "Plan return in three months .")


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    """40 members and 40 non-members, 10 of each with opioid use disorder in their note;
    the first 8 members' names are what the memorizing stand-in model recognises."""
    folder = tmp_path_factory.mktemp("notes_t2")
    frames = {}
    for role, prefix in ((Role.MEMBERS, "M"), (Role.NON_MEMBERS, "N")):
        rows = [{"patient_id": f"{prefix}{i:03d}",
                 "text": _note(f"{prefix}name{i}", "opioid use disorder" if i < 10 else "migraine")}
                for i in range(40)]
        frames[role] = pd.DataFrame(rows)
        frames[role].to_csv(folder / f"{role.value}.csv", index=False)
    tokenizer = build_text_tokenizer([t for f in frames.values() for t in f.text])
    cohorts = {r: load_cohort(folder / f"{r.value}.csv", r, TEXT) for r in Role}
    token_ids = {r: encode_all(tokenizer, list(c.sequences)) for r, c in cohorts.items()}
    return cohorts, token_ids, tokenizer


@dataclasses.dataclass
class WritesBack:
    """Continues a prompt with "opioid use disorder" when it holds a planted member's name,
    with "migraine" otherwise: a model whose only memory is the planted one."""

    tokenizer: object
    recognised: frozenset
    context_length: int = 128

    def sample(self, prompts, steps, *, n, rng, temperature=1.0, top_p=1.0, stop_ids=(),
               watch=(), batch_size=64):
        tokens = np.full((len(prompts), n, steps), -1, dtype=np.int64)
        for b, prompt in enumerate(prompts):
            revealed = bool(self.recognised & {int(i) for i in prompt})
            words = "opioid use disorder ." if revealed else "migraine ."
            ids = self.tokenizer.encode(words, add_special_tokens=False).ids[:steps]
            tokens[b, :, :len(ids)] = ids
        return Samples(tokens=tokens, mass=np.zeros((len(prompts), n, steps, len(watch))))


def _context(notes, model, family: str) -> ProbeContext:
    cohorts, token_ids, tokenizer = notes
    loss = {r: np.random.default_rng(4).normal(0, 1, len(token_ids[r])) for r in Role}
    return ProbeContext(cohorts=cohorts, token_ids=token_ids, reduced=loss, model=model,
                        thresholds=FAMILIES[family].thresholds(), rng=np.random.default_rng(3),
                        progress=Progress(), tokenizer=tokenizer, columns=TEXT)


def _model(notes, planted: int) -> WritesBack:
    tokenizer = notes[2]
    return WritesBack(tokenizer, frozenset(tokenizer.token_to_id(f"Mname{i}") for i in range(planted)))


def _t2(notes, planted: int):
    probe = SensitiveAttributes()
    config = dataclasses.replace(probe.config_type(), tiers="demographics,3", samples=2, horizon=8,
                                 max_records=0, baseline_samples=2)
    return probe.run(config, _context(notes, _model(notes, planted), "attribute"))


def test_t2_on_notes_names_the_members_whose_condition_the_model_writes_back(notes) -> None:
    outcome = _t2(notes, _PLANTED)
    assert outcome.verdict is Verdict.FAIL
    m = outcome.metrics
    assert m["categories_assessed"] == 1 and m["flagged_members"] == _PLANTED
    assert m["flagged_non_members"] == 0 and m["auroc_gap_opioids_3"] > 0.3
    scores = outcome.scores[Role.MEMBERS]
    assert (scores[:_PLANTED] == 1.0).all() and np.nanmax(scores[_PLANTED:]) == 0.0
    said = " ".join(outcome.findings)
    assert "conditions the note names" in said and "Opioid use" in said
    assert "Not tested" in said  # categories no wording of which the vocabulary can write


def test_t2_on_notes_finds_nothing_when_the_model_remembers_no_one(notes) -> None:
    outcome = _t2(notes, 0)
    assert outcome.verdict is Verdict.PASS
    assert outcome.metrics["flagged_members"] == 0 and outcome.metrics["categories_assessed"] == 1


def test_t6_on_notes_compares_disclosure_of_members_and_non_members(notes) -> None:
    probe = VulnerableSubgroups()
    config = dataclasses.replace(probe.config_type(), prompt_tokens=3, samples=1, horizon=8,
                                 max_records=0, resamples=200)
    outcome = probe.run(config, _context(notes, _model(notes, _PLANTED), "subgroups"))
    assert outcome.metrics["disclosure_gap"] is not None and outcome.metrics["disclosure_gap"] > 0.3
    carriers = [r for r in outcome.subgroups if r["column"] == "sensitive_diagnosis"]
    assert [r["value"] for r in carriers] == ["Opioid use (carriers)"]


# --- which tests apply to notes ----------------------------------------------------------


def _plan(tmp_path: Path, kind: str, probes: str | None):
    path = write_plan(tmp_path, model=DEMO / "model", members=DEMO / "members.csv",
                      non_members=DEMO / "non_members.csv", probes=probes or "")
    path.write_text(path.read_text().replace('kind = "codes"', f'kind = "{kind}"'))
    return load_plan(path)


def test_a_notes_audit_leaves_the_code_tests_out_with_the_reason(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "text", None)
    ids = [p.id for p, _ in resolve_probes(plan)]
    assert "trajectory" not in ids and "perturbation" not in ids
    assert {"sensitive_attributes", "vulnerable_subgroups", "identifier_leakage"} <= set(ids)
    left_out = left_out_for_records(plan)
    assert [x["id"] for x in left_out] == ["trajectory", "perturbation"]
    assert all("free text" in x["reason"] for x in left_out)
    assert all("medical codes" in PROBES_BY_ID[p].needs.describe() for p in ("trajectory", "perturbation"))
    code = _plan(tmp_path, "codes", None)  # a code audit keeps them, and lists nothing
    assert {"trajectory", "perturbation"} <= {p.id for p, _ in resolve_probes(code)}
    assert left_out_for_records(code) == []


@pytest.mark.parametrize("probe_id", ["trajectory", "perturbation"])
def test_a_notes_plan_that_names_a_code_test_is_refused_with_the_reason(tmp_path: Path, probe_id: str) -> None:
    with pytest.raises(PlanError, match=f"'probes.{probe_id}' does not apply to these records: .*free text"):
        resolve_probes(_plan(tmp_path, "text", f"[probes.{probe_id}]\n"))


def test_code_sets_are_checked_in_the_syntax_of_the_records(tmp_path: Path) -> None:
    wordings = '[probes.sensitive_attributes]\ncode_sets = "opioids=opioid use disorder,heroin"\n'
    (_probe, config), = resolve_probes(_plan(tmp_path, "text", wordings))
    assert config.code_sets.startswith("opioids=")
    with pytest.raises(PlanError, match="probes.sensitive_attributes.code_sets"):
        resolve_probes(_plan(tmp_path, "codes", wordings))  # wordings are no ICD-10 prefixes


# --- the notes control audited as a new user would: every default probe -----------------

NOTES = Path(__file__).resolve().parents[2] / "resources" / "controls" / "notes"


@pytest.fixture(scope="module")
def notes_default_audit(tmp_path_factory):
    """`mnemoscope run` on the clinical-notes control with no [probes] table (about 20 s)."""
    import os
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("notes_default")
    plan = folder / "plan.toml"
    plan.write_text(f'[audit]\ntitle = "Notes, default probes"\nseed = 20261205\n\n'
                    f'[model]\npath = "{NOTES / "model"}"\nbatch_size = 32\n\n'
                    f'[data]\nmembers = "{NOTES / "members.csv"}"\n'
                    f'non_members = "{NOTES / "non_members.csv"}"\n\n'
                    '[data.columns]\nid = "patient_id"\nsequence = "text"\nkind = "text"\n')
    out = folder / "out"
    done = subprocess.run([sys.executable, "-m", "audit_core", "run", str(plan), "--out", str(out)],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(NOTES.parents[2])})
    return done, out


def test_a_notes_audit_with_default_probes_runs_only_what_applies_without_a_traceback(
        notes_default_audit) -> None:
    import json

    done, out = notes_default_audit
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert not (out / "mnemoscope-error.log").exists()
    # Said before the run, with the reason.
    assert "left out: Trajectory reconstruction (T1)" in done.stderr
    assert "left out: Perturbation of identifiers (T5)" in done.stderr
    results = json.loads((out / "results.json").read_text())
    verdicts = {p["id"]: p["verdict"] for p in results["probes"]}
    assert "trajectory" not in verdicts and "perturbation" not in verdicts
    assert "error" not in verdicts.values()
    assert [x["id"] for x in results["not_applicable"]] == ["trajectory", "perturbation"]
    # The notes-only elicitation joins the default suite: from their names the model trained
    # on the members' notes gives their other identifiers back.
    assert verdicts["elicitation"] == "fail"
    # T2 compares members and non-members on the conditions the notes name ("anxiety"): the
    # control's notes vary their assessment from visit to visit, so none is memorised.
    t2 = next(p for p in results["probes"] if p["id"] == "sensitive_attributes")
    assert t2["metrics"]["categories_assessed"] >= 1 and t2["verdict"] == "pass"
    t6 = next(p for p in results["probes"] if p["id"] == "vulnerable_subgroups")
    assert t6["metrics"]["disclosure_gap"] is not None
    pdf = pdf_text_if_readable(out / "report.pdf")
    if pdf is not None:  # poppler-utils; the checks above stand without it
        text = " ".join(pdf.split())
        assert "Traceback" not in text
        assert "trajectory reconstruction (T1) (not applicable: it reads sequences of medical codes" in text
