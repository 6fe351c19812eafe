"""The clinical building blocks: code sets and their plan edits, the record layout and
tiers, the embedding matrix read from the ONNX graph, and the time-aware EMD."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.clinical.code_reading import icd10_code
from audit_core.clinical.code_sets import (
    BUILTIN_CODE_SETS,
    category_token_ids,
    in_code_set,
    parse_code_sets,
)
from audit_core.clinical.embeddings import (
    EMBEDDINGS,
    HIERARCHY,
    code_distance,
    read_input_embeddings,
)
from audit_core.clinical.record_layout import DEFAULT_TIERS, build_layout, parse_tiers
from audit_core.clinical.trajectory_distance import (
    code_set_precision_recall,
    trajectory_emd,
)
from audit_core.errors import PlanError
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer

SETS = {s.name: s for s in BUILTIN_CODE_SETS}


@pytest.fixture(scope="module")
def vocab(demo_dir: Path) -> dict[str, int]:
    return load_tokenizer(demo_dir / "model").get_vocab()


def test_icd10_codes_are_read_with_or_without_dot_and_namespace() -> None:
    assert icd10_code("E11.9") == "E119"
    assert icd10_code("ICD10CM//T40.1X1A") == "T401X1A"
    assert icd10_code("DIAGNOSIS:F32.9") == "F329"
    for token in ("ICD//9//V70", "AGE_40_49", "VISIT", "LAB_HBA1C_HIGH", "RX_METFORMIN", "[BOS]"):
        assert icd10_code(token) is None, token


def test_builtin_sets_split_substance_use_and_match_by_prefix() -> None:
    assert {"hiv_sti", "alcohol", "opioids", "sedatives", "stimulants", "mental_health",
            "reproductive_health"} <= set(SETS)
    assert in_code_set("T40.1X1A", SETS["opioids"]) and not in_code_set("T40.5X1A", SETS["opioids"])
    assert in_code_set("T40.5X1A", SETS["stimulants"])
    assert in_code_set("F10.20", SETS["alcohol"]) and not in_code_set("F11.20", SETS["alcohol"])
    assert in_code_set("O80", SETS["reproductive_health"])
    assert not in_code_set("RX_BUPRENORPHINE", SETS["opioids"])  # prefixes apply to codes only
    assert all(s.source for s in BUILTIN_CODE_SETS)


def test_the_demo_vocabulary_has_tokens_in_every_builtin_category(vocab) -> None:
    for code_set in BUILTIN_CODE_SETS:
        ids = category_token_ids(vocab, code_set)
        assert len(ids), code_set.name
        inverse = {i: t for t, i in vocab.items()}
        assert all(in_code_set(inverse[i], code_set) for i in ids)


def test_a_plan_string_replaces_adds_and_drops_categories() -> None:
    sets = {s.name: s for s in parse_code_sets("hiv_sti=B20;eating=F50;reproductive_health=", "probes.x")}
    assert sets["hiv_sti"].prefixes == ("B20",) and "edited in the plan" in sets["hiv_sti"].source
    assert sets["eating"].prefixes == ("F50",) and "reproductive_health" not in sets
    assert set(parse_code_sets("", "k")) == set(BUILTIN_CODE_SETS)
    for bad in ("hiv_sti B20", "x=B2 0", "Bad Name=F10"):
        with pytest.raises(PlanError, match="probes.x"):
            parse_code_sets(bad, "probes.x")
    with pytest.raises(PlanError, match="drops every"):
        parse_code_sets(";".join(f"{s.name}=" for s in BUILTIN_CODE_SETS), "probes.x")


def test_layout_finds_start_demographics_visits_and_time(vocab, demo_dir: Path) -> None:
    layout = build_layout(vocab)
    tokenizer = load_tokenizer(demo_dir / "model")
    ids = encode_all(tokenizer, ["AGE_18_29 SEX_F VISIT F32.9 F41.1 VISIT GAP_1Y J02.9 VISIT GAP_6M K21.00"])[0]
    lengths = {t.name: layout.prompt_length(ids, t) for t in parse_tiers(DEFAULT_TIERS, "k")}
    assert lengths == {"nothing": 1, "demographics": 3, "10": 11, "20": None, "50": None}
    assert layout.prompt_length(ids, parse_tiers("5", "k")[0]) == 6
    codes, times = layout.codes_and_times(ids[3:])
    assert [tokenizer.id_to_token(int(c)) for c in codes] == ["F32.9", "F41.1", "J02.9", "K21.00"]
    np.testing.assert_allclose(times, [0, 0, 1.0, 1.5])
    with pytest.raises(PlanError, match="tier"):
        parse_tiers("nothing,ten", "probes.trajectory.tiers")
    custom = build_layout(vocab, time_tokens="GAP_1W=1")
    assert custom.gap_years == {vocab["GAP_1W"]: 1.0}
    with pytest.raises(PlanError, match="time_tokens"):
        build_layout(vocab, time_tokens="NOPE=1")


def test_input_embeddings_come_from_the_onnx_graph(vocab, demo_dir: Path) -> None:
    import onnx
    from onnx import numpy_helper

    matrix = read_input_embeddings(demo_dir / "model" / "model.onnx", len(vocab))
    assert matrix is not None and matrix.shape == (len(vocab), 128)
    graph = onnx.load(str(demo_dir / "model" / "model.onnx")).graph
    wte = next(i for i in graph.initializer if "wte" in i.name)
    np.testing.assert_allclose(matrix, numpy_helper.to_array(wte))
    assert read_input_embeddings(demo_dir / "model" / "model.onnx", len(vocab) + 1) is None
    assert code_distance(vocab, matrix).method == EMBEDDINGS
    assert code_distance(vocab, None).method == HIERARCHY


def test_hierarchy_distance_orders_codes_by_shared_levels(vocab) -> None:
    d = code_distance({"E11.9": 0, "E11.65": 1, "E10.9": 2, "I10": 3, "LAB_A": 4}, None)
    row = d.matrix(np.array([0]), np.arange(5))[0]
    np.testing.assert_allclose(row, [0.0, 0.5, 0.75, 1.0, 1.0])


def test_emd_is_zero_on_itself_and_grows_with_time_length_and_content(vocab) -> None:
    d = code_distance(vocab, None)
    a = np.array([vocab["E11.9"], vocab["I10"], vocab["RX_METFORMIN"]])
    t = np.zeros(3)
    assert trajectory_emd(a, t, a, t, d) == 0.0
    shifted = trajectory_emd(a, t, a[[0, 1, 2]], t + np.array([0, 0, 2.0]), d)
    assert shifted == 0.0  # same codes: a time shift costs nothing when the code distance is 0
    other = np.array([vocab["E11.65"] if "E11.65" in vocab else vocab["E11.9"], vocab["K21.00"], vocab["RX_METFORMIN"]])
    near = trajectory_emd(a, t, other, t, d)
    late = trajectory_emd(a, t, other, t + 3.0, d)
    shorter = trajectory_emd(a, t, a[:2], t[:2], d)
    assert 0 < near < late and 0 < shorter
    assert trajectory_emd(a, t, a[:0], t[:0], d) == 2.0
    assert code_set_precision_recall(a[:2], a) == (1.0, 2 / 3)
