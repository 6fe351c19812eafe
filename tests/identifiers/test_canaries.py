"""Canary sets: drawn from the seed alone, written with the secret kept out of the
manifest, read back only with the right seed file; exposure arithmetic; the CLI."""

from __future__ import annotations

import json
import math
import stat
from pathlib import Path

import numpy as np
import pytest

from audit_core.canaries.design import draw_canaries, render
from audit_core.canaries.exposure import estimated_exposure, exact_exposure
from audit_core.canaries.files import design_set, load_canary_set, write_canary_set
from audit_core.cli.main import main
from audit_core.errors import PlanError

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
TOKENS = [f"C{i:02d}" for i in range(30) for _ in range(6)]


def test_the_same_seed_gives_the_same_canaries_and_another_seed_others() -> None:
    spec = design_set("codes", 8, cohort_tokens=TOKENS, seed=b"a" * 32)
    first, again = draw_canaries(spec, b"a" * 32), draw_canaries(spec, b"a" * 32)
    other = draw_canaries(spec, b"b" * 32)
    assert first == again and [c.secret for c in first] != [c.secret for c in other]
    assert [c.repeats for c in first] == [1, 4, 16, 64, 1, 4, 16, 64]
    assert len({c.prefix for c in first}) == 8
    assert spec.space_size == 10 ** 4 and set(spec.alphabet) <= set(TOKENS)


def test_files_keep_the_secret_out_of_the_manifest_and_the_seed_private(tmp_path: Path) -> None:
    seed = b"s" * 32
    spec = design_set("codes", 4, cohort_tokens=TOKENS, seed=seed)
    manifest = write_canary_set(tmp_path / "set", tmp_path / "secret.seed", spec, seed,
                                id_column="patient_id", sequence_column="codes")
    assert stat.S_IMODE((tmp_path / "secret.seed").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "set" / "canaries.csv").stat().st_mode) == 0o600
    text = (tmp_path / "set" / "manifest.json").read_text()
    assert seed.hex() not in text and manifest["seed_check"] in text
    for canary in draw_canaries(spec, seed):  # the records file holds them, the manifest does not
        assert render(spec, canary.prefix, canary.secret) not in text
    rebuilt_set, rebuilt = load_canary_set(tmp_path / "set" / "manifest.json")
    assert rebuilt == draw_canaries(spec, seed) and rebuilt_set == spec


def test_a_seed_file_is_never_overwritten_and_a_wrong_one_is_refused(tmp_path: Path) -> None:
    spec = design_set("codes", 2, cohort_tokens=TOKENS, seed=b"x" * 32)
    write_canary_set(tmp_path / "one", tmp_path / "seed", spec, b"x" * 32, id_column="id",
                     sequence_column="codes")
    with pytest.raises(PlanError, match="never overwritten"):
        write_canary_set(tmp_path / "two", tmp_path / "seed", spec, b"y" * 32, id_column="id",
                         sequence_column="codes")
    (tmp_path / "seed").chmod(0o600)
    (tmp_path / "seed").write_text(("z" * 32).encode().hex())
    with pytest.raises(PlanError, match="does not belong"):
        load_canary_set(tmp_path / "one" / "manifest.json")


def test_exposure_is_space_bits_at_rank_one_and_zero_when_last() -> None:
    candidates = np.arange(1024, dtype=float)
    assert exact_exposure(0.0, candidates, 1024) == (10.0, 1)
    assert exact_exposure(1023.0, candidates, 1024) == (0.0, 1024)
    assert exact_exposure(3.0, candidates, 1024) == (10.0 - 2.0, 4)
    # Ties count against the canary: a model that scores everything alike exposes nothing.
    assert exact_exposure(5.0, np.full(1024, 5.0), 1024)[0] == 0.0


def test_estimated_exposure_follows_the_tail_of_the_fitted_distribution() -> None:
    rng = np.random.default_rng(0)
    sample = rng.normal(50.0, 5.0, 5000)
    assert estimated_exposure(50.0, sample, 2 ** 40) == pytest.approx(1.0, abs=0.1)  # median
    far = estimated_exposure(50.0 - 5.0 * 4.2, sample, 2 ** 40)  # 4.2 sd below: p ~ 1.3e-5
    assert far == pytest.approx(-math.log2(1.3e-5), abs=1.0)
    assert estimated_exposure(-1e6, sample, 2 ** 12) == 12.0  # never above the space


def test_cli_writes_a_set_and_refuses_bad_input_with_exit_2(tmp_path: Path, capsys) -> None:
    out, seed = tmp_path / "canaries", tmp_path / "canary.seed"
    args = ["canaries", "--out", str(out), "--count", "4", "--seed-file", str(seed),
            "--cohort", str(DEMO / "members.csv")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "codes" and len(manifest["canaries"]) == 4
    assert seed.read_text().strip() not in printed
    assert main(args) == 2  # the folder holds a set already
    assert main(["canaries", "--out", str(tmp_path / "x"), "--count", "4",
                 "--seed-file", str(tmp_path / "s2")]) == 2  # codes without a cohort
    assert main(["canaries", "--out", str(tmp_path / "y"), "--count", "0", "--kind", "text",
                 "--seed-file", str(tmp_path / "s3")]) == 2
    assert main(["canaries", "--out", str(tmp_path / "z"), "--count", "3", "--kind", "text",
                 "--seed-file", str(tmp_path / "s4"), "--repeats", "1,two"]) == 2
    assert main(["canaries", "--out", str(tmp_path / "w"), "--count", "3",
                 "--seed-file", str(tmp_path / "s5"), "--cohort", str(DEMO / "members.csv"),
                 "--column", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no column 'nope'" in err and "Traceback" not in err


def test_text_canaries_use_digits_after_neutral_words(tmp_path: Path) -> None:
    assert main(["canaries", "--out", str(tmp_path / "t"), "--count", "2", "--kind", "text",
                 "--seed-file", str(tmp_path / "seed"), "--secret-length", "6"]) == 0
    spec, canaries = load_canary_set(tmp_path / "t" / "manifest.json")
    text = render(spec, canaries[0].prefix, canaries[0].secret)
    words = text.split()
    assert words[-7:-6] == ["is"] and all(w.isdigit() for w in words[-6:])
    assert spec.space_size == 10 ** 6


def test_ranking_with_the_kv_cache_matches_running_every_row_in_full() -> None:
    from audit_core.canaries import exposure
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.tokenizer_loading import load_tokenizer

    folder = DEMO.parent / "controls" / "canaries"
    model = OnnxCausalLM(inspect_model(folder / "model"))
    spec, canaries = load_canary_set(folder / "canaries" / "manifest.json")
    truth = render(spec, canaries[0].prefix, canaries[0].secret)
    prompt, symbols = exposure.symbol_tree(load_tokenizer(folder / "model"), spec.alphabet, truth,
                                           canaries[0].secret)
    assert model.kv_cache
    cached = exposure.tree_log_perplexities(model, prompt, symbols, 3, 64)
    full = exposure._tree_full_rows(model, prompt, symbols, 3, 64)
    assert cached.shape == (len(spec.alphabet) ** 3,)
    np.testing.assert_allclose(cached, full, atol=1e-4)
