"""The keys of the result's audit, model and dataset sections, as results.json holds them.

TypedDicts rather than dataclasses: each section goes to results.json as it is and comes
back from it unchanged (reports are re-rendered and verified from results.json), so a
TypedDict types the keys with no conversion layer that could drift from the file. The
sections are plain dicts at run time; only mypy reads these declarations.

`total=False` where the keys depend on the model kind (a causal LM has `precision`, a
tabular classifier `classes` and `features`, an encoder `embedding_output`) or on how the
audit went. Keys the run records but results.json leaves out (`RUN_AUDIT_KEYS`) are here
too: they live in run.json.
"""

from __future__ import annotations

from typing import Any, TypedDict


class FileEntry(TypedDict):
    """One file of a model folder, as hashed (models.inspection.ModelFile)."""

    name: str
    sha256: str
    bytes: int


class TensorEntry(TypedDict):
    """One graph input or output: shape entries are sizes or symbolic names ("batch", "?")."""

    name: str
    type: str
    shape: list[int | str]


class AuditSection(TypedDict, total=False):
    """Who asked for the audit and how it ended (results.json "audit")."""

    id: str  # the audit id: the same plan and files give the same id
    report_id: str
    title: str
    institution: str
    requester: str
    auditor: str
    intended_use: str
    release_context: str
    outcome: str  # "completed" or "cancelled"
    seed: int
    started_utc: str  # run.json only (RUN_AUDIT_KEYS)
    finished_utc: str
    seconds: float


class ModelSection(TypedDict, total=False):
    """What was inspected about the audited model (results.json "model")."""

    # Every kind (models.inspection.ModelInfo.as_dict, then the run's additions)
    name: str
    path: str
    sha256: str
    files: list[FileEntry]
    kind: str  # causal_lm, tabular_classifier, encoder, masked_lm
    producer: str
    ir_version: int
    opset: int
    parameters: int
    inputs: list[TensorEntry]
    outputs: list[TensorEntry]
    context_length: int | None
    context_source: str
    declared: dict[str, Any]  # the model card's free-form claims (model.declared)
    conversion: dict[str, Any] | None  # the converter's manifest, when there is one
    notes: list[str]
    hidden_states: bool
    kv_cache: bool
    vocab_size: int | None
    tokenizer_vocab_size: int | None
    tokenizer_matches: bool | None
    execution_provider: str
    # Causal language models
    precision: str
    precision_label: str  # int8 and fp16 only
    int8_agreement: dict[str, float | int]  # int8 only: rank agreement with fp32
    fp16_agreement: dict[str, float | int]  # fp16 only: rank agreement with fp32
    side_inputs: dict[str, str]  # graph input -> source (models/side_inputs.py); only when any
    # Tabular classifiers
    classes: list[str]  # OnnxTabularClassifier.classes
    features: int
    probability_output: str
    reference: ModelSection  # the reference model (the keys of its own inspection, and role)
    role: str  # the reference's only: "shadow" or "base" (results/reference_role.py)
    # Encoders
    embedding_output: str | None  # None: the export has no embeddings output
    mlm_output: str | None  # None: no masked-LM head
    mask_token_found: bool


class DatasetSection(TypedDict, total=False):
    """One audited file (results.json "datasets", one entry per role)."""

    role: str  # members or non_members
    file: str
    sha256: str
    format: str
    records: int
    columns: dict[str, str | list[str]]  # the plan's data.columns (id, kind, sequence, features...)
    tokens: int | None
    records_windowed: int | None
    unknown_token_share: float | None
    records_truncated: int  # encoders: records cut to the context
    label_counts: dict[str, int]  # tabular: records per class label
