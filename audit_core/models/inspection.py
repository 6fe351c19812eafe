"""What the tool sees in a model: files, hashes, signature, kind, vocabulary, context.

`inspect_model` reads the ONNX graph and the files beside it; it does not run the
model. Every fact it returns goes into results.json and the report's model section.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from audit_core.errors import ModelError
from audit_core.fingerprint import file_sha256
from audit_core.models.model_files import regular_file_present, require_regular_file
from audit_core.models.onnx_messages import dtype_name, load_graph_only, messages
from audit_core.models.positions import context_length_of
from audit_core.models.tokenizer_loading import TOKENIZER_FILE, load_tokenizer

CAUSAL_LM = "causal_lm"
# Recognised from the signature too (see `_kind`); each has its own audit path.
TABULAR_CLASSIFIER = "tabular_classifier"  # float features [N, F] -> label + class probabilities
ENCODER = "encoder"  # token ids -> one embedding per record
MASKED_LM = "masked_lm"  # token ids -> per-position vocabulary logits of a masked-LM head
KIND_NAMES = {CAUSAL_LM: "causal language model", TABULAR_CLASSIFIER: "tabular classifier",
              ENCODER: "text/code encoder (embeddings)",
              MASKED_LM: "encoder with a masked-language-model head"}
UNKNOWN = "unknown"
MANIFEST_FILE = "manifest.json"  # written by `mnemoscope convert` and the control exports
HIDDEN_STATES = "hidden_states"  # optional output name (controls/export.py, hidden_states=True)


@dataclass(frozen=True, slots=True)
class TensorSpec:
    name: str
    type: str
    shape: tuple[int | str, ...]


@dataclass(frozen=True, slots=True)
class FileInfo:
    name: str
    sha256: str
    bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    name: str
    path: Path
    folder: Path
    sha256: str
    kind: str
    parameters: int
    files: tuple[FileInfo, ...]
    opset: int | None
    ir_version: int
    producer: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    vocab_size: int | None
    tokenizer_vocab_size: int | None
    context_length: int | None
    context_source: str
    kv_cache: bool
    notes: tuple[str, ...] = field(default=())
    # An output 'hidden_states' [batch, seq, hidden]: the embedding probe reads it.
    hidden_states: bool = False
    # How the export was checked against the original model, from manifest.json; None
    # when the folder has no such manifest (an export made outside Mnemoscope).
    conversion: dict[str, Any] | None = None

    @property
    def tokenizer_matches(self) -> bool | None:
        if self.vocab_size is None or self.tokenizer_vocab_size is None:
            return None
        # A model's output may be padded past the tokenizer (to a multiple of 64, say):
        # harmless. A tokenizer larger than the model would index past its embeddings.
        return self.tokenizer_vocab_size <= self.vocab_size

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = self.path.name
        out.pop("folder")
        out["inputs"] = [{"name": t.name, "type": t.type, "shape": list(t.shape)} for t in self.inputs]
        out["outputs"] = [{"name": t.name, "type": t.type, "shape": list(t.shape)} for t in self.outputs]
        out["files"] = [asdict(f) for f in self.files]
        out["notes"] = list(self.notes)
        out["tokenizer_matches"] = self.tokenizer_matches
        return out


def resolve_model_path(path: Path) -> Path:
    """The .onnx file for a folder or file argument; it must be a regular file (a FIFO
    would block every later open forever)."""
    if path.is_dir():
        candidates = sorted(path.glob("*.onnx"))
        if not candidates:
            raise ModelError(f"no .onnx file in the model folder {path}")
        preferred = [c for c in candidates if c.name == "model.onnx"]
        if not preferred and len(candidates) > 1:
            raise ModelError(f"the model folder {path} holds several .onnx files "
                             f"({', '.join(c.name for c in candidates)}): name one of them")
        chosen = (preferred or candidates)[0]
        require_regular_file(chosen, f"model not found: {chosen}")
        return chosen
    require_regular_file(path, f"model not found: {path}")
    if path.suffix.lower() != ".onnx":
        raise ModelError(f"{path} is not an .onnx file")
    return path


def inspect_model(path: Path, context_length: int | None = None) -> ModelInfo:
    """Read the graph and the files beside it; refuse what cannot be audited."""
    model_path = resolve_model_path(path)
    folder = model_path.parent
    try:
        proto = load_graph_only(model_path)  # onnx's messages alone (models/onnx_messages.py)
    except Exception as exc:  # protobuf raises DecodeError, RuntimeError, ... for corrupt files
        raise ModelError(f"{model_path.name} is not a valid ONNX model "
                         f"({exc.__class__.__name__}); re-export it") from None
    graph = proto.graph
    if not graph.node:
        raise ModelError(f"{model_path.name} holds an empty ONNX graph")

    files = [model_path] + _external_files(graph, folder, model_path.name)
    tokenizer_path = folder / TOKENIZER_FILE
    if regular_file_present(tokenizer_path):
        files.append(tokenizer_path)
    config_path = folder / "config.json"
    if regular_file_present(config_path):
        files.append(config_path)
    side_path = folder / "side_inputs.json"  # the export's side-input mapping (models/side_inputs.py)
    if regular_file_present(side_path):
        files.append(side_path)
    file_infos = tuple(FileInfo(f.name, file_sha256(f), f.stat().st_size) for f in files)

    initializer_names = {init.name for init in graph.initializer}
    inputs = tuple(_spec(v) for v in graph.input if v.name not in initializer_names)
    outputs = tuple(_spec(v) for v in graph.output)
    kind = _kind(inputs, outputs, folder)
    vocab = _vocab_size(outputs)
    notes: list[str] = []

    tokenizer_vocab = None
    if kind in (CAUSAL_LM, ENCODER, MASKED_LM):
        tokenizer = load_tokenizer(folder)
        tokenizer_vocab = tokenizer.get_vocab_size(with_added_tokens=True)
    context, source = context_length_of(folder, context_length, graph, inputs, model_path)
    opsets = [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")]
    return ModelInfo(
        name=model_path.name, path=model_path, folder=folder, sha256=file_infos[0].sha256,
        kind=kind, parameters=_parameter_count(graph, _recorded_parameters(folder, file_infos[0].sha256)),
        files=file_infos,
        opset=opsets[0] if opsets else None, ir_version=proto.ir_version,
        producer=f"{proto.producer_name} {proto.producer_version}".strip(),
        inputs=inputs, outputs=outputs, vocab_size=vocab, tokenizer_vocab_size=tokenizer_vocab,
        context_length=context, context_source=source,
        kv_cache=any("past" in t.name for t in inputs), notes=tuple(notes),
        hidden_states=any(t.name == HIDDEN_STATES and len(t.shape) == 3 for t in outputs),
        conversion=_conversion(folder, file_infos[0].sha256),
    )


def _conversion(folder: Path, model_sha256: str) -> dict[str, Any] | None:
    """The export's verification record, and whether it is about this very model file."""
    path = folder / MANIFEST_FILE
    if not regular_file_present(path):
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        check = manifest["verification"]
        onnx_section = manifest.get("onnx", {})
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return {"manifest": MANIFEST_FILE, "readable": False}
    source = manifest.get("source") or {}
    return {
        "manifest": MANIFEST_FILE, "readable": True, "format": manifest.get("format"),
        "source": source.get("folder"), "source_files": source.get("files", []),
        "architecture": (manifest.get("model") or {}).get("architecture"),
        "exporter": onnx_section.get("exporter"),
        "converted_utc": (manifest.get("converted") or {}).get("utc"),
        "max_abs_logit_diff": check.get("max_abs_logit_diff"),
        "tolerance": check.get("tolerance"),
        "shapes_checked": check.get("shapes_checked"),
        "greedy_prompts": check.get("greedy_prompts"),
        "greedy_new_tokens": check.get("greedy_new_tokens"),
        "greedy_identical_to_torch": check.get("greedy_identical_to_torch"),
        "runtime": check.get("runtime"),
        "versions": manifest.get("versions", {}),
        # A manifest left beside a re-exported or edited model says nothing about it.
        "matches_model": onnx_section.get("sha256") == model_sha256,
    }


def require_causal_lm(info: ModelInfo) -> None:
    """Refuse, with the reason, a model the language-model probes cannot run on."""
    if info.kind in KIND_NAMES and info.kind != CAUSAL_LM:
        # These kinds have their own entries in kinds/ (KINDS); only a caller that needs a
        # language model (its adapter, the LM estimate) meets this.
        raise ModelError(f"{info.name} is a {KIND_NAMES[info.kind]}, not a causal language "
                         "model: audit it with `mnemoscope run` and a plan (docs/models.md: "
                         "Tabular risk models and encoders)")
    if info.kind != CAUSAL_LM:
        names = ", ".join(t.name for t in info.inputs)
        raise ModelError(f"{info.name} is not a causal language model: expected an input "
                         f"'input_ids' and an output 'logits' of shape [batch, seq, vocab] "
                         f"(found inputs: {names})")
    if info.tokenizer_matches is False:
        raise ModelError(f"the tokenizer beside {info.name} has {info.tokenizer_vocab_size} tokens "
                         f"but the model's output has only {info.vocab_size}: they do not belong "
                         "together (export the model with the tokenizer it was trained with)")
    if info.context_length is None:
        raise ModelError(f"the context length of {info.name} is unknown: put the model's "
                         "config.json beside it, or set 'model.context_length' in the plan")


def model_kind(path: Path) -> str:
    """The model's kind from its graph's signature alone (runs nothing). Only the inputs
    and outputs are parsed, never the weights (models/onnx_signature.py): the runner asks
    this before `inspect_model` parses the whole graph."""
    from audit_core.models.onnx_signature import read_signature

    try:
        model_path = resolve_model_path(path)
        signature = read_signature(model_path)
    except Exception:  # inspect_model names the problem; the causal-LM path calls it
        return UNKNOWN
    return _kind(tuple(_spec(v) for v in signature.inputs if v.name not in signature.initializers),
                 tuple(_spec(v) for v in signature.outputs), model_path.parent)


def _spec(value: Any) -> TensorSpec:
    if value.type.HasField("sequence_type"):  # skl2onnx's ZipMap: one {class: probability} per row
        element = value.type.sequence_type.elem_type
        return TensorSpec(value.name, "seq(map)" if element.HasField("map_type") else "seq", ())
    tensor = value.type.tensor_type
    dims: list[int | str] = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        else:
            dims.append(dim.dim_param or "?")
    type_name = dtype_name(tensor.elem_type) if tensor.elem_type else "?"
    return TensorSpec(value.name, type_name, tuple(dims))


def _kind(inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...], folder: Path) -> str:
    has_ids = any(t.name == "input_ids" for t in inputs)
    logits = [t for t in outputs if t.name in ("logits", "mlm_logits")]
    if has_ids and logits and len(logits[0].shape) == 3:
        # Causal and masked LMs share this signature; an MLM head says so by its output's
        # name, by exporting embeddings beside it, or by the architecture in config.json.
        # (Not 'last_hidden_state': a causal LM may export that beside its logits too.)
        pooled = any(t.name in EMBEDDING_OUTPUTS[:3] for t in outputs)
        if (logits[0].name == "mlm_logits" or pooled
                or "MaskedLM" in " ".join(_architectures(folder))):
            return MASKED_LM
        return CAUSAL_LM
    if has_ids and embedding_output(outputs) is not None:
        return ENCODER
    if _is_tabular(inputs, outputs):
        return TABULAR_CLASSIFIER
    return UNKNOWN


EMBEDDING_OUTPUTS = ("embeddings", "sentence_embedding", "pooler_output", "last_hidden_state")


def embedding_output(outputs: tuple[TensorSpec, ...]) -> TensorSpec | None:
    """The output an encoder's embeddings come from: [batch, dim], or [batch, seq, dim] (pooled)."""
    for name in EMBEDDING_OUTPUTS:
        for spec in outputs:
            if spec.name == name and len(spec.shape) in (2, 3) and spec.type.startswith("float"):
                return spec
    return None


def _is_tabular(inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...]) -> bool:
    """One float input [N, F] and a probability output (a [N, C] tensor or a ZipMap)."""
    if len(inputs) != 1 or not inputs[0].type.startswith("float") or len(inputs[0].shape) != 2:
        return False
    return tabular_probability_output(outputs) is not None


def tabular_probability_output(outputs: tuple[TensorSpec, ...]) -> TensorSpec | None:
    for spec in outputs:
        if spec.type == "seq(map)":
            return spec
    for spec in outputs:
        if "prob" in spec.name.lower() and spec.type.startswith("float") and len(spec.shape) == 2:
            return spec
    return None


def _architectures(folder: Path) -> list[str]:
    if not regular_file_present(folder / "config.json"):
        return []
    try:
        values = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    names = values.get("architectures") if isinstance(values, dict) else None
    return [str(n) for n in names] if isinstance(names, list) else []


def _vocab_size(outputs: tuple[TensorSpec, ...]) -> int | None:
    for spec in outputs:
        if spec.name == "logits" and spec.shape and isinstance(spec.shape[-1], int):
            return spec.shape[-1]
    return None  # symbolic: the adapter reads it from a one-token run


def _parameter_count(graph: Any, recorded: int | None = None) -> int:
    """The model's parameters, each stored tensor once (tied embeddings once, no buffers).

    `recorded` is the count the export's manifest took from the source model, used when
    that manifest is about this very file: the ONNX exporter merges initializers that hold
    equal values, so a graph can hold fewer weights than its model has (an untrained GPT-2
    of 53,152 parameters exports 52,544: its LayerNorm weights, all ones, and biases, all
    zeros, become shared tensors). Otherwise the graph's weight tensors are counted."""
    if recorded is not None:
        return recorded
    tensor = messages().TensorProto
    floats = {tensor.FLOAT, tensor.FLOAT16, tensor.BFLOAT16, tensor.DOUBLE, tensor.INT8, tensor.UINT8}
    return int(sum(math.prod(init.dims) for init in graph.initializer if init.data_type in floats))


def _recorded_parameters(folder: Path, model_sha256: str) -> int | None:
    """The parameter count manifest.json records for this model file, if it has one."""
    path = folder / MANIFEST_FILE
    if not regular_file_present(path):
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        matches = manifest["onnx"]["sha256"] == model_sha256
        count = manifest["model"]["parameters"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return None
    valid = matches and isinstance(count, int) and not isinstance(count, bool) and count > 0
    return count if valid else None


def _external_files(graph: Any, folder: Path, model_name: str) -> list[Path]:
    """Files holding external weights; refuse any that point outside the model folder."""
    found: dict[str, Path] = {}
    root = folder.resolve()
    for init in graph.initializer:
        for entry in init.external_data:
            if entry.key != "location":
                continue
            target = (folder / entry.value).resolve()
            if root not in target.parents:
                raise ModelError(f"{model_name} refers to weights outside its folder; refusing to read them")
            require_regular_file(target, f"{model_name} needs the weights file '{entry.value}', "
                                         "which is missing")
            found[entry.value] = target
    return [found[k] for k in sorted(found)]
