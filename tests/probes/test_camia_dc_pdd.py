"""Known answers for CAMIA and DC-PDD (issue 17): FAIL where the model memorized its members,
no FAIL and chance-level AUC where it never saw them, and the calibrations on the
non-members never judge a non-member against a population that holds itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.errors import PlanError
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.passes.token_scores import TokenScores
from audit_core.plan.parsing import load_plan
from audit_core.probes.camia_signals import edgington, population_p_values
from audit_core.probes.dc_pdd import DcPdd, divergence_score
from audit_core.probes.dc_pdd_frequencies import FrequencyTable
from audit_core.results.verdicts import Verdict
from audit_core.run.runner import run_audit
from audit_core.stats.roc import auc
from tests.conftest import write_plan, write_small_cohorts

ROOT = Path(__file__).resolve().parents[2]
NEGATIVE = ROOT / "resources/controls/negative/model"
NOTES = ROOT / "resources/controls/notes"
PROBES = "[probes.camia]\nmax_records = 40\n[probes.dc_pdd]\n"  # a short repetition pass


def _membership(result) -> dict[str, dict]:
    return {p.id: p.as_dict() for p in result.probes}


def test_population_p_values_leave_each_non_member_out() -> None:
    """Members drawn like the non-members get p-values distributed like theirs: a
    non-member counted in its own population would sit one step above its fair p-value."""
    rng = np.random.default_rng(3)
    members, non_members = rng.normal(size=3000), rng.normal(size=3000)
    p_m, p_n = population_p_values(members, non_members)
    assert abs(auc(-p_m, -p_n) - 0.5) < 0.02
    # The highest non-member beats every OTHER non-member: p = 1/n0, as a member above all gets 1/(n0+1).
    assert p_n[np.argmax(non_members)] == pytest.approx(1 / 3000)
    assert p_m[np.argmax(members)] <= 2 / 3001
    # A signal a record lacks stays missing; ties with itself do not count.
    p_m, p_n = population_p_values(np.array([np.nan, 1.0]), np.array([1.0, 1.0, 1.0]))
    assert np.isnan(p_m[0]) and p_m[1] == 1.0 and (p_n == 1.0).all()


def test_edgington_is_the_irwin_hall_probability_of_the_sum() -> None:
    p = edgington(np.array([[0.3, np.nan], [0.5, 0.5], [0.75, 0.75], [0.01, 0.02]]))
    assert p[0] == pytest.approx(0.3)  # one signal: its own p-value
    assert p[1] == pytest.approx(0.5) and p[2] == pytest.approx(1 - 0.5 * 0.5 ** 2)
    assert p[3] == pytest.approx(0.03 ** 2 / 2)


def test_dc_pdd_leaves_a_non_members_own_tokens_out_of_its_frequencies() -> None:
    """Both cohorts drawn from one distribution, a model that knows neither (every true token
    at p = 0.5): with the non-members' own counts in the table, their rare tokens look common
    and members alone get rare-token credit (AUC far above 0.5); left out, no separation."""
    rng = np.random.default_rng(11)
    weights = 1.0 / np.arange(1, 3001)

    def cohort(n: int) -> list[np.ndarray]:
        return [np.concatenate([[0], rng.choice(3000, 24, p=weights / weights.sum()) + 1])
                for _ in range(n)]

    ids = {Role.MEMBERS: cohort(400), Role.NON_MEMBERS: cohort(400)}
    reduce = DcPdd().reducer(DcPdd.config_type(a=1e6), ids)
    scores = {role: reduce(_flat_scores(ids[role]), None) for role in Role}
    assert abs(auc(scores[Role.MEMBERS], scores[Role.NON_MEMBERS]) - 0.5) < 0.05
    table = FrequencyTable.from_cohort(ids[Role.NON_MEMBERS], ids[Role.MEMBERS] + ids[Role.NON_MEMBERS])
    counted_in = FrequencyTable(table.counts, table.vocabulary, {})  # no leave-one-out
    leaky = {role: np.array([divergence_score(np.full(len(x) - 1, np.log(0.5)), x[1:], counted_in, 1e6)
                             for x in ids[role]]) for role in Role}
    assert auc(leaky[Role.MEMBERS], leaky[Role.NON_MEMBERS]) > 0.6


def _flat_scores(records: list[np.ndarray]) -> TokenScores:
    lps = tuple(np.full(len(x) - 1, np.log(0.5)) for x in records)
    return TokenScores(logprobs=lps, means=lps, stds=lps, windows=np.ones(len(records))
                       ).with_targets(records)


def test_demo_model_fails_and_the_negative_control_does_not(tmp_path: Path, ground_truth: dict) -> None:
    members, non_members = write_small_cohorts(tmp_path, ground_truth)
    demo = run_audit(load_plan(write_plan(tmp_path, model=ROOT / "resources/demo/model",
                                          members=members, non_members=non_members, probes=PROBES)))
    for probe_id, entry in _membership(demo).items():
        assert entry["verdict"] == "fail", probe_id
    negative = run_audit(load_plan(write_plan(tmp_path, model=NEGATIVE, members=members,
                                              non_members=non_members, probes=PROBES)))
    for probe_id, entry in _membership(negative).items():
        low, high = entry["metrics"]["auc_ci"]
        assert entry["verdict"] != "fail" and low <= 0.5 <= high, probe_id
    camia = _membership(demo)["camia"]["metrics"]
    # The planted members are short records: every one fits the context twice.
    assert camia["signals"] == 9 and camia["repetition_members"] > 0


def test_notes_control_fails_on_its_members_and_not_on_outsiders(tmp_path: Path) -> None:
    def plan(members: str) -> Path:
        path = tmp_path / f"{members}.toml"
        path.write_text(f'[audit]\ntitle = "t"\nseed = 5\n[model]\npath = "{NOTES / "model"}"\n'
                        f'[data]\nmembers = "{NOTES / members}"\nnon_members = "{NOTES / "non_members.csv"}"\n'
                        '[data.columns]\nid = "patient_id"\nsequence = "text"\nkind = "text"\n' + PROBES)
        return path

    for probe_id, entry in _membership(run_audit(load_plan(plan("members.csv")))).items():
        assert entry["verdict"] == "fail", probe_id
    for probe_id, entry in _membership(run_audit(load_plan(plan("outsiders.csv")))).items():
        low, high = entry["metrics"]["auc_ci"]
        assert entry["verdict"] != "fail" and low <= 0.5 <= high, probe_id


def test_dc_pdd_reads_a_public_frequency_table_and_refuses_a_bad_one(tmp_path: Path, ground_truth: dict) -> None:
    members, non_members = write_small_cohorts(tmp_path, ground_truth)
    tokenizer = load_tokenizer(ROOT / "resources/demo/model")
    vocabulary = {i: t for t, i in tokenizer.get_vocab().items()}
    import pandas as pd

    codes = pd.read_csv(ROOT / "resources/demo/non_members.csv", dtype=str).codes.tolist()
    counts = np.bincount(np.concatenate(encode_all(tokenizer, codes)), minlength=len(vocabulary))
    table = tmp_path / "frequencies.csv"
    table.write_text("token,count\n" + "".join(f"{vocabulary[i]},{c}\n" for i, c in enumerate(counts))
                     + "NOT_A_TOKEN,5\n")
    probes = '[probes.dc_pdd]\nfrequency_table = "frequencies.csv"\n'
    result = run_audit(load_plan(write_plan(tmp_path, model=ROOT / "resources/demo/model", members=members,
                                            non_members=non_members, probes=probes)))
    assert result.probes[0].verdict is Verdict.FAIL
    assert "public frequency table" in result.probes[0].findings[0]

    # Refused before the pass, naming the row and never the value.
    table.write_text("token,count\nSEX_F,12\nSEX_M,many\n")
    config = DcPdd.config_type(frequency_table=str(table))
    with pytest.raises(PlanError, match="row 3") as refused:
        DcPdd().reducer(config, {}, tokenizer.get_vocab())
    assert "many" not in str(refused.value) and "SEX_M" not in str(refused.value)


def test_a_row_reduction_that_crashes_after_its_first_chunk_leaves_the_pass_running(
        tmp_path: Path, ground_truth: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """CAMIA reduces to a row of signals per record; the NaN chunks that stand in after a
    crash keep that row's width, or the chunks would not join and the whole pass would fail."""
    from audit_core.probes.camia import Camia

    real, calls = Camia.reduce, []

    def crashes_later(self, config, target, reference):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("bug in a reduction")
        return real(self, config, target, reference)

    monkeypatch.setattr(Camia, "reduce", crashes_later)
    members, non_members = write_small_cohorts(tmp_path, ground_truth)
    plan = write_plan(tmp_path, model=ROOT / "resources/demo/model", members=members,
                      non_members=non_members, probes="[probes.loss]\n[probes.camia]\nmax_records = 0\n")
    plan.write_text(plan.read_text().replace("batch_size = 32", "batch_size = 4"))  # 32-record chunks
    by_id = {p.id: p for p in run_audit(load_plan(plan)).probes}
    assert len(calls) == 2
    assert by_id["camia"].verdict is Verdict.ERROR
    assert by_id["loss"].verdict is Verdict.FAIL
