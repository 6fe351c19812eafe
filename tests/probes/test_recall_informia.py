"""Known answers for ReCaLL, Con-ReCall and InfoRMIA (issue 17): the demo model (memorizes on
purpose) FAILs on a slice of its cohorts, the negative control (never saw them) does not, and
the notes control tells its members from outsiders; plus the promises the prefix attacks make
(no record scored after a prefix holding it, MEDS events travel with the ids) and the
per-token InfoRMIA contribution other code reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.data.events import EventFeatures
from audit_core.families import FAMILIES
from audit_core.plan.parsing import load_plan
from audit_core.probes.base import ProbeContext
from audit_core.probes.con_recall import ConRecall
from audit_core.probes.informia import Informia, token_contributions
from audit_core.probes.prefix_conditioning import conditional_loglik, make_prefix
from audit_core.results.verdicts import Verdict
from audit_core.run.runner import run_audit
from audit_core.work.progress import Progress
from tests.conftest import write_plan, write_small_cohorts

ROOT = Path(__file__).resolve().parents[2]
NEGATIVE = ROOT / "resources" / "controls" / "negative" / "model"
NOTES = ROOT / "resources" / "controls" / "notes"
# A 32-token prefix (half the default) keeps the two extra passes of a slice audit short.
PROBES = ("[probes.recall]\nprefix_tokens = 32\n[probes.con_recall]\nprefix_tokens = 32\n"
          "[probes.informia]\n")
ATTACKS = ("recall", "con_recall", "informia")


@pytest.fixture(scope="module")
def slice_audits(tmp_path_factory, ground_truth: dict) -> dict[str, dict]:
    """The demo slice (80 + 80 records) audited with the demo model and with the negative
    control: {"demo" | "negative": {probe id: ProbeResult}}."""
    folder = tmp_path_factory.mktemp("recall-slice")
    members, non_members = write_small_cohorts(folder, ground_truth)
    audits = {}
    for name, model in (("demo", ROOT / "resources" / "demo" / "model"), ("negative", NEGATIVE)):
        sub = folder / name
        sub.mkdir()
        plan = write_plan(sub, model=model, members=members, non_members=non_members, probes=PROBES)
        audits[name] = {p.id: p for p in run_audit(load_plan(plan)).probes}
    return audits


@pytest.mark.parametrize("probe_id", ATTACKS)
def test_the_memorizing_demo_model_fails(slice_audits, probe_id: str) -> None:
    result = slice_audits["demo"][probe_id]
    assert result.verdict is Verdict.FAIL, result.findings
    assert result.metrics["auc_ci"][0] > 0.75


@pytest.mark.parametrize("probe_id", ATTACKS)
def test_the_negative_control_does_not_fail_and_its_auc_interval_covers_chance(slice_audits,
                                                                                 probe_id: str) -> None:
    result = slice_audits["negative"][probe_id]
    assert result.verdict is not Verdict.FAIL, result.findings
    low, high = result.metrics["auc_ci"]
    assert low <= 0.5 <= high


def test_no_record_is_scored_after_a_prefix_that_holds_it(slice_audits) -> None:
    """The records of a prefix have no score (NaN) and are counted out of the figures."""
    for probe_id, roles in (("recall", (Role.NON_MEMBERS,)), ("con_recall", tuple(Role))):
        result = slice_audits["demo"][probe_id]
        for role in Role:
            unscored = int(np.isnan(result.scores[role.value]).sum())
            left_out = result.metrics[f"prefix_{role.value}"]
            assert unscored == left_out == (7 if role in roles else 0), (probe_id, role)
            assert result.metrics[f"n_{role.value}"] == 80 - unscored
        assert any("7 non-members (" in f and "left out of the scoring" in f
                   for f in result.findings)


def test_notes_control_tells_members_from_outsiders(tmp_path: Path) -> None:
    """The notes model was trained on members.csv; outsiders.csv (as "members") it never saw."""
    verdicts = {}
    for side, members in (("members", "members.csv"), ("outsiders", "outsiders.csv")):
        folder = tmp_path / side
        folder.mkdir()
        plan = write_plan(folder, model=NOTES / "model", members=NOTES / members,
                          non_members=NOTES / "non_members.csv", probes=PROBES)
        text = plan.read_text().replace('kind = "codes"\nsubgroups = ["age_band", "sex"]', 'kind = "text"')
        plan.write_text(text.replace('sequence = "codes"', 'sequence = "text"'))
        verdicts[side] = {p.id: p for p in run_audit(load_plan(plan)).probes}
    for probe_id in ATTACKS:
        assert verdicts["members"][probe_id].metrics["auc"] > 0.75, probe_id
        assert verdicts["outsiders"][probe_id].verdict is not Verdict.FAIL, probe_id
        low, high = verdicts["outsiders"][probe_id].metrics["auc_ci"]
        assert low <= 0.5 <= high, probe_id


def test_informia_token_contributions_add_up_to_the_record_score() -> None:
    """The per-token signal (for localisation) is the record score's own parts: its mean is
    the probe's reduction plus the population term, and without a reference it is log2 p."""
    rng = np.random.default_rng(0)
    target = np.log(rng.uniform(0.01, 1.0, 12))
    reference = np.log(rng.uniform(0.01, 1.0, 12))
    kl = 0.7
    parts = token_contributions(target, reference, population_kl_bits=kl, offline_a=0.3)
    corrected = np.log(0.5 * (1.3 * np.exp(reference) + 0.7))
    np.testing.assert_allclose(parts, (target - corrected) / np.log(2) + kl)
    np.testing.assert_allclose(token_contributions(target), target / np.log(2))
    # a token the target model predicts far better than the reference stands out
    target[5], reference[5] = np.log(0.99), np.log(0.01)
    assert int(np.argmax(token_contributions(target, reference))) == 5
    assert Informia().needs.reference is False  # degrades to reference-free, as RMIA does


class _EventModel:
    """A stand-in language model with side inputs: it keeps the events it is given."""

    context_length, vocab_size = 64, 16

    def __init__(self) -> None:
        self.events: list = []

    def logits(self, ids: np.ndarray, mask: np.ndarray, events=None) -> np.ndarray:
        self.events.extend(events or [])
        return np.zeros((*ids.shape, self.vocab_size), dtype=np.float32)


class _Tokenizer:
    def token_to_id(self, name: str) -> None:
        return None


def _events(n: int, day: float) -> EventFeatures:
    return EventFeatures(np.full(n, day), np.full(n, 40.0), np.ones(n, dtype=np.int64))


def test_meds_events_travel_with_the_prefix_and_the_record() -> None:
    """A MEDS record read after a prefix is fed the prefix records' events, then its own."""
    ids = {role: [np.arange(2, 2 + n) for n in (5, 6, 7)] for role in Role}
    events = {role: [_events(len(i), float(k)) for k, i in enumerate(ids[role])] for role in Role}
    model = _EventModel()
    ctx = ProbeContext(cohorts={}, token_ids=ids, token_events=events, model=model,  # type: ignore[arg-type]
                       thresholds=FAMILIES[ConRecall.family].thresholds(), rng=np.random.default_rng(1),
                       progress=Progress(), tokenizer=_Tokenizer())  # type: ignore[arg-type]
    prefix = make_prefix(ctx, Role.NON_MEMBERS, np.array([0, 1]), max_tokens=8)
    assert len(prefix.ids) == 8 and prefix.events is not None and len(prefix.events) == 8
    values = conditional_loglik(ctx, prefix, Role.MEMBERS, np.array([2]), 4, Progress())
    assert np.isclose(values[0], -np.log(16))  # uniform logits: every token has p = 1/16
    fed = model.events[0]
    assert len(fed) == 8 + 7
    np.testing.assert_array_equal(fed.time_days[:2], [0.0] * 2)  # the end of record 0
    np.testing.assert_array_equal(fed.time_days[2:8], [1.0] * 6)  # record 1
    np.testing.assert_array_equal(fed.time_days[8:], [2.0] * 7)  # then the scored record's own
    # a cohort too small to spare a record for the prefix: no prefix, the record as it is
    empty = make_prefix(ctx, Role.NON_MEMBERS, np.zeros(0, dtype=np.int64), max_tokens=8)
    assert len(empty.ids) == 0 and empty.events is not None and len(empty.events) == 0
