"""The conformance suite: every registered probe keeps the same promises.

Runs each probe in PROBES on a small slice of the demo cohorts with the real ONNX model.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from pathlib import Path

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.families import FAMILIES, Family
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, pad_token_id
from audit_core.passes.chunked_scoring import reduce_all, token_level_reducer
from audit_core.passes.token_scores import TokenScores, score_tokens
from audit_core.plan.parsing import PROBE_PATH_SETTINGS, ColumnMapping, plan_from_dict
from audit_core.probes import PROBES
from audit_core.probes.base import ProbeContext
from audit_core.results.verdicts import Verdict
from audit_core.settings import build_settings, describe, settings_dict
from audit_core.work.progress import Cancelled, CancelToken, Progress

CANARY_MANIFEST = Path(__file__).resolve().parents[2] / "resources/controls/canaries/canaries/manifest.json"
COLUMNS = ColumnMapping(id="patient_id", sequence="codes", kind="codes", subgroups=("age_band", "sex"))
# This suite's shared context is a causal language model; the probes of other model kinds
# keep the same promises (tests/probes/kind_conformance.py) in tests/tabular and tests/encoders.
LM_PROBES = tuple(p for p in PROBES if p.needs.applies_to("causal_lm"))


@pytest.fixture(scope="module")
def shared(tmp_path_factory, demo_dir: Path, tiny_negative):
    """48 + 48 demo records scored by the demo model and, as the reference model, by the
    negative control (same tokenizer, never saw them)."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("conformance")
    cohorts, token_ids, scores, reference_scores = {}, {}, {}, {}
    model = OnnxCausalLM(inspect_model(demo_dir / "model"))
    reference = OnnxCausalLM(inspect_model(tiny_negative.model_dir))
    tokenizer = load_tokenizer(demo_dir / "model")
    for role, name in ((Role.MEMBERS, "members.csv"), (Role.NON_MEMBERS, "non_members.csv")):
        path = folder / name
        pd.read_csv(demo_dir / name, dtype=str).head(48).to_csv(path, index=False)
        cohorts[role] = load_cohort(path, role, COLUMNS)
        token_ids[role] = encode_all(tokenizer, list(cohorts[role].sequences))
        scores[role] = score_tokens(model, token_ids[role], batch_size=16,
                                    pad_id=pad_token_id(tokenizer), progress=Progress())
        reference_scores[role] = score_tokens(reference, token_ids[role], batch_size=16,
                                              pad_id=pad_token_id(tokenizer), progress=Progress())
    return cohorts, token_ids, scores, model, reference_scores


def _context(shared, probe, progress: Progress, seed: int = 1, reference: bool = True) -> ProbeContext:
    """What the runner hands the probe: its own reduction of the scoring pass, made with the
    settings `_quick` gives it (and the reference model's pass, unless `reference` is off)."""
    cohorts, token_ids, scores, model, reference_scores = shared
    reduced = (reduce_all(probe, _quick(probe), scores, reference_scores if reference else None,
                          token_ids=token_ids, vocabulary=load_tokenizer(model.info.folder).get_vocab())
               if probe.needs.token_scores else {})
    return ProbeContext(cohorts=cohorts, token_ids=token_ids, reduced=reduced, model=model,
                        reference_scored=reference,
                        thresholds=FAMILIES[probe.family].thresholds(),
                        rng=np.random.default_rng(seed), progress=progress,
                        tokenizer=load_tokenizer(model.info.folder), columns=COLUMNS)


def _quick(probe):
    config = probe.config_type()
    if probe.id == "extraction":  # keep decoding short in the conformance run
        config = dataclasses.replace(config, prefix_tokens=8, suffix_tokens=6, batch_size=16)
    if probe.id == "trajectory":  # few patients, short samples
        config = dataclasses.replace(config, tiers="nothing,demographics,10", samples=2, horizon=8,
                                     max_records=12, baseline_samples=4)
    if probe.id == "sensitive_attributes":
        config = dataclasses.replace(config, tiers="demographics,10", samples=2, horizon=8,
                                     max_records=12, baseline_samples=4)
    if probe.id in ("perturbation", "vulnerable_subgroups"):  # few patients, short samples
        config = dataclasses.replace(config, samples=1, horizon=6, max_records=16)
    if probe.id in ("recall", "con_recall"):  # one or two more passes: short prefix, few records
        config = dataclasses.replace(config, prefix_tokens=16, max_records=24)
    if probe.id == "reidentification":
        config = dataclasses.replace(config, generated=16, max_tokens=24)
    if probe.id == "canary_exposure":  # the canary control's set, estimated from a small sample
        config = dataclasses.replace(config, manifest=str(CANARY_MANIFEST), max_enumerate=2,
                                     estimate_samples=50)
    return config


def test_ids_are_unique_and_equal_module_names() -> None:
    ids = [p.id for p in PROBES]
    assert len(ids) == len(set(ids))
    for probe in PROBES:
        assert type(probe).__module__ == f"audit_core.probes.{probe.id}"
        module = importlib.import_module(type(probe).__module__)
        assert module.__doc__ and "20" in module.__doc__, "the module docstring cites its paper"
        assert isinstance(probe.family, Family) and probe.family in FAMILIES
        assert probe.title and probe.question and probe.citation


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_the_plan_resolves_exactly_the_settings_a_probe_declares_as_files(probe) -> None:
    """The plan sits below the probes, so it resolves file settings by key
    (PROBE_PATH_SETTINGS); a probe's own declaration (`path_settings`) must agree with it, or a
    relative path would be read from the working folder, or a text setting taken for a file."""
    declared = set(getattr(probe, "path_settings", ()))
    fields = {f.name for f in dataclasses.fields(probe.config_type)}
    assert declared <= fields
    assert declared == fields & set(PROBE_PATH_SETTINGS)
    plan = plan_from_dict({"model": {"path": "m"}, "data": {"members": "a", "non_members": "b"},
                           "probes": {probe.id: dict.fromkeys(declared, "x.json")}},
                          base=Path("/plans"))
    assert plan.probes is not None
    assert plan.probes[probe.id] == dict.fromkeys(declared, str(Path("/plans/x.json")))


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_config_is_frozen_documented_and_round_trips_through_the_plan(probe) -> None:
    config = probe.config_type()
    assert dataclasses.is_dataclass(config) and type(config).__dataclass_params__.frozen
    for info in describe(probe.config_type):
        assert info.label and info.label != info.name
    assert build_settings(probe.config_type, settings_dict(config), f"probes.{probe.id}") == config


@pytest.mark.parametrize("probe", [p for p in PROBES if p.needs.token_scores], ids=lambda p: p.id)
def test_token_level_probes_reduce_chunk_by_chunk_to_what_the_whole_pass_gives(shared, probe) -> None:
    """The shared pass is streamed (scoring/chunked.py): each chunk of records is reduced
    and let go. A reduction must be one value per record that depends on that record only,
    so reducing in chunks of any size gives the same values as reducing the whole cohort.
    A probe with several signals per record (CAMIA) reduces to one row per record."""
    _, token_ids, scores, model, reference_scores = shared
    config = _quick(probe)
    reduce = token_level_reducer(probe, config, token_ids, load_tokenizer(model.info.folder).get_vocab())
    for role in Role:
        whole = reduce(scores[role], reference_scores[role])
        assert whole.shape[:1] == (len(scores[role].logprobs),) and whole.ndim in (1, 2)
        assert np.isfinite(whole).all()
        pieces = [reduce(_rows(scores[role], rows), _rows(reference_scores[role], rows))
                  for rows in (slice(0, 5), slice(5, 6), slice(6, None))]
        np.testing.assert_array_equal(np.concatenate(pieces), whole)


def _rows(scores: TokenScores, rows: slice) -> TokenScores:
    return TokenScores(logprobs=scores.logprobs[rows], means=scores.means[rows],
                       stds=scores.stds[rows], windows=scores.windows[rows],
                       targets=scores.targets[rows], tops=scores.tops[rows])


@pytest.mark.parametrize("probe", LM_PROBES, ids=lambda p: p.id)
def test_runs_with_monotonic_progress_finite_metrics_and_clean_findings(shared, probe) -> None:
    seen: list[float] = []
    outcome = probe.run(_quick(probe), _context(shared, probe, Progress(lambda f, m: seen.append(f))))
    assert seen and seen == sorted(seen) and all(0 <= f <= 1 for f in seen)
    assert isinstance(outcome.verdict, Verdict)
    for key, value in outcome.metrics.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            assert v is None or isinstance(v, (bool, int)) or math.isfinite(v), key
    cohorts = shared[0]
    for role in Role:
        assert len(outcome.scores[role]) == len(cohorts[role])
    # Naming a declared subgroup's value (a stratum) is intended, even where the value is
    # also a token of the records (the demo's age bands are).
    strata = {str(v) for c in cohorts.values() for values in c.subgroups.values() for v in values}
    record_tokens = {tok for c in cohorts.values() for s in c.sequences for tok in s.split()
                     if any(ch.isdigit() for ch in tok)} - strata
    ids = {i for c in cohorts.values() for i in c.ids}
    for sentence in outcome.findings + (outcome.headline.text,):
        words = set(sentence.replace(",", " ").replace("(", " ").replace(")", " ").split())
        assert not words & ids, "a finding names a record id"
        assert not words & record_tokens, "a finding quotes record content"


@pytest.mark.parametrize("probe", LM_PROBES, ids=lambda p: p.id)
def test_cancel_is_honoured(shared, probe) -> None:
    token = CancelToken()

    def cancel_after_first(fraction: float, message: str) -> None:
        token.cancel()

    with pytest.raises(Cancelled):
        probe.run(_quick(probe), _context(shared, probe, Progress(cancel_after_first, token)))


@pytest.mark.parametrize("probe", LM_PROBES, ids=lambda p: p.id)
def test_same_seed_gives_the_same_result(shared, probe) -> None:
    first = probe.run(_quick(probe), _context(shared, probe, Progress(), seed=5))
    second = probe.run(_quick(probe), _context(shared, probe, Progress(), seed=5))
    assert first.metrics == second.metrics and first.verdict == second.verdict
    assert first.subgroups == second.subgroups
    for role in Role:
        np.testing.assert_array_equal(first.scores[role], second.scores[role])


@pytest.mark.parametrize("probe", [p for p in LM_PROBES if p.family == "membership"], ids=lambda p: p.id)
def test_membership_probes_state_their_strength_and_report_every_stratum(shared, probe) -> None:
    outcome = probe.run(_quick(probe), _context(shared, probe, Progress()))
    assert outcome.attack_strength in ("reference-free", "reference-calibrated")
    keys = {"column", "value", "n_members", "n_non_members", "suppressed", "auc", "auc_ci",
            "tpr_at_primary_fpr", "q_value", "significant"}
    columns = {row["column"] for row in outcome.subgroups}
    assert columns == {"age_band", "sex", "rare_codes"}
    for row in outcome.subgroups:
        assert keys <= set(row)
        # A count under 11 is hidden (and so is one that would give it away); every count
        # shown is at least 11; a stratum with a hidden count shows no figure.
        for count in ("n_members", "n_non_members"):
            if count in row["hidden_counts"]:
                assert row[count] is None and row["suppressed"]
            else:
                assert row[count] >= 11
        if row["suppressed"]:
            assert row["hidden_counts"] and row["auc"] is None and not row["significant"]
        else:
            assert 0 <= row["auc_ci"][0] <= row["auc"] <= row["auc_ci"][1] <= 1


def test_rmia_without_a_reference_is_a_population_rank_that_ranks_like_loss(shared) -> None:
    from audit_core.probes.loss import Loss
    from audit_core.probes.rmia import Rmia

    rmia, loss = Rmia(), Loss()
    context = _context(shared, rmia, Progress(), reference=False)
    outcome = rmia.run(rmia.config_type(), context)
    baseline = loss.run(loss.config_type(), _context(shared, loss, Progress()))
    assert outcome.attack_strength == "reference-free"
    assert all(0 <= s <= 1 for role in Role for s in outcome.scores[role])
    # ties only where a non-member beats every other non-member
    assert abs(outcome.metrics["auc"] - baseline.metrics["auc"]) < 0.01
