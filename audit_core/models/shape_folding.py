"""Fold an exported decoder's shape arithmetic into a few reads of its input shapes.

The TorchScript exporter writes every `view`/`reshape` of a transformers model as a chain
of `Shape -> Gather -> Unsqueeze -> Concat` nodes (about 90 per GPT-2 layer against 15
that compute). onnxruntime cannot fold them: the shapes they read are dynamic (batch,
sequence, past length), so it runs them on every call, which costs little in a batch
of long records but about as much as a layer's matrix products when one token is
decoded at a time.

Symbolic shape inference (onnxruntime's `SymbolicShapeInference`, sympy) shows that
nearly all those tensors are plain functions of the graph's input dimensions: a vector
such as [batch, seq, 512]. Each such tensor is replaced by one `Gather` from a single
vector of the input shapes (or by a constant), and the chains that computed it are
dropped. The nodes that compute (MatMul, Gemm, Softmax, ...) are kept as they are, so
the logits are the same bits. `fold_export_file` accepts the folded graph only if
onnxruntime returns identical outputs from both graphs on probe inputs of several
batch, sequence and past lengths (padded rows included); otherwise the export keeps the
graph the exporter wrote. Used at export time only (controls/export.py): an existing
export is never rewritten, and the audit reads either form alike.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

_PREFIX = "mnemoscope_fold/"
# About 250M float32 parameters.
MAX_FOLD_BYTES = 1_000_000_000
# (batch, seq, past) probe shapes: a prompt, a padded batch, decode steps after a cache.
_PROBES = ((1, 5, 0), (3, 4, 0), (2, 1, 3), (1, 1, 6), (2, 3, 2))


def fold_shape_arithmetic(model) -> int:
    """Rewrite `model` (an onnx.ModelProto, changed in place) and return how many nodes
    fewer it has; 0, with the model unchanged, when shape inference is incomplete or no
    shape tensor is a plain function of the input dimensions."""
    import onnx
    import sympy
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    graph = model.graph
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
           for n in graph.node for a in n.attribute):
        return 0  # subgraphs read outer names: not worth the risk
    # The public `infer_shapes` writes a temporary file into the working directory when
    # inference is incomplete, and returns no values; its steps are run here instead.
    inference = SymbolicShapeInference(2**31 - 1, False, False, 0)
    quiet = logging.getLogger("onnxruntime.tools.symbolic_shape_infer")
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        inference._preprocess(model)
        complete = False
        while inference.run_:
            complete = inference._infer_impl()
    finally:
        quiet.setLevel(level)
    if not complete:
        return 0
    values, known = inference.sympy_data_, inference.known_vi_

    initializers = {i.name for i in graph.initializer}
    sources: dict[str, tuple[str, int]] = {}  # symbolic dimension -> (graph input, axis)
    for tensor in graph.input:
        if tensor.name in initializers:
            continue
        for axis, dim in enumerate(tensor.type.tensor_type.shape.dim):
            if dim.dim_param:
                sources.setdefault(dim.dim_param, (tensor.name, axis))

    def elements(value) -> list[int | str] | None:
        out: list[int | str] = []
        for item in (value if isinstance(value, list) else [value]):
            if isinstance(item, (int, np.integer, sympy.Integer)):
                out.append(int(item))
            elif isinstance(item, sympy.Symbol) and str(item) in sources:
                out.append(str(item))
            else:
                return None  # an expression (past + seq) or an unknown symbol
        return out

    producers = {name: node for node in graph.node for name in node.output}
    outputs = {o.name for o in graph.output}
    foldable: dict[str, tuple[tuple[int | str, ...], bool]] = {}
    for name, value in values.items():
        node = producers.get(name)
        info = known.get(name)
        if node is None or node.op_type == "Constant" or name in outputs or info is None:
            continue
        tensor_type = info.type.tensor_type
        rank = len(tensor_type.shape.dim)
        if tensor_type.elem_type != TensorProto.INT64 or rank > 1:
            continue
        found = elements(value)
        if found is None or (rank == 0 and len(found) != 1):
            continue
        foldable[name] = (tuple(found), rank == 0)
    if not foldable:
        return 0

    # One vector holding every input dimension used, then every constant that appears
    # beside one: each folded tensor is a single Gather from it, or a constant.
    mixed = [items for items, _ in foldable.values() if not all(isinstance(i, int) for i in items)]
    used = sorted({i for items in mixed for i in items if isinstance(i, str)},
                  key=lambda s: sources[s])
    constants = sorted({i for items in mixed for i in items if isinstance(i, int)})
    shapes = list(dict.fromkeys(sources[s][0] for s in used))
    ranks = {t.name: len(t.type.tensor_type.shape.dim) for t in graph.input}
    offsets, at = {}, 0
    for source in shapes:
        offsets[source] = at
        at += ranks[source]
    position: dict[int | str, int] = {s: offsets[sources[s][0]] + sources[s][1] for s in used}
    position.update({c: at + k for k, c in enumerate(constants)})
    new_nodes, new_inits = [], []
    dims = _PREFIX + "dims"
    parts = []
    for source in shapes:
        parts.append(_PREFIX + "shape/" + source)
        new_nodes.append(helper.make_node("Shape", [source], [parts[-1]], name=parts[-1]))
    if constants:
        parts.append(_PREFIX + "constants")
        new_inits.append(numpy_helper.from_array(np.array(constants, dtype=np.int64), parts[-1]))
    if mixed:
        new_nodes.append(helper.make_node("Concat", parts, [dims], name=dims, axis=0))
    replacement: dict[tuple[tuple[int | str, ...], bool], str] = {}
    for items, scalar in dict.fromkeys(foldable.values()):
        name = f"{_PREFIX}v{len(replacement)}"
        replacement[(items, scalar)] = name
        if all(isinstance(i, int) for i in items):
            new_inits.append(numpy_helper.from_array(
                np.array(items[0] if scalar else list(items), dtype=np.int64), name))
            continue
        index = [position[i] for i in items]
        new_inits.append(numpy_helper.from_array(
            np.array(index[0] if scalar else index, dtype=np.int64), name + "/index"))
        new_nodes.append(helper.make_node("Gather", [dims, name + "/index"], [name], name=name,
                                          axis=0))
    renamed = {old: replacement[key] for old, key in foldable.items()}
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name in renamed:
                node.input[k] = renamed[name]

    before = len(graph.node)
    needed = set(outputs)
    kept = []
    for node in reversed([*new_nodes, *graph.node]):  # drop what no output needs any more
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    kept.reverse()
    del graph.node[:]
    graph.node.extend(kept)
    graph.initializer.extend(new_inits)
    unused = [i for i in graph.initializer if i.name not in needed]
    for init in unused:
        graph.initializer.remove(init)
    del graph.value_info[:]  # shapes of removed tensors; onnxruntime infers the rest
    return before - len(kept)


def fold_export_file(path: Path, vocab_size: int) -> bool:
    """Fold `path` (an ONNX file with its weights inside) in place when the folded graph
    gives bit-identical outputs; returns whether it was rewritten. Files over
    `MAX_FOLD_BYTES` are left alone: a token's matrix products dwarf the shape
    arithmetic there, and the check would hold two more copies of the weights."""
    import onnx

    if path.stat().st_size > MAX_FOLD_BYTES:
        return False
    candidate = path.with_name(path.name + ".folded")
    try:
        model = onnx.load(str(path))
        if fold_shape_arithmetic(model) <= 0:
            return False
        onnx.checker.check_model(model)
        onnx.save(model, str(candidate))
        del model
        if not _same_outputs(path, candidate, vocab_size):
            return False
        candidate.replace(path)
        return True
    except Exception:  # noqa: BLE001 - an unusual graph: the exporter's own is correct, keep it
        return False
    finally:
        candidate.unlink(missing_ok=True)


def _same_outputs(original: Path, folded: Path, vocab_size: int) -> bool:
    import onnxruntime as ort

    from audit_core.models.runtime import session_options

    sessions = [ort.InferenceSession(str(p), session_options(1), providers=["CPUExecutionProvider"])
                for p in (original, folded)]
    rng = np.random.default_rng(0)
    for batch, seq, past in _PROBES:
        feed = _probe_feed(sessions[0], rng, batch, seq, past, vocab_size)
        if feed is None:
            return False
        if not all(np.array_equal(a, b, equal_nan=True)
                   for a, b in zip(*(s.run(None, feed) for s in sessions))):
            return False
    return True


def _probe_feed(session, rng, batch: int, seq: int, past: int, vocab_size: int):
    inputs = session.get_inputs()
    has_past = any(i.name.startswith("past_") for i in inputs)
    past = past if has_past else 0
    feed = {}
    for tensor in inputs:
        if tensor.name == "input_ids":
            feed[tensor.name] = rng.integers(0, vocab_size, (batch, seq)).astype(np.int64)
        elif tensor.name == "attention_mask":
            mask = np.ones((batch, past + seq), dtype=np.int64)
            if batch > 1 and seq > 1:
                mask[-1, -1] = 0  # a right-padded row
            feed[tensor.name] = mask
        elif tensor.name == "position_ids":
            feed[tensor.name] = np.tile(np.arange(past, past + seq, dtype=np.int64), (batch, 1))
        elif tensor.name.startswith("past_") and len(tensor.shape) == 4:
            heads, dim = tensor.shape[1], tensor.shape[3]
            if not isinstance(heads, int) or not isinstance(dim, int):
                return None
            feed[tensor.name] = rng.normal(0, 1, (batch, heads, past, dim)).astype(np.float32)
        else:
            return None  # an input the probe cannot fill
    return feed
