"""Step 1, Model: choose a folder or an .onnx file; see what the tool found in it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from audit_core.models.inspection import ModelInfo
from audit_core.results.reference_role import DEFAULT_REFERENCE_ROLE
from desktop.audit_controller import AuditController
from desktop.error_dialog import show_error
from desktop.pages.step_page import StepPage
from desktop.plan_draft import PlanDraft
from desktop.settings import AppSettings
from desktop.widgets.reference_box import ReferenceBox
from desktop.widgets.side_input_table import SideInputTable

KIND_LABELS = {"causal_lm": "Causal language model (ONNX)",
               "tabular_classifier": "Tabular classifier (ONNX): reads rows of numbers",
               "encoder": "Text/code encoder (ONNX): reads records, gives embeddings",
               "masked_lm": "Encoder with a masked-language-model head (ONNX)"}
# Facts that describe token-reading models only; a tabular classifier has none of them.
TOKEN_FACTS = ("vocabulary", "tokenizer", "context", "kv")


def _inspect(path: Path, context_length: int | None) -> ModelInfo:
    """The model's facts; refuses what no audit path can read (the core's own checks)."""
    from audit_core.models.inspection import CAUSAL_LM, KIND_NAMES, inspect_model, require_causal_lm

    info = inspect_model(path, context_length)
    if info.kind == CAUSAL_LM or info.kind not in KIND_NAMES:
        require_causal_lm(info)  # says what is missing for a language model
    return info


def _size(info: ModelInfo) -> str:
    total = sum(f.bytes for f in info.files)
    for unit in ("bytes", "KB", "MB", "GB"):
        if total < 1024 or unit == "GB":
            return f"{total:,.0f} {unit}" if unit == "bytes" else f"{total:,.1f} {unit}"
        total /= 1024
    return ""


NO_KV_PREFIX = "Slow generation: this export has no KV cache, so "

REFERENCE_HELP = {
    "tokens": "A second model of the same tokenizer that never saw these members: the public "
              "base model this one was fine-tuned from, or a model trained on other patients. "
              "It enables the probes that compare against a reference (RMIA, LiRA, EZ-MIA, WBC).",
    "tabular": "A classifier of the same features and classes trained without these members. "
               "It enables the calibrated probes (offline LiRA)."}


class ModelPage(StepPage):
    step_title = "Model"
    inspected = Signal(object)  # ModelInfo, or None when the model cannot be used
    reference_changed = Signal(bool)

    def __init__(self, controller: AuditController, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.settings = settings
        self.info: ModelInfo | None = None
        self.path: Path | None = None
        self.context_length: int | None = None
        self._error = ""
        self.add_lead("Choose the model to audit: a folder holding model.onnx, tokenizer.json "
                      "and config.json, or an .onnx file.")
        row = QHBoxLayout()
        self.path_field = QLineEdit()
        self.path_field.setReadOnly(True)
        self.path_field.setPlaceholderText("No model chosen")
        self.path_field.setAccessibleName("Model path")
        self.folder_button = QPushButton("Choose folder…")
        self.file_button = QPushButton("Choose .onnx file…")
        self.folder_button.clicked.connect(self._choose_folder)
        self.file_button.clicked.connect(self._choose_file)
        row.addWidget(self.path_field, 1)
        row.addWidget(self.folder_button)
        row.addWidget(self.file_button)
        self.layout_.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(self.status)

        self.facts_box = QGroupBox("What Mnemoscope found")
        self.facts = QFormLayout(self.facts_box)
        self.fact_labels: dict[str, QLabel] = {}
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for key, label in (("kind", "Kind"), ("file", "File"), ("size", "Size on disk"),
                           ("parameters", "Parameters"), ("inputs", "Inputs"), ("vocabulary", "Vocabulary"),
                           ("tokenizer", "Tokenizer"), ("context", "Context length"),
                           ("kv", "Fast generation"), ("sha256", "SHA-256")):
            value = QLabel("")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(key != "sha256")
            if key == "sha256":
                value.setFont(QFont(mono))
            self.fact_labels[key] = value
            self.facts.addRow(f"{label}:", value)
        self.facts_box.setVisible(False)
        # An export without a KV cache: what it costs and the fix (run/decoding_notice.py).
        self.kv_note = QLabel("")
        self.kv_note.setWordWrap(True)
        self.kv_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kv_note.setProperty("state", "warning")
        self.kv_note.setAccessibleName("Generation without a KV cache")
        self.kv_note.setVisible(False)
        # What was found scrolls: an EHR model's side inputs make it taller than a small window.
        holder = QWidget()
        body = QVBoxLayout(holder)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(10)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        self.layout_.addWidget(scroll, 1)
        body.addWidget(self.facts_box)
        body.addWidget(self.kv_note)
        self.side_inputs = SideInputTable()
        self.side_inputs.changed.connect(self.changed)
        body.addWidget(self.side_inputs)
        self._plan_inputs: dict[str, str] = {}  # the opened plan's [model.inputs]
        self._plan_types = False  # the opened plan has [model.token_types]

        # One reference, and whether it is the base model this one was fine-tuned from.
        self.reference_box = ReferenceBox(self._choose_reference_folder)
        self.reference_box.help.setText(REFERENCE_HELP["tokens"])
        self.reference_box.changed.connect(self.reference_changed)
        body.addWidget(self.reference_box)
        body.addStretch(1)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the model folder",
                                                  str(self.settings.last_folder("model")))
        if folder:
            self.set_model_path(Path(folder))

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose the ONNX model", str(self.settings.last_folder("model")),
                                              "ONNX models (*.onnx);;All files (*)")
        if path:
            self.set_model_path(Path(path))

    def _choose_reference_folder(self, title: str) -> str:
        return QFileDialog.getExistingDirectory(self, title, str(self.settings.last_folder("model")))

    @property
    def reference(self) -> Path | None:
        return self.reference_box.path

    def set_reference(self, path: Path | None, role: str | None = None) -> None:
        self.reference_box.set_reference(path, role)

    def set_model_path(self, path: Path, quiet: bool = False) -> None:
        """Read the model in the background; a problem is shown inline (and as a dialog
        unless `quiet`, for a plan being opened whose other problems come first)."""
        self.path = path
        self.info = None
        self._error = ""
        self.settings.set_last_folder("model", path)
        self.path_field.setText(str(path))
        self.facts_box.setVisible(False)
        self.kv_note.setVisible(False)
        self._set_status("Reading the model…", "busy")
        self.changed.emit()
        context = self.context_length
        self.controller.submit("inspect-model", lambda: _inspect(path, context),
                               lambda info: self._inspected(path, info),
                               lambda exc, details: self._failed(path, exc, details, quiet))

    def _inspected(self, path: Path, info: ModelInfo) -> None:
        if path != self.path:
            return  # the user chose another model meanwhile
        self.info = info
        self._show(info)
        self._show_decoding_cost(path, info)
        self._set_status("This model can be audited.", "ok")
        self.inspected.emit(info)
        self.changed.emit()

    def _failed(self, path: Path, exc: Exception, details: str, quiet: bool) -> None:
        if path != self.path:
            return
        from desktop.error_dialog import explain

        problem, advice = explain(exc)
        self._error = problem
        self._set_status(f"Mnemoscope cannot use this model. {problem}", "error")
        self.inspected.emit(None)
        self.changed.emit()
        if not quiet:
            show_error(self, "This model cannot be used", exc, details)

    def _show(self, info: ModelInfo) -> None:
        vocabulary = (f"{info.vocab_size:,} model outputs" if info.vocab_size else "read at run time")
        if info.tokenizer_vocab_size:
            vocabulary += f", {info.tokenizer_vocab_size:,} tokenizer entries"
        matches = {True: "tokenizer.json matches the model", False: "does NOT match the model",
                   None: "could not be compared"}[info.tokenizer_matches]
        values = {
            "kind": KIND_LABELS.get(info.kind, info.kind),
            "file": info.name + (f" (+{len(info.files) - 1} files beside it)" if len(info.files) > 1 else ""),
            "size": _size(info),
            # A tree ensemble keeps its splits in node attributes, not in weight tensors.
            "parameters": (f"{info.parameters:,}" if info.parameters or info.kind != "tabular_classifier"
                           else "not counted (no weight tensors: a tree ensemble, say)"),
            "vocabulary": vocabulary,
            "tokenizer": matches,
            "context": f"{info.context_length:,} tokens (from {info.context_source})" if info.context_length else "unknown",
            "kv": "yes (KV cache in the export)" if info.kv_cache else "no: see below",
            "sha256": info.sha256,
        }
        if info.kind == "tabular_classifier":
            from audit_core.kinds.tabular_inputs import input_width

            width = input_width(info)
            values["inputs"] = (f"{width} features per record" if width is not None
                                else "any number of features (the export does not fix it)")
        for key, text in values.items():
            self.fact_labels[key].setText(text)
        tabular = info.kind == "tabular_classifier"
        for key in TOKEN_FACTS:
            self.facts.setRowVisible(self.fact_labels[key], not tabular)
        self.facts.setRowVisible(self.fact_labels["inputs"], tabular)
        # Encoders compare members with non-members, never with a second model (the core
        # refuses model.reference for them); a classifier's reference shares its features.
        self.reference_box.setVisible(info.kind not in ("encoder", "masked_lm"))
        self.reference_box.help.setText(REFERENCE_HELP["tabular" if tabular else "tokens"])
        self.facts_box.setVisible(True)
        self._show_side_inputs(info)

    def _show_decoding_cost(self, path: Path, info: ModelInfo) -> None:
        """For a causal LM without a KV cache, the sentence `inspect` prints, worked out in
        the background (it may time the model when there is no calibration)."""
        if info.kind != "causal_lm" or info.kv_cache:
            return
        from desktop.model_decoding import decoding_note

        self.kv_note.setText(NO_KV_PREFIX + "generation recomputes the whole sequence at every step "
                             "(working out what that costs…)")
        self.kv_note.setVisible(True)

        def show(text: str) -> None:
            if path == self.path:
                self.kv_note.setText(NO_KV_PREFIX + text)

        self.controller.submit("decoding-cost", lambda: decoding_note(info), show,
                               lambda exc, details: None)  # the note stays as it is

    def _show_side_inputs(self, info: ModelInfo) -> None:
        from audit_core.errors import MnemoscopeError
        from audit_core.models.side_inputs import read_side_inputs_file, side_input_rows

        try:
            rows = side_input_rows(info) if info.kind == "causal_lm" else []
            declared_types = bool(read_side_inputs_file(info.folder)[1])
        except MnemoscopeError as exc:  # a broken side_inputs.json: the run names it too
            self._set_status(f"This model's side-input declaration cannot be read: {exc}", "error")
            rows, declared_types = [], False
        self.side_inputs.set_rows(rows, self._plan_inputs, declared_types or self._plan_types)

    def _set_status(self, text: str, state: str) -> None:
        self.status.setText(text)
        self.status.setProperty("state", state)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def load(self, draft: PlanDraft) -> None:
        self.context_length = draft.extra.get("model", {}).get("context_length")
        self._plan_inputs = dict(draft.extra.get("model", {}).get("inputs", {}))
        self._plan_types = bool(draft.extra.get("model", {}).get("token_types"))
        reference = draft.extra.get("model", {}).get("reference")
        self.set_reference(Path(reference) if reference else None,
                           draft.extra.get("model", {}).get("reference_role", DEFAULT_REFERENCE_ROLE))
        if draft.model_path and draft.model_path != self.path:
            self.set_model_path(draft.model_path, quiet=True)

    def store(self, draft: PlanDraft) -> None:
        draft.model_path = self.path
        model = draft.extra.setdefault("model", {})
        if self.reference_box.isVisibleTo(self):
            self.reference_box.store(model)
        else:
            model.pop("reference", None)
            model.pop("reference_role", None)
        chosen = self.side_inputs.mapping() if self.side_inputs.isVisibleTo(self) else {}
        if chosen:
            model["inputs"] = chosen
        else:
            model.pop("inputs", None)

    def problem(self) -> str:
        if self.path is None:
            return "Choose a model folder or an .onnx file."
        if self._error:
            return "This model cannot be audited; choose another."
        if self.info is None:
            return "Reading the model…"
        unchosen = self.side_inputs.unchosen() if self.side_inputs.isVisibleTo(self) else []
        if unchosen:
            return f"Choose what feeds the side input {unchosen[0]}."
        return ""
