"""The Model step's reference model: one path, and what that model is.

Most hospital models are fine-tuned from a public base model, and that base is the natural
reference for the calibrated attacks (RMIA, offline LiRA, EZ-MIA, WBC): no shadow model to
train. So the box first asks whether the model was fine-tuned from a base model; "yes"
makes the path the base model (plan: `reference_role = "base"`), "no" a model trained
without these members (`"shadow"`, the default). One path field serves both: the plan has
one reference. The words are the report's own (audit_core/results/reference_role.py).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from audit_core.results.reference_role import BASE, DEFAULT_REFERENCE_ROLE, SHADOW, reference_wording

QUESTION = "Was this model fine-tuned from a public base model?"
ANSWERS = {BASE: "Yes: the reference is that base model (converted to ONNX like the model)",
           SHADOW: "No, or not known: the reference is a model trained without these members"}
FIELD_LABELS = {BASE: "Base model:", SHADOW: "Reference model:"}


class ReferenceBox(QGroupBox):
    """Path and role of the reference model; `changed(has_reference)` on every change."""

    changed = Signal(bool)

    def __init__(self, choose_folder, parent: QWidget | None = None) -> None:
        super().__init__("Reference model (optional)", parent)
        layout = QVBoxLayout(self)
        self.help = QLabel("")
        self.help.setWordWrap(True)
        self.help.setProperty("role", "help")
        layout.addWidget(self.help)
        self.question = QLabel(QUESTION)
        self.question.setWordWrap(True)
        layout.addWidget(self.question)
        self.answers = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for role in (BASE, SHADOW):
            button = QRadioButton(ANSWERS[role])
            button.setAccessibleName(f"Reference role: {reference_wording(role)}")
            self.answers.addButton(button)
            self.buttons[role] = button
            layout.addWidget(button)
            button.toggled.connect(self._role_toggled)
        row = QHBoxLayout()
        self.field_label = QLabel(FIELD_LABELS[DEFAULT_REFERENCE_ROLE])
        self.field = QLineEdit()
        self.field.setReadOnly(True)
        self.field.setPlaceholderText("None")
        self.field.setAccessibleName("Reference model path")
        self.choose = QPushButton("Choose folder…")
        self.choose.setAccessibleName("Choose the reference model folder")
        self.choose.clicked.connect(lambda: self._choose(choose_folder))
        self.clear = QPushButton("Remove")
        self.clear.clicked.connect(lambda: self.set_reference(None))
        row.addWidget(self.field_label)
        row.addWidget(self.field, 1)
        row.addWidget(self.choose)
        row.addWidget(self.clear)
        layout.addLayout(row)
        self.path: Path | None = None
        self.set_reference(None, DEFAULT_REFERENCE_ROLE)

    @property
    def role(self) -> str:
        return BASE if self.buttons[BASE].isChecked() else SHADOW

    def set_reference(self, path: Path | None, role: str | None = None) -> None:
        """Show `path` (None: no reference) and, when given, its role."""
        self.path = path
        if role is not None:
            self.buttons[role if role in self.buttons else DEFAULT_REFERENCE_ROLE].setChecked(True)
        self.field.setText(str(path) if path else "")
        self.clear.setEnabled(path is not None)
        self.changed.emit(path is not None)

    def _choose(self, choose_folder) -> None:
        title = "Choose the base model folder" if self.role == BASE else "Choose the reference model folder"
        folder = choose_folder(title)
        if folder:
            self.set_reference(Path(folder))

    def _role_toggled(self, checked: bool) -> None:
        if checked:
            self.field_label.setText(FIELD_LABELS[self.role])
            self.changed.emit(self.path is not None)

    def store(self, model: dict) -> None:
        """The plan's [model] keys: reference and, with it, reference_role."""
        if self.path is None:
            model.pop("reference", None)
            model.pop("reference_role", None)
            return
        model["reference"] = str(self.path)
        model["reference_role"] = self.role
