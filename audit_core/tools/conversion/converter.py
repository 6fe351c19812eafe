"""Convert a local Hugging Face causal LM folder into an audit-ready ONNX folder.

The output is what the engine reads (README, "What the model must look like"):
`model.onnx`, `tokenizer.json`, `config.json` and `manifest.json`.

One graph, with past key/values, serves both uses: scoring runs it with an empty past
(batch, heads, 0, head_dim), generation feeds the cache back token by token; the
engine's adapter already does both. A separate scoring graph would store every weight
a second time (a 135 M-parameter model would take 1.1 GB instead of 540 MB), and two
graphs could disagree with each other while the report pins only one SHA-256. The
parity check covers both uses of the one graph.

The export is accepted only after `controls.parity.check_parity`: onnxruntime against
torch on a ragged right-padded batch and a second shape, and greedy continuations of a
few prompts token for token. It is written to a staging folder and moved into place
only once checked, so a failure leaves nothing behind.

torch and transformers are imported only here, when a conversion runs: the audit
itself never needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit_core.tools.conversion.source import ConversionError, SourceFolder, read_source

MANIFEST_FORMAT = "mnemoscope-converted-model/1"
# Absolute |logit| difference accepted. The controls use 1e-4 (a few layers, small logits);
# a real 30-layer model (SmolLM2-135M, logits of magnitude ~20) differed by 1.7e-4 through
# float32 rounding alone, so imports allow 1e-3: at most 2e-3 in any token log-probability,
# far below what separates members from non-members.
DEFAULT_TOLERANCE = 1e-3
INSTALL_HINT = ("pip install torch==2.13.0 transformers==5.24.0  "
                "(or, from a clone: .venv/bin/pip install torch==2.13.0 -e '.[convert]')")


# What `on_step` reports, in order: each message starts with its step's key. A caller can
# list the steps before the first arrives (starting torch alone takes seconds). "folding"
# runs only for a model whose weights fit inside the .onnx file.
STEPS = (("starting", "Start torch and transformers"),
         ("loading", "Load the model from its local files"),
         ("exporting", "Export the ONNX graph with its KV cache"),
         ("folding", "Fold the graph's shape arithmetic"),
         ("checking", "Check onnxruntime against torch, then save"))


# Why a Mamba's export has no cache: see controls/mamba_export.py.
RECURRENT_GRAPHS = ("one graph input_ids + attention_mask -> logits, no recurrent-state cache; "
                    "generation recomputes the prefix at each step (greedy decoding checked "
                    "token for token against torch)")


class BackendMissing(ConversionError):
    """torch or transformers is not installed; converting needs them, auditing does not."""


@dataclass(frozen=True)
class ConversionReport:
    source: Path
    out_dir: Path
    architecture: str
    parameters: int
    max_abs_logit_diff: float
    tolerance: float
    shapes_checked: tuple[tuple[int, int], ...]
    greedy_identical: bool | None
    greedy_prompts: int
    onnx_bytes: int
    onnx_sha256: str
    seconds: float

    def summary(self) -> str:
        shapes = ", ".join(f"{b}x{t}" for b, t in self.shapes_checked)
        return (f"{self.architecture}, {self.parameters:,} parameters -> {self.out_dir}\n"
                f"  onnxruntime vs torch: max |logit difference| {self.max_abs_logit_diff:.3g} "
                f"(tolerance {self.tolerance:g}) on batches {shapes}; greedy continuations of "
                f"{self.greedy_prompts} prompts identical: "
                f"{'yes' if self.greedy_identical else 'no'}\n"
                f"  model.onnx {self.onnx_bytes / 1e6:.1f} MB, SHA-256 {self.onnx_sha256}; "
                f"{self.seconds:.1f} s")


def _import_backend() -> tuple[Any, Any]:
    try:
        torch = importlib.import_module("torch")
        transformers = importlib.import_module("transformers")
    except ImportError as exc:
        raise BackendMissing(f"converting a model needs torch and transformers "
                             f"({exc.name or 'a module'} is missing); auditing does not. "
                             f"Install them with: {INSTALL_HINT}") from None
    return torch, transformers


def _check_out_dir(source: SourceFolder, out_dir: Path, overwrite: bool) -> None:
    if out_dir.resolve() == source.path.resolve() or source.path.resolve() in out_dir.resolve().parents:
        raise ConversionError(f"write the converted model outside the source folder {source.path}")
    if out_dir.exists() and not out_dir.is_dir():
        raise ConversionError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise ConversionError(f"{out_dir} already holds files; choose an empty or new folder "
                              "(or pass --overwrite to replace it once the new export is checked)")


def _load_model(source: SourceFolder, torch, transformers):
    common = dict(local_files_only=True, trust_remote_code=False)
    transformers.utils.logging.disable_progress_bar()  # our own steps say what is happening
    try:
        return transformers.AutoModelForCausalLM.from_pretrained(
            str(source.path), use_safetensors=True, dtype=torch.float32,
            attn_implementation="eager", **common)
    except (ValueError, KeyError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        raise ConversionError(f"transformers cannot load {source.path} as a causal language "
                              f"model ({source.model_type}): {first_line}") from None


def _tokenizer(source: SourceFolder, transformers):
    """tokenizer.json as it is, or one made from the folder's other tokenizer files."""
    if source.tokenizer_json is not None:
        return source.tokenizer_json
    try:
        loaded = transformers.AutoTokenizer.from_pretrained(
            str(source.path), local_files_only=True, trust_remote_code=False)
    except (ValueError, OSError, ImportError) as exc:
        raise ConversionError(f"cannot read the tokenizer in {source.path} "
                              f"({exc.__class__.__name__}); save it as tokenizer.json with "
                              "a fast tokenizer") from None
    backend = getattr(loaded, "backend_tokenizer", None)
    if backend is None:
        raise ConversionError(f"the tokenizer in {source.path} has no tokenizer.json form; save it "
                              "with a fast tokenizer (AutoTokenizer ... save_pretrained)")
    return backend


def _tokenizer_size(tokenizer) -> int:
    from tokenizers import Tokenizer

    if isinstance(tokenizer, Path):
        tokenizer = Tokenizer.from_file(str(tokenizer))
    return tokenizer.get_vocab_size(with_added_tokens=True)


def convert_model(source: str | Path, out_dir: str | Path, *,
                  tolerance: float = DEFAULT_TOLERANCE, overwrite: bool = False,
                  on_step: Callable[[str], None] | None = None) -> ConversionReport:
    """Load `source` offline, export it to ONNX with a KV cache, verify, install `out_dir`."""
    import time

    started = time.perf_counter()
    say = on_step or (lambda _message: None)
    folder = read_source(source)
    out_dir = Path(out_dir)
    _check_out_dir(folder, out_dir, overwrite)
    say("starting torch and transformers")
    torch, transformers = _import_backend()

    from audit_core.tools.controls.export import ExportCheckError, export_model
    from audit_core.tools.controls.mamba_export import is_recurrent, set_context
    from audit_core.tools.controls.parity import GREEDY_PROMPTS, GraphShape
    from audit_core.version import TOOL_NAME, __version__

    say(f"loading {folder.path} ({folder.model_type}) from local files")
    with torch.no_grad():
        model = _load_model(folder, torch, transformers)
    tokenizer = _tokenizer(folder, transformers)
    recurrent = is_recurrent(model.config)
    if recurrent:  # Mamba/Mamba2: no position table, so the context the audit windows to
        set_context(model.config)
    shape = GraphShape.from_config(model.config)
    vocab = _tokenizer_size(tokenizer)
    if vocab > shape.vocab_size:
        raise ConversionError(f"the tokenizer in {folder.path} has {vocab} tokens but the model "
                              f"only {shape.vocab_size} outputs: they do not belong together")
    extra = {"source": folder.describe(),
             "converted": {"utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "by": f"{TOOL_NAME} {__version__} convert",
                           "loaded_with": "AutoModelForCausalLM.from_pretrained(local_files_only, "
                                          "use_safetensors, trust_remote_code=False, float32, "
                                          "eager attention)",
                           "graphs": RECURRENT_GRAPHS if recurrent else
                           "one graph with past key/values; scoring runs it with an empty past"}}
    try:
        report = export_model(model, tokenizer, out_dir, kv_cache=not recurrent,
                              tolerance=tolerance,
                              manifest_format=MANIFEST_FORMAT, manifest_extra=extra, on_step=say)
    except ExportCheckError as exc:
        raise ConversionError(f"the ONNX export of {folder.path.name} failed its check against "
                              f"torch, so nothing was written: {exc}") from None
    # The count the Model step shows for this folder, by the same function (the manifest
    # just written records torch's count; inspection prefers it: see _parameter_count).
    from audit_core.models.inspection import inspect_model

    parameters = inspect_model(report.out_dir).parameters
    return ConversionReport(folder.path, report.out_dir, shape.architecture, parameters,
                            report.max_abs_logit_diff, tolerance, report.shapes_checked,
                            report.greedy_identical, GREEDY_PROMPTS if report.greedy_identical
                            is not None else 0, report.onnx_bytes, report.onnx_sha256,
                            time.perf_counter() - started)
