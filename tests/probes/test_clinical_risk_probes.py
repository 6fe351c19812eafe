"""Known answers for T5 (perturbation) and T6 (vulnerable subgroups).

* T5 and T6 are driven by stand-in models whose behaviour is planted exactly: one that
  reveals a patient's sensitive category only for that patient's own age and rare code
  (a memory of one patient), one that reveals it for anyone holding a common code (a
  population pattern), and membership scores planted in one subgroup. The probes must
  find what was planted and nothing where nothing was.
* T5 also runs on the sensitive control, which memorized its planted patients, and on
  the negative control, which never saw them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit_core.clinical.ages import AgeRange, age_steps, parse_age
from audit_core.clinical.prompt_variants import VariantVocabulary, prompt_variants
from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.families import FAMILIES, Family
from audit_core.models.onnx_causal_lm import Samples
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.probes.base import ProbeContext
from audit_core.probes.perturbation import (
    NO_SIGNAL,
    PATIENT_SPECIFIC,
    POPULATION,
    Perturbation,
    classify,
)
from audit_core.probes.vulnerable_strata import age_strata
from audit_core.probes.vulnerable_subgroups import VulnerableSubgroups
from audit_core.results.verdicts import Verdict
from audit_core.stats.bootstrap_curves import RankedAuc
from audit_core.stats.disparity import stratum_disparity
from audit_core.work.progress import Progress
from tests.probes.demo_slice import COLUMNS, clinical_context, flat_loss

# --- building blocks -------------------------------------------------------------------


def test_ages_from_bands_exact_years_and_columns() -> None:
    assert parse_age("AGE_80_89") == AgeRange(80, 89)
    assert parse_age("AGE_90_PLUS") == AgeRange(90, None)
    assert parse_age("AGE//76") == AgeRange(76, 76) and parse_age("87") == AgeRange(87, 87)
    assert parse_age("SEX_F") is None and parse_age("E11.9") is None
    assert AgeRange(80, 89).at_least(86) is None  # a band that straddles the cut cannot say
    assert AgeRange(90, None).at_least(90) and AgeRange(70, 79).at_least(86) is False
    bands = ["AGE_18_29", "AGE_30_39", "AGE_40_49", "SEX_F"]
    assert [s.token for s in age_steps("AGE_30_39", bands, (1,), (-1, 1, 2))] == \
        ["AGE_18_29", "AGE_40_49"]
    years = ["AGE//74", "AGE//75", "AGE//77", "AGE//86"]
    assert [(s.token, s.unit) for s in age_steps("AGE//76", years, (-2, -1, 1, 10), (1,))] == \
        [("AGE//75", "years"), ("AGE//77", "years"), ("AGE//74", "years"), ("AGE//86", "years")]


def test_prompt_variants_move_one_identifier_at_a_time(demo_dir: Path) -> None:
    tokenizer = load_tokenizer(demo_dir / "model")
    vocab = VariantVocabulary.of(tokenizer)
    ids = encode_all(tokenizer, ["AGE_50_59 SEX_F VISIT I10 VISIT GAP_1M E11.9 RX_METFORMIN"])[0]

    def words(x):
        return [vocab.words[i] for i in x]

    variants = prompt_variants(ids, vocab)
    by_kind = {}
    for v in variants:
        by_kind.setdefault(v.kind, []).append(v)
    assert [words(v.ids)[1] for v in by_kind["age"]] == ["AGE_40_49", "AGE_60_69", "AGE_30_39", "AGE_70_79"]
    assert words(by_kind["sex"][0].ids)[2] == "SEX_M"
    assert [words(v.ids)[6] for v in by_kind["time"]] == ["GAP_1W", "GAP_3M"]
    # Left out one at a time: the codes, never the start, end, age, sex, visit or gap tokens.
    assert sorted(vocab.words[v.removed] for v in by_kind["leave_one_out"]) == ["E11.9", "I10", "RX_METFORMIN"]
    for v in variants:  # everything else stays in place
        assert len(v.ids) in (len(ids), len(ids) - 1)


class _Variant:
    def __init__(self, kind, offset, unit, removed=None):
        self.kind, self.offset, self.unit, self.removed = kind, offset, unit, removed


def test_classification_rule_on_known_curves() -> None:
    variants = [_Variant("age", -1, "bands"), _Variant("age", 1, "bands"), _Variant("age", 2, "bands"),
                _Variant("time", -1, "steps"), _Variant("time", 1, "steps"),
                _Variant("leave_one_out", 3, "position", removed=7),
                _Variant("leave_one_out", 4, "position", removed=8)]
    rare = {7}
    peak = np.array([0.1, 0.2, 0.1, 0.9, 0.9, 0.85, 0.9])  # collapses on both age sides only
    assert classify(0.9, variants, peak, rare, 0.5, 0.5) == (PATIENT_SPECIFIC, ("age",))
    one_side = np.array([0.1, 0.85, 0.1, 0.9, 0.9, 0.85, 0.9])  # a slope, not a peak
    assert classify(0.9, variants, one_side, rare, 0.5, 0.5) == (POPULATION, ())
    rests_on_rare = np.array([0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.9])
    assert classify(0.9, variants, rests_on_rare, rare, 0.5, 0.5) == (PATIENT_SPECIFIC, ("rare code",))
    rests_on_common = np.array([0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1])  # code 8 is not rare
    assert classify(0.9, variants, rests_on_common, rare, 0.5, 0.5) == (POPULATION, ())
    assert classify(0.3, variants, peak, rare, 0.5, 0.5) == (NO_SIGNAL, ())


def test_stratum_disparity_finds_a_planted_subgroup_and_not_a_random_one() -> None:
    rng = np.random.default_rng(0)
    inside_m, inside_n = np.arange(400) < 100, np.arange(400) < 100
    members = rng.normal(0, 1, 400) + np.where(inside_m, 1.5, 0.0)
    non_members = rng.normal(0, 1, 400)

    statistic = RankedAuc(members, non_members)  # the AUC of each resample, from its counts
    planted = stratum_disparity(statistic, inside_m, inside_n, np.random.default_rng(1), 300)
    assert planted["value"] > 0.15 and planted["ci"][0] > 0 and planted["p_value"] < 0.01
    random_in = np.random.default_rng(2).random(400) < 0.25
    other = stratum_disparity(statistic, random_in, random_in, np.random.default_rng(1), 300)
    assert other["ci"][0] < 0 < other["ci"][1] and other["p_value"] > 0.05


# --- stand-in models -------------------------------------------------------------------


@dataclasses.dataclass
class PlantedModel:
    """Answers `sample` with a category mass of `high` when `reveals(prompt)` and 0.001
    otherwise, at every step of every sample: a model whose only behaviour is the planted one."""

    reveals: object
    high: float = 0.2
    context_length: int = 128
    vocab_size: int = 1024

    def logits(self, input_ids, attention_mask):
        """The carriers' one forward pass: no preference for any token (nothing planted)."""
        return np.zeros((*input_ids.shape, self.vocab_size), dtype=np.float32)

    def sample(self, prompts, steps, *, n, rng, temperature=1.0, top_p=1.0, stop_ids=(),
               watch=(), batch_size=64):
        mass = np.full((len(prompts), n, steps, len(watch)), 0.001)
        for b, prompt in enumerate(prompts):
            if self.reveals(np.asarray(prompt)):
                mass[b] = self.high
        return Samples(tokens=np.full((len(prompts), n, steps), -1, dtype=np.int64), mass=mass)


def _memorized_patient(demo_slice):
    """A member with a sensitive category after the first 20 codes and, in that prompt, a
    code no other member has: the patient a memorizing model would single out."""
    from audit_core.clinical.sensitive_inputs import sensitive_inputs

    _cohorts, token_ids, tokenizer = demo_slice
    ctx = clinical_context(demo_slice, PlantedModel(lambda p: False), "perturbation", flat_loss(demo_slice))
    inputs = sensitive_inputs(ctx, 20, "", "test")
    counts: dict[int, int] = {}
    for ids in token_ids[Role.MEMBERS]:
        for token in {int(i) for i in ids}:
            counts[token] = counts.get(token, 0) + 1
    vocab = VariantVocabulary.of(tokenizer)
    for i, prompt in enumerate(inputs.prompts[Role.MEMBERS]):
        carries = [c for c in inputs.categories if inputs.after[Role.MEMBERS][c][i] == 1.0]
        rare = [int(t) for t in prompt[1:] if counts.get(int(t)) == 1 and not vocab.is_identifier(int(t))]
        if carries and rare:
            return i, int(prompt[1]), rare[0], carries
    raise AssertionError("the demo slice has no member with a rare prompt code and a later sensitive code")


def _run_perturbation(demo_slice, model):
    probe = Perturbation()
    config = dataclasses.replace(probe.config_type(), samples=2, horizon=8, max_records=60,
                                 top_membership=3, max_flagged=10)
    return probe.run(config, clinical_context(demo_slice, model, "perturbation", flat_loss(demo_slice)))


def test_perturbation_calls_a_memory_of_one_patient_patient_specific(demo_slice) -> None:
    record, age_token, rare_code, _carries = _memorized_patient(demo_slice)

    def reveals(prompt: np.ndarray) -> bool:  # that patient's own age and rare code, nothing else
        return int(prompt[1]) == age_token and rare_code in prompt

    outcome = _run_perturbation(demo_slice, PlantedModel(reveals))
    m = outcome.metrics
    assert m["patient_specific_signals_members"] >= 1 and m["population_signals_members"] == 0
    assert m["patient_specific_signals_non_members"] == 0
    assert outcome.scores[Role.MEMBERS][record] == 1.0
    assert outcome.verdict in (Verdict.WARN, Verdict.FAIL)
    assert any("under age" in f and "under rare code" in f for f in outcome.findings)


def test_perturbation_calls_a_pattern_of_common_codes_a_population_pattern(demo_slice) -> None:
    tokenizer = demo_slice[2]
    common = tokenizer.token_to_id("VISIT")  # every record has it: the model reveals for all
    everyone = PlantedModel(lambda prompt: common in prompt)
    outcome = _run_perturbation(demo_slice, everyone)
    m = outcome.metrics
    assert m["population_signals_members"] >= 5 and m["population_signals_non_members"] >= 5
    assert m["patient_specific_signals_members"] == 0 == m["patient_specific_signals_non_members"]
    assert outcome.verdict is Verdict.PASS


def _run_subgroups(demo_slice, loss):
    probe = VulnerableSubgroups()
    config = dataclasses.replace(probe.config_type(), samples=1, horizon=4, max_records=40,
                                 resamples=300)
    return probe.run(config, clinical_context(demo_slice, PlantedModel(lambda p: False), "subgroups", loss))


def test_vulnerable_subgroups_names_the_subgroup_planted_at_risk(demo_slice) -> None:
    cohorts = demo_slice[0]
    loss = flat_loss(demo_slice)
    women = cohorts[Role.MEMBERS].subgroups["sex"] == "SEX_F"
    loss[Role.MEMBERS] = loss[Role.MEMBERS] + np.where(women, 1.5, 0.0)  # memorized women only
    outcome = _run_subgroups(demo_slice, loss)
    rows = {(r["column"], r["value"]): r for r in outcome.subgroups}
    assert rows[("sex", "SEX_F")]["at_risk"] and rows[("sex", "SEX_F")]["auc_disparity_lower_bound"] > 0
    assert rows[("sex", "SEX_F")]["at_risk_by"] == ["membership"]
    assert not rows[("sex", "SEX_M")]["at_risk"]
    assert outcome.headline.text.split("strongest: ")[1].startswith("sex = SEX_F")
    # At higher risk than the cohort and, on its own, past the membership FAIL bound.
    assert rows[("sex", "SEX_F")]["auc_ci"][0] > 0.75 and outcome.verdict is Verdict.FAIL
    for row in outcome.subgroups:  # small cells show no figure, and no count under 11
        if row["suppressed"]:
            assert row["hidden_counts"] and row["auc"] is None and not row["at_risk"]
        for count in ("n_members", "n_non_members"):
            assert (row[count] is None) == (count in row["hidden_counts"])
            assert row[count] is None or row[count] >= 11
    assert {r["column"] for r in outcome.subgroups} >= {"age_band", "sex", "rare_codes", "age",
                                                        "sensitive_diagnosis"}


def test_vulnerable_subgroups_finds_nobody_at_risk_when_nothing_was_planted(demo_slice) -> None:
    outcome = _run_subgroups(demo_slice, flat_loss(demo_slice))
    assert not any(r["at_risk"] for r in outcome.subgroups)
    assert outcome.verdict is Verdict.PASS


def test_age_strata_say_when_bands_cannot_resolve_85(demo_slice) -> None:
    strata = age_strata(demo_slice[0])
    assert [s.value for s in strata] == ["80 and over (the age bands do not resolve 'over 85')",
                                        "90 and over"]
    members = demo_slice[0][Role.MEMBERS]
    over_90 = np.array([s.split()[0] == "AGE_90_PLUS" for s in members.sequences])
    np.testing.assert_array_equal(strata[1].members, over_90)


# --- T5 on real controls ---------------------------------------------------------------

SENSITIVE = Path(__file__).resolve().parents[2] / "resources" / "controls" / "sensitive"
NEGATIVE = Path(__file__).resolve().parents[2] / "resources" / "controls" / "negative"


@pytest.fixture(scope="module")
def sensitive_cohorts(tmp_path_factory):
    """The sensitive control's 8 planted members (a sensitive code behind a rare code pair,
    memorized) plus 40 other members, and 48 non-members."""
    import json

    truth = json.loads((SENSITIVE / "ground_truth.json").read_text())
    planted = {p["patient_id"] for p in truth["planted"]}
    members = pd.read_csv(SENSITIVE / "members.csv", dtype=str)
    members = pd.concat([members[members.patient_id.isin(planted)],
                         members[~members.patient_id.isin(planted)].head(40)])
    folder = tmp_path_factory.mktemp("sensitive_t5")
    cohorts = {}
    for role, frame in ((Role.MEMBERS, members),
                        (Role.NON_MEMBERS, pd.read_csv(SENSITIVE / "non_members.csv", dtype=str).head(48))):
        frame.to_csv(folder / f"{role.value}.csv", index=False)
        cohorts[role] = load_cohort(folder / f"{role.value}.csv", role, COLUMNS)
    return cohorts, planted


def _perturb_real(model_dir: Path, sensitive_cohorts):
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.tokenizer_loading import pad_token_id
    from audit_core.passes.chunked_scoring import reduce_all
    from audit_core.passes.token_scores import score_tokens

    cohorts, _ = sensitive_cohorts
    model = OnnxCausalLM(inspect_model(model_dir), threads=2)
    tokenizer = load_tokenizer(model_dir)
    ids = {r: encode_all(tokenizer, list(c.sequences)) for r, c in cohorts.items()}
    scores = {r: score_tokens(model, ids[r], batch_size=32, pad_id=pad_token_id(tokenizer),
                              progress=Progress()) for r in Role}
    probe = Perturbation()
    # The planted pair ends a 10-code prompt (controls/sensitive.py), T2's "10 codes" tier.
    config = dataclasses.replace(probe.config_type(), prompt_tokens=10, max_records=0,
                                 top_membership=3, samples=4, horizon=12)
    ctx = ProbeContext(cohorts=cohorts, token_ids=ids, reduced=reduce_all(probe, config, scores), model=model,
                       thresholds=FAMILIES[Family.PERTURBATION].thresholds(), rng=np.random.default_rng(5),
                       progress=Progress(), tokenizer=tokenizer, columns=COLUMNS)
    return probe.run(config, ctx)


def test_perturbation_finds_the_planted_memories_of_the_sensitive_control(sensitive_cohorts) -> None:
    cohorts, planted = sensitive_cohorts
    outcome = _perturb_real(SENSITIVE / "model", sensitive_cohorts)
    specific = {cohorts[Role.MEMBERS].ids[i] for i in np.flatnonzero(outcome.scores[Role.MEMBERS] == 1.0)}
    assert len(specific) >= 2 and specific <= planted  # only planted members, and more than one
    assert outcome.metrics["patient_specific_signals_non_members"] == 0
    assert outcome.verdict in (Verdict.WARN, Verdict.FAIL)
    assert any("under rare code" in f for f in outcome.findings)


def test_perturbation_reports_no_finding_on_the_control_that_never_saw_them(sensitive_cohorts) -> None:
    outcome = _perturb_real(NEGATIVE / "model", sensitive_cohorts)
    assert outcome.metrics["patient_specific_signals_members"] == 0
    assert outcome.verdict is Verdict.PASS
