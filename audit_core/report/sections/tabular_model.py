"""The model and data facts of a tabular classifier, in place of the language-model ones.

A risk model has no context, KV cache or vocabulary; what identifies how it was scored
is its feature columns (in input order), its classes and its probability output, and
for the data the label distribution of each file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Align, Block, Paragraph, Table, TextStyle
from .values import as_list, as_mapping, as_text, format_count, role_label

TABULAR_CLASSIFIER = "tabular_classifier"


def is_tabular(model: Mapping[str, Any]) -> bool:
    return model.get("kind") == TABULAR_CLASSIFIER


def tabular_identity_rows(model: Mapping[str, Any], plan: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    columns = as_mapping(as_mapping(as_mapping(plan).get("data")).get("columns"))
    features = [as_text(f) for f in as_list(columns.get("features"))]
    return [
        ("Features", f"{format_count(model.get('features'))}: {', '.join(features)}"
         if features else format_count(model.get("features"))),
        ("Label column", as_text(columns.get("label"))),
        ("Classes", ", ".join(as_text(c) for c in as_list(model.get("classes")))),
        ("Probability output", as_text(model.get("probability_output"))),
        ("Execution provider", as_text(model.get("execution_provider"))),
    ]


def tabular_dataset_blocks(datasets: list[Mapping[str, Any]]) -> list[Block]:
    classes = sorted({c for d in datasets for c in as_mapping(d.get("label_counts"))})
    rows = tuple(
        (role_label(d.get("role")), as_text(d.get("file")), format_count(d.get("records")),
         *(format_count(as_mapping(d.get("label_counts")).get(c)) for c in classes))
        for d in datasets)
    share = 0.5 / max(1, len(classes))
    return [
        Table(header=("Role", "File", "Records", *(f"Label {c}" for c in classes)), rows=rows,
              widths=(0.16, 0.22, 0.12, *(share,) * len(classes)),
              align=(Align.LEFT, Align.LEFT, *(Align.RIGHT,) * (1 + len(classes)))),
        Paragraph("Members: patients the model was trained on. Non-members: patients it was "
                  "not trained on, the control every member figure is compared with. Each "
                  "record is one row of the feature columns named in the model section; its "
                  "label is the outcome the attacks compare the model's prediction with.",
                  TextStyle.NOTE),
    ]
