"""What exactly was audited: the model's identity and the cohorts (compliance.md 6.4,
6.5), in one section.

A verdict is only worth something if a second auditor can tell that their model and
their files are the ones this report is about: the model appears with its SHA-256 and the
facts that change how it is scored (context length, KV cache, vocabulary, execution
provider); every file's SHA-256 and the model's signature are in the appendix, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Align, Block, Code, Heading, Paragraph, Section, Table, TextStyle
from .precision import precision_text
from .provenance import declared_blocks, membership_blocks, split_validity_blocks
from .reference_text import reference_rows
from .tabular_model import is_tabular, tabular_dataset_blocks, tabular_identity_rows
from .values import (
    as_list,
    as_mapping,
    as_text,
    format_count,
    format_percent,
    is_number,
    role_label,
)

KIND_LABELS = {
    "causal_lm": "Causal language model (decoder)",
    "encoder": "Encoder",
    "tabular": "Tabular classifier",
    "tabular_classifier": "Tabular classifier (class probabilities)",
    "masked_lm": "Encoder with a masked-language-model head",
}


def model_section(results: Mapping[str, Any], number: int) -> Section:
    """The model and the cohorts in one section: what was audited, on which records. Every
    file's SHA-256 and the model's signature are in the appendix."""
    model = as_mapping(results.get("model"))
    blocks: list[Block] = [_identity_table(model, as_mapping(results.get("plan")))]
    blocks += declared_blocks(model)
    blocks += [Heading("Datasets", 3), *_dataset_blocks(results, model)]
    blocks += membership_blocks(results)
    blocks += split_validity_blocks(results)
    return Section(key="model", title=f"{number}. Model and data", blocks=tuple(blocks))


def _identity_table(model: Mapping[str, Any], plan: Mapping[str, Any] | None = None) -> Table:
    kind = model.get("kind")
    rows: list[tuple[str, Any]] = [
        ("Name", as_text(model.get("name"))),
        ("SHA-256", Code(as_text(model.get("sha256")))),
        ("Kind", KIND_LABELS.get(kind, as_text(kind)) if isinstance(kind, str) else as_text(kind)),
        ("Parameters", format_count(model.get("parameters"))),
        ("ONNX format", f"IR version {as_text(model.get('ir_version'))}, opset {as_text(model.get('opset'))}, "
                        f"produced by {as_text(model.get('producer'))}"),
        ("Context length", _context(model)),
        ("KV cache", _kv_cache(model.get("kv_cache"))),
        ("Execution provider", as_text(model.get("execution_provider"))),
        ("Vocabulary size", _vocabulary(model)),
    ]
    rows += reference_rows({"model": model})  # which reference calibrated the attacks, if any
    if "precision" in model:  # language models since issue 7; older results lack it
        rows.append(("Precision", precision_text(model)))
    if is_tabular(model):  # no context, cache or vocabulary: its inputs and classes instead
        # Tree ensembles keep their thresholds in node attributes: no weight count to show.
        kept = rows[:5] if model.get("parameters") else rows[:3] + rows[4:5]
        rows = kept + tabular_identity_rows(model, plan)
    return Table(header=(), rows=tuple(rows), widths=(0.26, 0.74), key_value=True)


def _context(model: Mapping[str, Any]) -> str:
    value = model.get("context_length")
    text = f"{format_count(value)} tokens" if is_number(value) else as_text(value)
    source = model.get("context_source")
    return f"{text} (from {as_text(source)})" if source else text


def _kv_cache(value: Any) -> str:
    if value is True:
        return "yes: generation reuses past keys and values"
    if value is False:
        return "no: each generated token recomputes the whole prefix"
    return as_text(value)


def _vocabulary(model: Mapping[str, Any]) -> str:
    model_size, tokenizer_size = model.get("vocab_size"), model.get("tokenizer_vocab_size")
    text = f"model {format_count(model_size)}, tokenizer {format_count(tokenizer_size)}"
    matches = model.get("tokenizer_matches")
    if matches is True:
        return text + ": the tokenizer matches the model"
    if matches is False:
        # A mismatched tokenizer makes every score meaningless; it must stand out.
        return text + ": MISMATCH, the tokenizer does not fit the model"
    return text


def _dataset_blocks(results: Mapping[str, Any], model: Mapping[str, Any]) -> list[Block]:
    datasets = [as_mapping(d) for d in as_list(results.get("datasets"))]
    if not datasets:
        return [Paragraph("No dataset is recorded in this audit.", TextStyle.ALERT)]
    counts = tuple(
        (
            role_label(d.get("role")),
            as_text(d.get("file")),
            as_text(as_mapping(d.get("columns")).get("kind")),
            format_count(d.get("records")),
            format_count(d.get("tokens")),
            format_count(d.get("records_windowed")),
            format_percent(d.get("unknown_token_share")),
        )
        for d in datasets
    )
    if is_tabular(model):  # the files' SHA-256 are in the appendix
        return tabular_dataset_blocks(datasets)
    context = model.get("context_length")
    longer = f" ({format_count(context)} tokens)" if is_number(context) else ""
    return [
        Table(
            header=("Role", "File", "Content", "Records", "Tokens", "In windows", "Unknown tokens"),
            rows=counts,
            widths=(0.14, 0.22, 0.1, 0.12, 0.12, 0.13, 0.17),
            align=(Align.LEFT, Align.LEFT, Align.LEFT, *(Align.RIGHT,) * 4),
        ),
        Paragraph(
            "Non-members: records the model was not trained on, the control every member figure "
            f"is compared with. In windows: records longer than the context{longer}, scored in "
            "overlapping windows. Unknown tokens: the share the tokenizer could not map; a high "
            "share makes every score suspect.",
            TextStyle.NOTE,
        ),
    ]
