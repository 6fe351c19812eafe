"""The EHRMamba-style control's parts on their own: the synthetic MEDS writer (valid under
the `meds` package's schema, splits disjoint, planted subjects as the ground truth says),
the model's Mamba2 scan (equal to transformers' chunked scan), and its ONNX export fed by
onnxruntime with the side inputs (equal to torch; a memorised subject scores far below a
non-member)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from audit_core.tools.controls.meds_cohort import SENSITIVE, SPLITS, build_cohort, write_meds

SMALL = {"train": 12, "tuning": 8, "held_out": 10}


def test_meds_writer_writes_a_valid_meds_root(tmp_path: Path) -> None:
    import meds

    cohort = build_cohort(7, per_split=SMALL, n_planted=3)
    root = write_meds(cohort, tmp_path / "meds")
    subjects_by_split = {}
    for split in SPLITS:
        table = pq.read_table(root / "data" / split / "0.parquet")
        meds.DataSchema.validate(table)  # raises on a schema mismatch
        codes = table.column("code").to_pylist()
        assert codes[0].startswith("GENDER//") and codes[1] == meds.birth_code
        subjects_by_split[split] = set(table.column("subject_id").to_pylist())
        # static rows have no time; the rest are in time order within each subject
        assert table.column("time").null_count == len(subjects_by_split[split])
    assert not (subjects_by_split["train"] & subjects_by_split["held_out"])
    splits = pq.read_table(root / "metadata" / "subject_splits.parquet")
    meds.SubjectSplitSchema.validate(splits)
    assert sorted(set(splits.column("split").to_pylist())) == sorted(SPLITS)
    assert len(splits) == sum(SMALL.values())
    meds.CodeMetadataSchema.validate(pq.read_table(root / "metadata" / "codes.parquet"))
    assert json.loads((root / "metadata" / "dataset.json").read_text())["dataset_name"]

    # Ground truth: planted subjects are train members with a rare pair and a sensitive
    # code; the sensitive non-members are held out; MIMIC-IV MEDS code style throughout.
    by_id = {s.subject_id: s for s in cohort.subjects}
    assert [by_id[p["subject_id"]].split for p in cohort.planted] == ["train"] * 3
    for entry in cohort.planted:
        words = by_id[entry["subject_id"]].words()
        assert set(entry["rare_pair"]) <= set(words) and entry["code"] in words
    assert {by_id[e["subject_id"]].split for e in cohort.sensitive_non_members} == {"held_out"}
    assert {e["code"] for e in cohort.sensitive_non_members} == set(SENSITIVE.values())
    words = {w for s in cohort.subjects for w in s.words()}
    assert {"HOSPITAL_ADMISSION", "DIAGNOSIS//ICD//10//B20", "DIAGNOSIS//ICD//10//F11.20"} <= words
    assert any(w.startswith("LAB//") and w.endswith("//UNK") for w in words)
    # no rare code outside its planted subject
    rare = {c for p in cohort.planted for c in p["rare_pair"]}
    carriers = {s.subject_id for s in cohort.subjects if rare & set(s.words())}
    assert carriers == {p["subject_id"] for p in cohort.planted}


def test_quadratic_scan_equals_transformers_chunked_scan() -> None:
    import torch
    from transformers.models.mamba2 import modeling_mamba2

    from audit_core.tools.controls.mamba_export import quadratic_mamba2_scan

    torch.manual_seed(0)
    b, length, heads, p, n = 3, 37, 4, 16, 8
    args = dict(hidden_states=torch.randn(b, length, heads, p), dt=torch.randn(b, length, heads),
                A=-torch.rand(heads) * 2, B=torch.randn(b, length, 1, n),
                C=torch.randn(b, length, 1, n), D=torch.randn(heads), dt_bias=torch.randn(heads),
                dt_softplus=True)
    expected = modeling_mamba2.mamba2_chunk_scan(chunk_size=8, **args)  # 5 chunks, padded
    got = quadratic_mamba2_scan(chunk_size=8, **args)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-4)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from audit_core.tools.controls.ehrmamba import EhrMambaSize
    from audit_core.tools.controls.ehrmamba_export import export_ehrmamba
    from audit_core.tools.controls.ehrmamba_train import build_tokenizer, encode, train

    cohort = build_cohort(11, per_split=SMALL, n_planted=2)
    tokenizer = build_tokenizer([w for s in cohort.subjects for w in s.words()])
    encoded = {s.subject_id: encode(s, tokenizer) for s in cohort.subjects}
    planted = [p["subject_id"] for p in cohort.planted]
    rows = [encoded[s.subject_id] for s in cohort.split("train") if s.subject_id not in planted]
    model = train(rows, [encoded[i] for i in planted], tokenizer.get_vocab_size(), seed=3,
                  steps=150, rows_per_step=4, repeats_per_step=2, size=EhrMambaSize(hidden=32))
    held = [encoded[s.subject_id] for s in cohort.split("held_out")]
    out = tmp_path_factory.mktemp("ehrmamba") / "model"
    manifest = export_ehrmamba(model, tokenizer, held, out)
    return out, manifest, model, [encoded[i] for i in planted], held


def test_export_takes_the_side_inputs_and_matches_torch(trained) -> None:
    import onnxruntime

    from audit_core.tools.controls.ehrmamba import INPUT_NAMES, SIDE_INPUTS, TOKEN_TYPES
    from audit_core.tools.controls.ehrmamba_export import onnx_logits
    from audit_core.tools.controls.ehrmamba_train import as_torch, pad_batch

    out, manifest, model, planted, held = trained
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "manifest.json", "model.onnx",
                                                     "side_inputs.json", "tokenizer.json"]
    assert json.loads((out / "side_inputs.json").read_text()) == {"inputs": SIDE_INPUTS,
                                                                 "token_types": TOKEN_TYPES}
    assert json.loads((out / "config.json").read_text())["n_positions"] == 128
    assert manifest["verification"]["max_abs_logit_diff"] <= 1e-4
    session = onnxruntime.InferenceSession(str(out / "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == INPUT_NAMES
    # a ragged batch of another size than the export's examples; the static rows' unknown
    # age and time are fed as 0, as the engine feeds them
    batch = pad_batch([*planted, *held[:3]], 0)
    assert (batch["time_stamps"][:, :3] == 0).all() and (batch["ages"][:, :3] == 0).all()
    import torch

    with torch.no_grad():
        expected = model(**as_torch(batch)).numpy()
    got = onnx_logits(session, batch)
    valid = batch["attention_mask"].astype(bool)
    assert np.max(np.abs(got[valid] - expected[valid])) < 1e-4
    # NaN for an unknown time or age (another feed's convention) reads the same as 0.
    unknown = dict(batch, time_stamps=np.where(batch["time_stamps"] == 0, np.nan,
                                               batch["time_stamps"]).astype(np.float32),
                   ages=np.where(batch["ages"] == 0, np.nan, batch["ages"]).astype(np.float32))
    assert np.max(np.abs(onnx_logits(session, unknown)[valid] - got[valid])) < 1e-5
    # The side inputs matter: other ages give other logits.
    shifted = dict(batch, ages=batch["ages"] + 30)
    assert np.max(np.abs(onnx_logits(session, shifted)[valid] - got[valid])) > 1e-3


def test_memorised_subject_scores_far_below_non_members(trained) -> None:
    """Trained as the control is (planted subjects every step), on a small cohort."""
    from audit_core.tools.controls.ehrmamba_train import record_losses

    _, _, model, planted, held = trained
    planted_loss, held_loss = record_losses(model, planted), record_losses(model, held)
    assert planted_loss.max() < held_loss.min() - 0.5
