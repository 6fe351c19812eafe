"""Step 3, Probes: the registered probes that apply to the model's kind (a language model,
a tabular classifier, an encoder), each with its settings form, preset to the standard
suite. A probe this audit cannot support (no reference model, say, or a code test on
free-text records: probes/applicability.py) is greyed out with the reason."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from audit_core.errors import MnemoscopeError
from audit_core.models.inspection import ModelInfo
from audit_core.probes import PROBES
from audit_core.probes.applicability import records_reason
from desktop.pages.step_page import StepPage
from desktop.plan_draft import PlanDraft, needs_reference, standard_suite
from desktop.widgets.config_form import ConfigForm


class ProbeBox(QGroupBox):
    def __init__(self, probe, parent: QWidget | None = None) -> None:
        super().__init__(probe.title, parent)
        self.probe = probe
        self.setObjectName(f"probe_{probe.id}")
        self.setCheckable(True)
        layout = QVBoxLayout(self)
        question = QLabel(probe.question)
        question.setWordWrap(True)
        layout.addWidget(question)
        method = QLabel(f"Method: {probe.citation}  ·  id: {probe.id}")
        method.setProperty("role", "help")
        layout.addWidget(method)
        self.form = ConfigForm(probe.config_type)
        layout.addWidget(self.form)
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        self.reason.setProperty("state", "error")
        self.reason.setVisible(False)
        layout.addWidget(self.reason)
        self.toggled.connect(self.form.setEnabled)

    def set_reason(self, text: str) -> None:
        self.reason.setText(text)
        self.reason.setVisible(bool(text))


class ProbesPage(StepPage):
    step_title = "Probes"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info: ModelInfo | None = None
        self.has_reference = False
        self.selection_kind = "causal_lm"
        self.records_kind = "codes"  # the Data step's kind of content (data.columns.kind)
        top = QHBoxLayout()
        top.addWidget(self.add_lead("Each probe asks the model one question. The standard suite "
                                    "runs them all with settings from their papers."), 1)
        self.standard_button = QPushButton("Use the standard suite")
        self.standard_button.clicked.connect(lambda: self.set_probes(standard_suite(
            self.has_reference, self.info.kind if self.info is not None else "causal_lm")))
        top.addWidget(self.standard_button)
        self.layout_.addLayout(top)
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 8, 0)
        self.boxes = {probe.id: ProbeBox(probe) for probe in PROBES}
        for box in self.boxes.values():
            column.addWidget(box)
            box.toggled.connect(lambda _on: self._recheck())
            box.form.changed.connect(self._recheck)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        self.layout_.addWidget(scroll, 1)

    def set_model_info(self, info: ModelInfo | None) -> None:
        self.info = info
        if info is not None and info.kind != self.selection_kind:
            # A model of another kind than the selection was made for (a new audit starts
            # with the language-model suite): its own standard suite.
            self.selection_kind = info.kind
            self.set_probes(standard_suite(self.has_reference, info.kind))
        self._recheck()

    def set_records_kind(self, kind: str) -> None:
        """The Data step's kind of content changed: probes that cannot read it are greyed out."""
        if kind != self.records_kind:
            self.records_kind = kind
            self._recheck()

    def set_has_reference(self, has_reference: bool) -> None:
        if has_reference != self.has_reference:
            self.has_reference = has_reference
            for box in self.boxes.values():
                if needs_reference(box.probe):
                    box.setChecked(has_reference)
            self._recheck()

    def set_probes(self, probes: dict[str, dict]) -> None:
        for probe_id, box in self.boxes.items():
            box.setChecked(probe_id in probes)
            box.form.set_values(dict(probes.get(probe_id, {})))
        self._recheck()

    def selected(self) -> dict[str, dict]:
        """The chosen probes with the settings that differ from their defaults."""
        return {probe_id: box.form.changed_values() for probe_id, box in self.boxes.items()
                if box.isChecked() and box.isEnabled()}

    def _recheck(self) -> None:
        for box in self.boxes.values():
            box.setEnabled(True)
            reason = ""
            # Only the probes for the model's kind are listed (as `mnemoscope probes --model`).
            applies = self.info is None or box.probe.needs.applies_to(self.info.kind)
            box.setVisible(applies)
            if not applies:
                reason = (f"Does not apply to the chosen model, a {self.info.kind.replace('_', ' ')}; "
                          f"it needs {box.probe.needs.describe().split(';')[0]}.")
                box.setEnabled(False)
            elif records_reason(box.probe, self.records_kind) is not None:
                reason = (f"Does not apply to these records: "
                          f"{records_reason(box.probe, self.records_kind)}.")
                box.setEnabled(False)
            elif (getattr(box.probe.needs, "hidden_states", False) and self.info is not None
                  and not self.info.hidden_states):
                reason = ("Needs the model's hidden states; this export has no 'hidden_states' "
                          "output. Re-export the model with it to enable this probe.")
                box.setEnabled(False)
            elif needs_reference(box.probe) and not self.has_reference:
                reason = ("Needs a reference model (the same tokenizer, trained without these "
                          "members); this audit has none. Choose one on the Model step to enable it.")
                box.setEnabled(False)
            elif box.isChecked() and self.info is not None and self.info.context_length:
                validate = getattr(box.probe, "validate", None)
                if validate is not None:
                    try:
                        validate(box.form.build(), self.info.context_length)
                    except MnemoscopeError as exc:
                        reason = f"Cannot run with these settings: {exc}"
            box.set_reason(reason)
        self.changed.emit()

    def load(self, draft: PlanDraft) -> None:
        self.has_reference = draft.has_reference
        self.selection_kind = draft.probes_kind
        self.records_kind = draft.kind
        self.set_probes(draft.probes)

    def store(self, draft: PlanDraft) -> None:
        draft.probes = self.selected()

    def problem(self) -> str:
        if not self.selected():
            return "Choose at least one probe."
        bad = [box.probe.title for box in self.boxes.values()
               if box.isChecked() and box.isEnabled() and box.reason.text()]
        if bad:
            return f"Change the settings of {bad[0]} (see the reason under it)."
        return ""
