"""Known answers on the encoder controls: the encoder that memorized the members is flagged
by the distance attack and by pseudo-likelihood; the one that never saw them is not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit_core.cli.main import main
from audit_core.plan.parsing import load_plan
from audit_core.results.verdicts import Verdict
from audit_core.run.runner import run_audit
from audit_core.stats.neighbour_similarity import neighbour_similarity
from tests.encoders.conftest import encoder_plan


@pytest.fixture(scope="module")
def memorizing_result(encoder_controls):
    return run_audit(load_plan(encoder_plan(encoder_controls, "memorizing")))


@pytest.fixture(scope="module")
def unseen_result(encoder_controls):
    return run_audit(load_plan(encoder_plan(encoder_controls, "unseen")))


def _by_id(result):
    return {p.id: p for p in result.probes}


def test_inspect_names_the_masked_lm_kind(encoder_controls, capsys) -> None:
    assert main(["inspect", str(encoder_controls.memorizing), "--json"]) == 0
    details = json.loads(capsys.readouterr().out)
    assert details["kind"] == "masked_lm"
    assert details["probes_offered"] == ["embedding_distance", "pseudo_likelihood"]


def test_the_memorizing_encoder_is_flagged(memorizing_result) -> None:
    probes = _by_id(memorizing_result)
    assert list(probes) == ["embedding_distance", "pseudo_likelihood"]
    assert memorizing_result.model["kind"] == "masked_lm"
    distance = probes["embedding_distance"]
    assert distance.verdict is Verdict.FAIL
    assert distance.metrics["auc_ci"][0] > 0.7
    assert probes["pseudo_likelihood"].metrics["auc_ci"][0] > 0.6
    assert probes["pseudo_likelihood"].verdict in (Verdict.WARN, Verdict.FAIL)


def test_the_encoder_that_never_saw_the_members_is_not(unseen_result) -> None:
    for probe in unseen_result.probes:
        assert probe.verdict not in (Verdict.FAIL, Verdict.WARN), probe.id
        assert probe.metrics["auc_ci"][0] < 0.5, probe.id  # no leakage shown


def test_leave_one_out_keeps_random_embeddings_at_chance() -> None:
    """With embeddings that carry no membership at all, equal pools give AUC near 0.5; a
    naive construction (non-members compared with every member) would not be centred."""
    from audit_core.stats.roc import auc

    rng = np.random.default_rng(3)
    aucs = []
    for _ in range(20):
        points = rng.normal(size=(120, 8))
        members, non_members = neighbour_similarity(points[:60], points[60:], 3, rng)
        aucs.append(auc(members, non_members))
    assert abs(np.mean(aucs) - 0.5) < 0.03
    members = rng.normal(size=(60, 8))
    scored, _ = neighbour_similarity(members, members[:5] + 1e-3, 3, rng)
    assert np.all(scored < 0.999)  # a member is never its own neighbour


def test_an_export_without_a_masked_lm_head_offers_only_the_distance_probe() -> None:
    from types import SimpleNamespace

    from audit_core.errors import ModelError
    from audit_core.kinds.encoder import feedable
    from audit_core.probes import PROBES_BY_ID

    suite = [(PROBES_BY_ID[i], PROBES_BY_ID[i].config_type())
             for i in ("embedding_distance", "pseudo_likelihood")]
    embeddings_only = SimpleNamespace(has_embeddings=True, has_mlm_head=False,
                                      info=SimpleNamespace(name="model.onnx"))
    kept = feedable(suite, embeddings_only, mask_id=None, explicit=False)
    assert [p.id for p, _ in kept] == ["embedding_distance"]
    with pytest.raises(ModelError, match="'probes.pseudo_likelihood' needs a masked-LM head"):
        feedable(suite, embeddings_only, mask_id=None, explicit=True)
    with_head_no_mask = SimpleNamespace(has_embeddings=True, has_mlm_head=True,
                                        info=SimpleNamespace(name="model.onnx"))
    assert len(feedable(suite, with_head_no_mask, mask_id=None, explicit=False)) == 1
    assert len(feedable(suite, with_head_no_mask, mask_id=7, explicit=False)) == 2


def test_a_reference_model_is_refused_for_encoders(encoder_controls) -> None:
    from audit_core.errors import PlanError

    plan = encoder_plan(encoder_controls, "memorizing")
    plan.write_text(plan.read_text().replace('path = "memorizing"',
                                             'path = "memorizing"\nreference = "unseen"'))
    with pytest.raises(PlanError, match="'model.reference' is not used for encoders"):
        run_audit(load_plan(plan))


@pytest.mark.parametrize("probe_id", ["embedding_distance", "pseudo_likelihood"])
def test_encoder_probes_keep_the_conformance_promises(encoder_context, probe_id) -> None:
    from audit_core.probes import PROBES_BY_ID
    from tests.probes.kind_conformance import check_probe

    probe = PROBES_BY_ID[probe_id]
    assert probe.needs.applies_to("masked_lm") and not probe.needs.applies_to("causal_lm")
    check_probe(probe, encoder_context)


@pytest.fixture(scope="module")
def encoder_context(encoder_controls):
    """A context factory over 80 members and 80 non-members and the memorizing encoder."""
    import dataclasses

    from audit_core.data.cohort import Role
    from audit_core.data.loading import load_cohort
    from audit_core.families.membership import MembershipThresholds
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_encoder import OnnxEncoder
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
    from audit_core.passes.encoder_outputs import EncoderOutputs, mask_token_id
    from audit_core.probes.base import ProbeContext
    from audit_core.work.progress import Progress

    columns = load_plan(encoder_plan(encoder_controls, "memorizing")).data.columns
    model = OnnxEncoder(inspect_model(encoder_controls.memorizing))
    tokenizer = load_tokenizer(encoder_controls.memorizing)
    cohorts, embeddings, pseudo = {}, {}, {}
    for role, path in ((Role.MEMBERS, encoder_controls.members),
                       (Role.NON_MEMBERS, encoder_controls.non_members)):
        full = load_cohort(path, role, columns)
        cohort = dataclasses.replace(full, ids=full.ids[:80], sequences=full.sequences[:80],
                                     subgroups={k: v[:80] for k, v in full.subgroups.items()})
        ids = [x[:128] for x in encode_all(tokenizer, list(cohort.sequences))]
        cohorts[role] = cohort
        embeddings[role] = model.embeddings(ids, 32, Progress())
        pseudo[role] = model.pseudo_log_likelihood(ids, mask_token_id(tokenizer), 256, Progress())
    outputs = EncoderOutputs(embeddings, pseudo, {Role.MEMBERS: 0, Role.NON_MEMBERS: 0})

    def make(progress, seed=1):
        return ProbeContext(cohorts=cohorts, token_ids={}, model=model,
                            thresholds=MembershipThresholds(), rng=np.random.default_rng(seed),
                            progress=progress, columns=columns, outputs=outputs)
    return make
