"""How the report labels the precision the model ran at: fp32, or the int8 fast screen.

An int8 run is a screen (models/precision.py): the cover says so before any verdict, and
the model table gives its measured rank agreement with fp32.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.results.figures import format_count, format_decimal


def is_int8_screen(model: Mapping[str, Any]) -> bool:
    return model.get("precision") == "int8"


def precision_text(model: Mapping[str, Any]) -> str:
    if not is_int8_screen(model):
        return "fp32 (the model's own weights)" if model.get("precision") == "fp32" else "not recorded"
    text = "int8 fast screen: weights quantized to int8 for speed (not the fp32 evidence)"
    agreement = model.get("int8_agreement")
    if isinstance(agreement, Mapping) and isinstance(agreement.get("spearman"), (int, float)):
        text += (f"; ranks records like fp32 with Spearman {format_decimal(agreement['spearman'], 4)} on "
                 f"{format_count(agreement.get('records'))} records (largest per-token log-probability "
                 f"difference {format_decimal(agreement.get('max_abs_logprob_diff'), 3)})")
    return text


def int8_notice() -> str:
    return ("INT8 FAST SCREEN: the model ran with its weights quantized to int8 (dynamic "
            "quantization) to screen quickly. Scores differ slightly from the model's own "
            "fp32 weights; confirm any finding, and any pass that matters, with an fp32 audit.")
