"""`mnemoscope inspect` on a causal LM: load it with the runtime (which proves it loads and
reads a symbolic vocabulary size), and list its side inputs with the mapping a run would
use, proposals flagged for a person to check.

A model whose side inputs are not declared yet is still loaded with the proposed mapping
(and, for token types, a placeholder table): inspection is where the mapping is made, so
it must not be refused for lacking one. An input no name rule fits is listed, and the
model is not loaded: a run would refuse it until the plan maps it.
"""

from __future__ import annotations

from typing import Any

from audit_core.models.inspection import ModelInfo


def load_for_inspection(info: ModelInfo) -> dict[str, Any]:
    """The details `inspect` adds for a causal LM: vocabulary, runtime, side inputs."""
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.side_inputs import read_side_inputs_file, side_input_rows

    rows = side_input_rows(info)
    details: dict[str, Any] = {"side_inputs": rows} if rows else {}
    if any(r["source"] is None for r in rows):
        return details
    _, declared_types = read_side_inputs_file(info.folder)
    mapping = {r["name"]: r["source"] for r in rows if r["origin"] != "fed by the tool"}
    placeholder = {"other": 0} if "type" in mapping.values() and not declared_types else None
    model = OnnxCausalLM(info, inputs=mapping, token_types=placeholder)
    details.update(vocab_size=model.vocab_size, tokenizer_matches=model.info.tokenizer_matches,
                   execution_provider=model.provider)
    return details


def side_input_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The terminal's lines for the side inputs (empty for a model without any)."""
    if not rows:
        return []
    lines = ["Side inputs (what each is fed from; [model.inputs] in the plan overrides):"]
    for row in rows:
        shape = "[" + ", ".join(str(d) for d in row["shape"]) + "]"
        source = row["source"] or "?"
        lines.append(f"  {row['name']:<18} {row['type']:<8} {shape:<16} <- {source} ({row['origin']})")
    return lines
