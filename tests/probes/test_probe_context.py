"""A probe reads its model kind's objects through ProbeContext's typed views, and a probe
handed another kind's model, pass or thresholds stops with WrongContext (a bug, never the
user's input): the audit goes on and shows that probe as not assessed."""

from __future__ import annotations

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.families.extraction import ExtractionThresholds
from audit_core.families.membership import MembershipThresholds
from audit_core.models.onnx_encoder import OnnxEncoder
from audit_core.models.onnx_tabular import OnnxTabularClassifier
from audit_core.passes.encoder_outputs import EncoderOutputs
from audit_core.passes.tabular_signals import TabularOutputs
from audit_core.probes.base import ProbeContext, WrongContext
from audit_core.probes.extraction import Extraction
from audit_core.results.verdicts import Verdict
from audit_core.run.assembly import run_probe
from audit_core.work.progress import Progress


def _context(**fields) -> ProbeContext:
    base = dict(cohorts={}, token_ids={}, model=None, thresholds=MembershipThresholds(),
                rng=np.random.default_rng(0), progress=Progress())
    return ProbeContext(**{**base, **fields})


def _unloaded(kind: type):
    return object.__new__(kind)  # the class is what the views check; no ONNX file needed


class _StandIn:
    """What the clinical tests hand the language-model probes: an object that decodes."""

    context_length = 64


@pytest.mark.parametrize("kind", [OnnxTabularClassifier, OnnxEncoder])
def test_a_language_model_probe_refuses_another_kinds_model(kind) -> None:
    with pytest.raises(WrongContext, match=kind.__name__):
        _context(model=_unloaded(kind)).causal_lm()


def test_a_language_model_stand_in_is_handed_through() -> None:
    model = _StandIn()
    assert _context(model=model).causal_lm() is model


def test_thresholds_come_back_as_the_family_asked_for_or_not_at_all() -> None:
    thresholds = ExtractionThresholds()
    ctx = _context(thresholds=thresholds)
    assert ctx.thresholds_of(ExtractionThresholds) is thresholds
    with pytest.raises(WrongContext, match="MembershipThresholds.*ExtractionThresholds"):
        ctx.thresholds_of(MembershipThresholds)


def test_each_shared_pass_is_read_only_by_its_own_kind() -> None:
    tabular = TabularOutputs({}, {}, ("a", "b"))
    encoder = EncoderOutputs({}, {}, {Role.MEMBERS: 0, Role.NON_MEMBERS: 0})
    assert _context(outputs=tabular).tabular_outputs() is tabular
    assert _context(outputs=encoder).encoder_outputs() is encoder
    with pytest.raises(WrongContext, match="EncoderOutputs"):
        _context(outputs=encoder).tabular_outputs()
    with pytest.raises(WrongContext, match="NoneType"):
        _context().encoder_outputs()
    with pytest.raises(WrongContext, match="tokenizer"):
        _context().text_tokenizer()


def test_a_probe_given_the_wrong_context_is_not_assessed_and_the_audit_goes_on() -> None:
    probe = Extraction()
    ctx = _context(model=_unloaded(OnnxTabularClassifier), thresholds=ExtractionThresholds(),
                   token_ids={Role.MEMBERS: [np.arange(400)], Role.NON_MEMBERS: [np.arange(400)]})
    result = run_probe(probe, probe.config_type(), ctx, ctx.thresholds)
    assert result.verdict is Verdict.ERROR
    assert result.error == "WrongContext while running the probe"
