"""What is in a Hugging Face model folder, checked before anything is loaded from it.

Weights are read only from safetensors files, which hold tensors and nothing else.
Pickled weights (`pytorch_model.bin`, `.pt`, `.pth`, `.ckpt`) can run arbitrary code
when loaded, so a folder that has only those is refused (DESIGN.md: never load pickles
from user files). A config that asks for the model's own Python code (`auto_map`) is
refused too: converting must not execute anything that came with the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_core.errors import MnemoscopeError
from audit_core.fingerprint import file_sha256

PICKLED_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.json", "merges.txt", "tokenizer.model")


class ConversionError(MnemoscopeError):
    """The model folder cannot be converted, or the export failed its checks (exit 2)."""


@dataclass(frozen=True)
class SourceFolder:
    path: Path
    config: dict[str, Any]
    weights: tuple[Path, ...]        # safetensors files
    tokenizer_json: Path | None      # tokenizer.json, copied as is when present
    tokenizer_files: tuple[Path, ...]
    ignored_pickles: tuple[Path, ...]  # pickled weights beside safetensors: never read

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", "unknown"))

    def describe(self) -> dict[str, Any]:
        """The source as the manifest records it: every file read, with its hash."""
        read = [self.path / "config.json", *self.weights, *self.tokenizer_files]
        return {"folder": self.path.name, "model_type": self.model_type,
                "architectures": list(self.config.get("architectures") or []),
                "torch_dtype": self.config.get("torch_dtype") or self.config.get("dtype"),
                "files": [{"name": p.name, "sha256": file_sha256(p), "bytes": p.stat().st_size}
                          for p in read],
                "ignored_pickled_files": [p.name for p in self.ignored_pickles]}


def read_source(folder: str | Path) -> SourceFolder:
    """Check `folder` and list what will be read; raise `ConversionError` otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConversionError(f"{folder} is not a folder: give the Hugging Face model folder "
                              "(config.json, *.safetensors, tokenizer files)")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ConversionError(f"no config.json in {folder}: is it a Hugging Face model folder?")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise ConversionError(f"{config_path} is not valid JSON") from None
    if not isinstance(config, dict):
        raise ConversionError(f"{config_path} does not hold a JSON object")
    if config.get("auto_map"):
        raise ConversionError(f"{config_path} asks for the model's own Python code (auto_map); "
                              "Mnemoscope never runs code shipped with a model. Convert a model "
                              "whose architecture transformers implements")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    weights = tuple(p for p in files if p.suffix == ".safetensors")
    pickles = tuple(p for p in files if p.suffix.lower() in PICKLED_SUFFIXES)
    if not weights:
        if pickles:
            names = ", ".join(p.name for p in pickles)
            raise ConversionError(
                f"{folder} holds only pickled weights ({names}). Loading a pickle can run "
                "arbitrary code, so Mnemoscope refuses it. Ask the model's owner for "
                "safetensors weights, or on a machine you trust run: "
                "model = AutoModelForCausalLM.from_pretrained(folder); "
                "model.save_pretrained(new_folder, safe_serialization=True)")
        if any(p.suffix == ".gguf" for p in files):
            raise ConversionError(f"{folder} holds a GGUF file; load it with transformers "
                                  "(gguf_file=...) and save_pretrained it first (see docs/models.md, "
                                  "'Importing a Hugging Face model')")
        raise ConversionError(f"no *.safetensors weights in {folder}")
    tokenizer_files = tuple(folder / name for name in TOKENIZER_FILES if (folder / name).is_file())
    tokenizer_json = folder / "tokenizer.json"
    if not tokenizer_files:
        raise ConversionError(f"no tokenizer in {folder}: save the tokenizer the model was trained "
                              "with beside it (tokenizer.save_pretrained(folder))")
    return SourceFolder(folder, config, weights,
                        tokenizer_json if tokenizer_json.is_file() else None,
                        tokenizer_files, pickles)
