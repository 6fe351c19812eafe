"""Hostile inputs through the real CLI: each gets exit code 2, one line naming the file or
setting and the problem, no traceback, and an output folder's earlier results untouched.

The corpus is generated here (nothing big is committed): broken ONNX files and model
folders, malformed cohort files, and plans with absurd settings.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper

from audit_core.cli.main import main
from tests.conftest import DEMO, write_plan

PREVIOUS = b'{"schema": "mnemoscope.results/2", "note": "an earlier finished audit"}\n'
PREVIOUS_RUN = json.dumps({"schema": "mnemoscope.run/1", "audit_id": "MNS-EARLIER-AUDIT",
                           "outputs_sha256": {"results.json": hashlib.sha256(PREVIOUS).hexdigest()}}).encode()
FEW = "[probes.loss]\n"


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    members = pd.read_csv(DEMO / "members.csv", dtype=str).head(30)
    non_members = pd.read_csv(DEMO / "non_members.csv", dtype=str).head(30)
    return members, non_members


class Case:
    """One hostile setup: files in `folder`, then the CLI is run on the plan it returns."""

    def __init__(self, folder: Path, cohorts: tuple[pd.DataFrame, pd.DataFrame]) -> None:
        self.folder = folder
        self.members, self.non_members = (c.copy() for c in cohorts)
        self.model = DEMO / "model"
        self.members_file = folder / "members.csv"
        self.non_members_file = folder / "non_members.csv"
        self.probes = FEW
        self.extra = ""
        self.plan_edits: list[tuple[str, str]] = []  # (old, new) in the plan's text
        self.plan_bytes: bytes | None = None  # replaces the plan file outright
        self.write_members = True

    def model_copy(self) -> Path:
        target = self.folder / "model"
        if not target.exists():
            shutil.copytree(DEMO / "model", target)
        self.model = target
        return target

    def write(self) -> Path:
        if self.write_members and not self.members_file.exists():
            self.members.to_csv(self.members_file, index=False)
        if not self.non_members_file.exists():
            self.non_members.to_csv(self.non_members_file, index=False)
        plan = write_plan(self.folder, model=self.model, members=self.members_file,
                          non_members=self.non_members_file, probes=self.probes, extra=self.extra)
        text = plan.read_text()
        for old, new in self.plan_edits:
            assert old in text
            text = text.replace(old, new)
        plan.write_bytes(self.plan_bytes if self.plan_bytes is not None else text.encode("utf-8"))
        return plan


def _tiny_graph(folder: Path, *, input_name: str = "input_ids", logits_rank: int = 3,
                external: str | None = None) -> Path:
    """A one-node ONNX model beside the demo's tokenizer and config."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(DEMO / "model" / name, folder / name)
    ids = helper.make_tensor_value_info(input_name, TensorProto.INT64, ["batch", "sequence"])
    weight = helper.make_tensor("table", TensorProto.FLOAT, [200, 8], np.zeros(1600, np.float32).tolist())
    nodes = [helper.make_node("Gather", ["table", input_name], ["logits"])]
    shape: list = ["batch", "sequence", 8][:logits_rank] if logits_rank < 3 else ["batch", "sequence", 8]
    if logits_rank == 2:
        nodes = [helper.make_node("Gather", ["table", input_name], ["g"]),
                 helper.make_node("ReduceSum", ["g"], ["logits"], keepdims=0)]
        shape = []
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, shape or None)
    graph = helper.make_graph(nodes, "tiny", [ids], [logits], initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    if external is not None:
        table = model.graph.initializer[0]
        table.ClearField("float_data")
        table.data_location = TensorProto.EXTERNAL
        table.external_data.add(key="location", value=external)
    onnx.save(model, folder / "model.onnx")
    return folder


def _truncated_onnx(case: Case) -> str:
    onnx_file = case.model_copy() / "model.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes()[: onnx_file.stat().st_size // 3])
    return "model.onnx"


def _random_onnx(case: Case) -> str:
    onnx_file = case.model_copy() / "model.onnx"
    onnx_file.write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return "model.onnx"


def _external_outside(case: Case) -> str:
    (case.folder / "stolen.bin").write_bytes(b"\0" * 6400)
    case.model = _tiny_graph(case.folder / "model", external="../stolen.bin")
    return "outside its folder"


def _unexpected_input(case: Case) -> str:
    case.model = _tiny_graph(case.folder / "model", input_name="pixels")
    return "model.onnx is not a causal language model: expected an input 'input_ids'"


def _unexpected_shape(case: Case) -> str:
    case.model = _tiny_graph(case.folder / "model", logits_rank=2)
    return "model.onnx is not a causal language model"


def _tokenizer_past_vocab(case: Case) -> str:
    folder = case.model_copy()
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    vocab = tokenizer["model"]["vocab"]
    start = max(vocab.values()) + 1
    for i in range(5000):  # far past the model's outputs
        vocab[f"EXTRA_{i}"] = start + i
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    case.members.loc[0, "codes"] = "VISIT " + " ".join(f"EXTRA_{i}" for i in range(4990, 5000))
    return "has 5801 tokens but the model's output has only 801"


def _corrupt_tokenizer(case: Case) -> str:
    (case.model_copy() / "tokenizer.json").write_bytes(b"\xff\xfe not json {")
    return "tokenizer.json is not a readable tokenizer file"


def _missing_model(case: Case) -> str:
    case.model = case.folder / "no-such-model"
    return "no-such-model"


def _missing_members_file(case: Case) -> str:
    case.members_file = case.folder / "absent.csv"
    case.write_members = False
    return "data file not found"


def _unsupported_format(case: Case) -> str:
    case.members_file = case.folder / "members.xlsx"
    case.members_file.write_bytes(b"PK\x03\x04")
    return "members.xlsx: unsupported file type"


def _missing_column(case: Case) -> str:
    case.members = case.members.drop(columns=["patient_id"])
    return "members.csv has no column 'patient_id'"


def _misnamed_column(case: Case) -> str:
    case.non_members = case.non_members.rename(columns={"codes": "Codes "})
    return "non_members.csv has no column 'codes'"


def _empty_file(case: Case) -> str:
    case.members_file.write_bytes(b"")
    return "members.csv is empty"


def _header_only(case: Case) -> str:
    case.members.head(0).to_csv(case.members_file, index=False)
    return "members.csv holds no records"


def _one_row(case: Case) -> str:
    case.non_members = case.non_members.head(1)
    return "non_members.csv holds only 1 record"


def _non_utf8(case: Case) -> str:
    case.members.to_csv(case.members_file, index=False)
    data = case.members_file.read_bytes().replace(b"VISIT", b"VIS\xe9T\xff", 1)
    case.members_file.write_bytes(data)
    return "members.csv is not UTF-8"


def _nan_text(case: Case) -> str:
    case.members_file = case.folder / "members.jsonl"
    case.members.loc[3, "codes"] = None
    case.members.to_json(case.members_file, orient="records", lines=True)
    return "members.jsonl: 1 records have an empty 'codes'"


def _empty_text(case: Case) -> str:
    case.non_members.loc[2, "codes"] = "   "
    return "non_members.csv: 1 records have an empty 'codes'"


def _million_characters(case: Case) -> str:
    case.members.loc[0, "codes"] = "x" * 1_000_000
    return "members.csv: 1 records hold more than 500,000 characters"


def _duplicate_ids(case: Case) -> str:
    case.members.loc[5, "patient_id"] = case.members.loc[4, "patient_id"]
    return "members.csv: 1 records repeat an id"


def _overlapping_cohorts(case: Case) -> str:
    case.non_members = pd.concat([case.non_members, case.members.head(3)])
    return "share 3 ids"


def _negative_batch(case: Case) -> str:
    case.plan_edits.append(("batch_size = 32", "batch_size = -4"))
    return "model.batch_size"


def _seed_as_text(case: Case) -> str:
    case.plan_edits.append(("seed = 7", 'seed = "seven"'))
    return "audit.seed"


def _k_over_100(case: Case) -> str:
    case.probes = "[probes.min_k]\nk = 1.5\n"
    return "probes.min_k.k"


def _negative_prefix(case: Case) -> str:
    case.probes = "[probes.extraction]\nprefix_tokens = -24\nsuffix_tokens = 16\n"
    return "probes.extraction.prefix_tokens"


def _context_too_short(case: Case) -> str:
    case.probes = "[probes.extraction]\nprefix_tokens = 100\nsuffix_tokens = 100\n"
    return "prefix_tokens"


def _fpr_over_one(case: Case) -> str:
    case.extra = "[thresholds.membership]\nprimary_fpr = 1.5\n"
    return "thresholds.membership.primary_fpr"


def _unknown_key(case: Case) -> str:
    case.extra = "[thresholds.membershp]\nprimary_fpr = 0.01\n"
    return "thresholds.membershp"


def _non_utf8_plan(case: Case) -> str:
    case.plan_bytes = b'[audit]\ntitle = "Audit \xe9\xff"\n'
    return "plan.toml is not UTF-8 text"


def _malformed_plan(case: Case) -> str:
    case.plan_bytes = b"[model\npath = \n"
    return "plan.toml is not valid TOML"


CASES: dict[str, Callable[[Case], str]] = {
    "truncated ONNX": _truncated_onnx,
    "random-byte ONNX": _random_onnx,
    "external data outside the model folder": _external_outside,
    "unexpected input name": _unexpected_input,
    "unexpected output shape": _unexpected_shape,
    "tokenizer larger than the model's vocabulary": _tokenizer_past_vocab,
    "corrupt tokenizer.json": _corrupt_tokenizer,
    "missing model": _missing_model,
    "missing members file": _missing_members_file,
    "unsupported file type": _unsupported_format,
    "missing column": _missing_column,
    "misnamed column": _misnamed_column,
    "empty file": _empty_file,
    "header only, no records": _header_only,
    "one-row file": _one_row,
    "non-UTF-8 bytes": _non_utf8,
    "NaN text": _nan_text,
    "empty text": _empty_text,
    "a million-character record": _million_characters,
    "duplicate ids": _duplicate_ids,
    "overlapping member and non-member cohorts": _overlapping_cohorts,
    "k above 100%": _k_over_100,
    "negative prompt length": _negative_prefix,
    "prompt longer than the context": _context_too_short,
    "FPR above 1": _fpr_over_one,
    "misspelt threshold family": _unknown_key,
    "negative batch size": _negative_batch,
    "seed given as text": _seed_as_text,
    "non-UTF-8 plan": _non_utf8_plan,
    "malformed plan": _malformed_plan,
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_is_refused_clearly(name: str, tmp_path: Path, cohorts, capsys) -> None:
    case = Case(tmp_path, cohorts)
    expected = CASES[name](case)
    plan = case.write()
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_bytes(PREVIOUS)
    (out / "run.json").write_bytes(PREVIOUS_RUN)  # records results.json as Mnemoscope's own

    code = main(["run", str(plan), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, f"{name}: exit {code}\n{err}"
    assert "Traceback" not in err and err.startswith("mnemoscope: error: "), err
    assert len(err.strip().splitlines()) == 1, err
    assert expected.lower() in err.lower(), f"{name}: {err}"
    # What was finished before is untouched, and no half-written result sits beside it.
    assert (out / "results.json").read_bytes() == PREVIOUS
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "run.json"]
