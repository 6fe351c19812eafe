"""How the report labels the precision the model ran at: fp32, the int8 fast screen, or fp16.

An int8 or fp16 run is a different model from the audited fp32 weights (models/precision.py):
the cover says so before any verdict, and the model table gives its measured rank
agreement with fp32.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.results.figures import format_count, format_decimal

_WORDS = {"int8": "int8 fast screen: weights quantized to int8 for speed (not the fp32 evidence)",
          "fp16": "fp16: weights and activations in half precision for a GPU (not the fp32 evidence)"}


def is_int8_screen(model: Mapping[str, Any]) -> bool:
    return model.get("precision") == "int8"


def precision_text(model: Mapping[str, Any]) -> str:
    precision = model.get("precision")
    if precision not in _WORDS:
        return "fp32 (the model's own weights)" if precision == "fp32" else "not recorded"
    text = _WORDS[precision]
    agreement = model.get(f"{precision}_agreement")
    if isinstance(agreement, Mapping) and isinstance(agreement.get("spearman"), (int, float)):
        text += (f"; ranks records like fp32 with Spearman {format_decimal(agreement['spearman'], 4)} on "
                 f"{format_count(agreement.get('records'))} records (largest per-token log-probability "
                 f"difference {format_decimal(agreement.get('max_abs_logprob_diff'), 3)})")
    return text


def int8_notice() -> str:
    return ("INT8 FAST SCREEN: the model ran with its weights quantized to int8 (dynamic "
            "quantization) to screen quickly. Scores differ slightly from the model's own "
            "fp32 weights; confirm any finding, and any pass that matters, with an fp32 audit.")


def precision_notice(model: Mapping[str, Any]) -> str | None:
    """The cover's warning for a run that was not at the model's own fp32 precision."""
    if is_int8_screen(model):
        return int8_notice()
    if model.get("precision") == "fp16":
        return ("FP16: the model ran in half precision (weights and activations converted "
                "from fp32) for speed on a GPU. Scores differ slightly from the model's own "
                "fp32 weights; confirm any finding, and any pass that matters, with an fp32 audit.")
    return None
