"""How many tokens a model reads at once: its context length, and the size of its position
table that a plan's `model.context_length` must not exceed.

A learned position table has one row per position; past its last row the model indexes
outside it and onnxruntime fails mid-run, after the cohorts are read. So a plan asking for
more is refused before the run, naming the key and where the limit was read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from audit_core.errors import ModelError, PlanError
from audit_core.models.model_files import regular_file_present

_CONFIG_CONTEXT_KEYS = ("n_positions", "max_position_embeddings", "n_ctx", "max_seq_len")


def context_length_of(folder: Path, override: int | None, graph: Any,
                      inputs: tuple[Any, ...], model_path: Path) -> tuple[int | None, str]:
    if override is None:  # the config's word only: a guess from the graph is not a fact to report
        return _config_context(folder) or (None, "unknown")
    table = position_table(folder, graph, inputs)
    if table is not None and override > table[0]:
        # Past its position table the model indexes outside it: onnxruntime fails mid-run,
        # after the cohorts are read, instead of the plan being refused now.
        raise PlanError(f"'model.context_length' is {override:,} but {folder.name}/{model_path.name} "
                        f"has positions for {table[0]:,} tokens, per {table[1]}: set it to at most "
                        f"{table[0]:,}, or leave it out to use {table[0]:,}")
    return override, "plan"


# Initializers that hold a learned position-embedding table, one row per position: GPT-2's
# wpe, BERT's and GPT-Neo's position_embeddings, OPT's and BART's embed_positions.
_POSITION_TABLE = re.compile(r"(^|[./_])(wpe|position_embeddings?|embed_positions|pos_emb(edding)?s?)"
                             r"([./_]|$)", re.IGNORECASE)


def position_table(folder: Path, graph: Any, inputs: tuple[Any, ...]) -> tuple[int, str] | None:
    """How many positions the model can read, and where that was found: config.json's
    n_positions (or its synonyms), else the rows of a position-embedding initializer,
    else a fixed sequence length of `input_ids`. None when nothing says (rotary models
    without a config: their limit is not in the graph)."""
    declared = _config_context(folder)
    if declared is not None:
        return declared
    for init in graph.initializer:
        if len(init.dims) == 2 and init.dims[0] > 1 and _POSITION_TABLE.search(init.name):
            return int(init.dims[0]), f"the rows of its position table '{init.name}'"
    for spec in inputs:
        if spec.name == "input_ids" and len(spec.shape) == 2 and isinstance(spec.shape[1], int) \
                and spec.shape[1] > 1:
            return spec.shape[1], "the fixed length of its input 'input_ids'"
    return None


def _config_context(folder: Path) -> tuple[int, str] | None:
    config = folder / "config.json"
    if not regular_file_present(config):
        return None
    try:
        values = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ModelError(f"{config} is not valid JSON") from None
    for key in _CONFIG_CONTEXT_KEYS:
        value = values.get(key) if isinstance(values, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 1:
            return value, f"config.json ({key})"
    return None
