"""Folding an export's shape arithmetic (models/shape_folding.py): far fewer nodes, the
same output bits at every batch / sequence / past length, the same greedy and sampled
tokens through the engine, and a rewrite that changes any number is refused."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch")

from audit_core.models import shape_folding
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.runtime import session_options
from audit_core.tools.controls.export import _export_graph, export_model
from audit_core.tools.controls.refold import main as refold_main
from audit_core.tools.controls.refold import refold
from audit_core.tools.controls.tokenizer import build_tokenizer
from audit_core.tools.controls.trainer import TINY, build_model


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """The same untrained TINY GPT-2 as the exporter writes it (unfolded) and as
    export_model installs it (folded), KV-cache graph."""
    root = tmp_path_factory.mktemp("folding")
    tokenizer = build_tokenizer()
    model = build_model(TINY, tokenizer, seed=3).eval()
    report = export_model(model, tokenizer, root / "folded")
    assert report.shape_arithmetic_folded
    unfolded = root / "unfolded"
    shutil.copytree(root / "folded", unfolded)
    _export_graph(model, unfolded / "model.onnx", kv_cache=True)
    return {"folded": root / "folded", "unfolded": unfolded, "vocab": model.config.vocab_size}


def _session(path: Path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), session_options(1), providers=["CPUExecutionProvider"])


def test_folded_graph_has_far_fewer_nodes_and_says_so(exports) -> None:
    nodes = {k: len(onnx.load(str(exports[k] / "model.onnx")).graph.node)
             for k in ("folded", "unfolded")}
    assert nodes["folded"] < nodes["unfolded"] / 2, nodes
    manifest = json.loads((exports["folded"] / "manifest.json").read_text())
    assert manifest["onnx"]["shape_arithmetic_folded"] is True
    assert manifest["verification"]["greedy_identical_to_torch"] is True


@pytest.mark.parametrize("batch,seq,past", [(1, 1, 0), (4, 9, 0), (2, 1, 11), (3, 6, 4)])
def test_outputs_are_bit_identical(exports, batch, seq, past) -> None:
    # Shapes the folding's own check (shape_folding._PROBES) does not use.
    rng = np.random.default_rng(batch * 100 + seq * 10 + past)
    folded, unfolded = (_session(exports[k] / "model.onnx") for k in ("folded", "unfolded"))
    feed = shape_folding._probe_feed(unfolded, rng, batch, seq, past, exports["vocab"])
    feed["attention_mask"][0, past + max(1, seq // 2):] = 0  # a row padded halfway
    ours, theirs = folded.run(None, feed), unfolded.run(None, feed)
    assert [o.name for o in folded.get_outputs()] == [o.name for o in unfolded.get_outputs()]
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and np.array_equal(a, b)


def test_engine_tokens_are_identical(exports) -> None:
    engines = {k: OnnxCausalLM(inspect_model(exports[k]), 1, provider="cpu")
               for k in ("folded", "unfolded")}
    prompts = np.random.default_rng(0).integers(4, exports["vocab"], (2, 5))
    greedy = {k: e.greedy(prompts, 12) for k, e in engines.items()}
    assert np.array_equal(greedy["folded"], greedy["unfolded"])
    drawn = {k: e.sample([prompts[0], prompts[1, :3]], 8, n=3, rng=np.random.default_rng(7),
                         temperature=0.9, top_p=0.95) for k, e in engines.items()}
    assert np.array_equal(drawn["folded"].tokens, drawn["unfolded"].tokens)
    assert np.array_equal(drawn["folded"].mass, drawn["unfolded"].mass)


def test_a_rewrite_that_changes_numbers_is_refused(exports, tmp_path, monkeypatch) -> None:
    path = tmp_path / "model.onnx"
    _export_graph(build_model(TINY, build_tokenizer(), seed=3).eval(), path, kv_cache=True)
    before = path.read_bytes()
    real = shape_folding.fold_shape_arithmetic

    def folds_then_breaks(model) -> int:
        removed = real(model)
        norm = next(n for n in model.graph.node if n.op_type == "LayerNormalization")
        kept = [a for a in norm.attribute if a.name != "epsilon"]
        del norm.attribute[:]
        norm.attribute.extend([*kept, onnx.helper.make_attribute("epsilon", 0.5)])
        return removed
    monkeypatch.setattr(shape_folding, "fold_shape_arithmetic", folds_then_breaks)
    assert shape_folding.fold_export_file(path, exports["vocab"]) is False
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no candidate left
    monkeypatch.setattr(shape_folding, "fold_shape_arithmetic", real)
    monkeypatch.setattr(shape_folding, "MAX_FOLD_BYTES", len(before) - 1)
    assert shape_folding.fold_export_file(path, exports["vocab"]) is False  # too large
    monkeypatch.setattr(shape_folding, "MAX_FOLD_BYTES", len(before))
    assert shape_folding.fold_export_file(path, exports["vocab"]) is True
    assert len(onnx.load(str(path)).graph.node) < len(onnx.load_from_string(before).graph.node)


def test_refold_folds_an_old_export_and_records_it(exports, tmp_path) -> None:
    old = tmp_path / "old"
    shutil.copytree(exports["unfolded"], old)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["onnx"]["shape_arithmetic_folded"] = False  # as written before the exporter folded
    (old / "manifest.json").write_text(json.dumps(manifest))
    before = _session(old / "model.onnx")
    feed = shape_folding._probe_feed(before, np.random.default_rng(5), 3, 7, 2, exports["vocab"])
    expected = before.run(None, feed)

    assert refold(old) is True
    after = json.loads((old / "manifest.json").read_text())["onnx"]
    data = (old / "model.onnx").read_bytes()
    assert after["shape_arithmetic_folded"] is True
    assert after["bytes"] == len(data) and after["sha256"] == hashlib.sha256(data).hexdigest()
    for a, b in zip(_session(old / "model.onnx").run(None, feed), expected):
        assert np.array_equal(a, b)
    assert refold(old) is False  # already folded: the file is left alone
    assert (old / "model.onnx").read_bytes() == data
    assert refold_main([str(tmp_path / "missing")]) == 2  # a clear message, no traceback


@pytest.mark.parametrize("folder", sorted(p.parent for p in (Path(__file__).parents[2] / "resources").glob(
    "*/*/model/manifest.json")) + [Path(__file__).parents[2] / "resources/demo/model"],
    ids=lambda p: "/".join(p.parts[-3:]))
def test_committed_exports_match_their_manifests(folder) -> None:
    """Each committed export's manifest names its model file's bytes and hash; the
    transformer graphs are folded (the demo's audit ran 3 s slower unfolded, issue 21)."""
    onnx_section = json.loads((folder / "manifest.json").read_text())["onnx"]
    data = (folder / "model.onnx").read_bytes()
    assert onnx_section["bytes"] == len(data)
    assert onnx_section["sha256"] == hashlib.sha256(data).hexdigest()
    if "Mamba" not in json.loads((folder / "manifest.json").read_text())["model"]["architecture"]:
        assert onnx_section["shape_arithmetic_folded"] is True
