"""Step 2, Data: the members and non-members files, and which column holds what.

The app guesses the mapping from the first file and the user can change it. What is
mapped depends on the model's kind: a language model or an encoder reads a record column
(codes or text); a tabular classifier reads feature columns and an outcome column
(widgets/tabular_columns.py), checked against the model's input width. Sample
values are patient data: they stay masked until the user asks to see them, and are
masked again when the step is left (screens in a hospital are seen by passers-by).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from audit_core.data.column_names import missing_column_message
from audit_core.data.preview import TablePreview
from audit_core.errors import DataError, PlanError
from desktop.audit_controller import AuditController
from desktop.error_dialog import explain, show_error
from desktop.pages.meds_source import add_source_choice
from desktop.pages.step_page import StepPage
from desktop.plan_draft import PlanDraft
from desktop.settings import AppSettings
from desktop.widgets.sample_values import SampleValues
from desktop.widgets.subgroup_choices import hide_mapped
from desktop.widgets.tabular_columns import TabularColumns

TABULAR = "tabular_classifier"

ROLES = {"members": "Members", "non_members": "Non-members"}
ROLE_HELP = {"members": "records that were in the model's training data",
             "non_members": "records from the same population that were not"}
DATA_FILTER = "Data files (*.csv *.tsv *.parquet *.pq *.jsonl *.ndjson);;All files (*)"
KINDS = (("codes", "Medical codes (space-separated)"), ("text", "Free text"))


def _preview(path: Path) -> TablePreview:
    from audit_core.data.preview import preview_table

    return preview_table(path)


class DataPage(StepPage):
    step_title = "Data"

    def __init__(self, controller: AuditController, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.settings = settings
        self.paths: dict[str, Path | None] = {role: None for role in ROLES}
        self.previews: dict[str, TablePreview | None] = {role: None for role in ROLES}
        self.errors: dict[str, str] = {role: "" for role in ROLES}
        self._mapping_from_plan = False
        self.model_kind = ""  # models/inspection.py's kind, once the Model step has read it
        self.width: int | None = None  # a tabular classifier's input width
        self._plan_columns: tuple[tuple[str, ...], str] = ((), "")  # an opened plan's features, label
        self.add_lead("Choose the patients: members and non-members. Memorization is only ever shown by "
                      "contrast: members against non-members from the same population.")
        self.source_choice, self.meds_source = add_source_choice(self, controller)  # files or MEDS

        self.files_box = QWidget()
        files = QGridLayout(self.files_box)
        files.setContentsMargins(0, 0, 0, 0)
        self.path_fields: dict[str, QLineEdit] = {}
        self.summaries: dict[str, QLabel] = {}
        self.choose_buttons: dict[str, QPushButton] = {}
        for row, role in enumerate(ROLES):
            label = QLabel(f"<b>{ROLES[role]}</b><br><span style='color:#5F6B7A'>{ROLE_HELP[role]}</span>")
            field = QLineEdit()
            field.setReadOnly(True)
            field.setPlaceholderText("No file chosen")
            field.setAccessibleName(f"{ROLES[role]} file")
            button = QPushButton("Choose file…")
            button.setAccessibleName(f"Choose the {ROLES[role].lower()} file")
            button.clicked.connect(lambda _=False, r=role: self._choose(r))
            summary = QLabel("")
            summary.setProperty("role", "help")
            summary.setWordWrap(True)
            files.addWidget(label, row * 2, 0)
            files.addWidget(field, row * 2, 1)
            files.addWidget(button, row * 2, 2)
            files.addWidget(summary, row * 2 + 1, 1, 1, 2)
            self.path_fields[role], self.summaries[role], self.choose_buttons[role] = field, summary, button
        files.setColumnStretch(1, 1)
        self.layout_.addWidget(self.files_box)

        self.mapping_box = mapping_box = QGroupBox("Which column holds what")
        mapping = QHBoxLayout(mapping_box)
        form = QFormLayout()
        self.mapping_form = form
        self.id_combo = QComboBox()
        self.id_combo.setAccessibleName("Record id column")
        self.sequence_combo = QComboBox()
        self.sequence_combo.setAccessibleName("Record content column")
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Kind of content")
        for value, label in KINDS:
            self.kind_combo.addItem(label, value)
        form.addRow("Record id:", self.id_combo)
        form.addRow("Record content:", self.sequence_combo)
        form.addRow("Content is:", self.kind_combo)
        mapping.addLayout(form, 1)
        self.tabular = TabularColumns()
        self.tabular.setVisible(False)
        self.tabular.changed.connect(self.changed)
        form.addRow("Outcome (label):", self.tabular.label_combo)
        form.setRowVisible(self.tabular.label_combo, False)
        mapping.addWidget(self.tabular, 1)
        subgroup_column = QVBoxLayout()
        subgroup_column.addWidget(QLabel("Subgroup columns (optional):"))
        self.subgroup_list = QListWidget()
        self.subgroup_list.setAccessibleName("Subgroup columns")
        self.subgroup_list.setMaximumHeight(96)
        subgroup_column.addWidget(self.subgroup_list)
        mapping.addLayout(subgroup_column, 1)
        self.layout_.addWidget(mapping_box)
        self.id_combo.currentTextChanged.connect(self.tabular.set_id_column)
        # A column mapped to another role is no subgroup: the list follows the mapping.
        for combo in (self.id_combo, self.sequence_combo, self.tabular.label_combo):
            combo.currentTextChanged.connect(lambda _text: self._offer_subgroups())
        for combo in (self.id_combo, self.sequence_combo, self.kind_combo):
            combo.currentIndexChanged.connect(self.changed)
        self.subgroup_list.itemChanged.connect(lambda _item: self.changed.emit())
        self.mapping_problem = QLabel("")
        self.mapping_problem.setProperty("state", "error")
        self.mapping_problem.setWordWrap(True)
        self.layout_.addWidget(self.mapping_problem)

        self.sample_values = SampleValues("First records of the members file")
        self.samples, self.reveal_button = self.sample_values.table, self.sample_values.reveal_button
        self.layout_.addWidget(self.sample_values)
        self.layout_.addStretch(1)
        self.changed.connect(self._check_mapping)

    # --- files ------------------------------------------------------------------------
    def _choose(self, role: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the {ROLES[role].lower()} file",
                                              str(self.settings.last_folder("data")), DATA_FILTER)
        if path:
            self.set_file(role, Path(path))

    def set_file(self, role: str, path: Path, quiet: bool = False) -> None:
        self.paths[role] = path
        self.previews[role] = None
        self.errors[role] = ""
        self.settings.set_last_folder("data", path)
        self.path_fields[role].setText(str(path))
        self.summaries[role].setText("Reading the file…")
        self.changed.emit()
        self.controller.submit(f"preview-{role}", lambda: _preview(path),
                               lambda preview: self._previewed(role, path, preview, quiet),
                               lambda exc, details: self._failed(role, path, exc, details, quiet))

    def _previewed(self, role: str, path: Path, preview: TablePreview, quiet: bool) -> None:
        if self.paths[role] != path:
            return
        self.previews[role] = preview
        self.summaries[role].setText(f"{preview.records:,} records, {preview.format.upper()}; "
                                     f"columns: {', '.join(preview.names)}")
        if role == "members":
            self._offer_columns(preview)
            self.sample_values.show_preview(preview)
        missing = self._missing_columns(preview)
        if missing and not quiet and self.id_combo.count():
            # The pickers show the file's names on screen; this message can also reach logs
            # and copied details, so it quotes only the mapping's own names (column_names.py).
            error = DataError(missing_column_message(preview.file, missing[0], preview.names,
                                                     self._used_columns(), preview.samples))
            show_error(self, "The file does not match the column mapping", error)
        self.changed.emit()

    def _failed(self, role: str, path: Path, exc: Exception, details: str, quiet: bool) -> None:
        if self.paths[role] != path:
            return
        problem, _advice = explain(exc)
        self.errors[role] = problem
        self.summaries[role].setText(f"Cannot use this file: {problem}")
        self.changed.emit()
        if not quiet:
            show_error(self, "This file cannot be used", exc, details)

    # --- mapping ----------------------------------------------------------------------
    def _offer_columns(self, preview: TablePreview) -> None:
        """Fill the choices from the members file; guess the mapping unless a plan set it."""
        from audit_core.data.preview import guess_columns

        current = self.mapping()
        names = list(preview.names)
        for combo in (self.id_combo, self.sequence_combo):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            combo.blockSignals(False)
        if self._mapping_from_plan and current[0] in names:
            id_column, sequence, kind, subgroups = current
        else:
            guess = guess_columns(preview)
            id_column, sequence, kind, subgroups = guess.id, guess.sequence, guess.kind, guess.subgroups
            if self.is_tabular:  # no record column; numeric columns are inputs, not subgroups
                from audit_core.data.preview import MAX_SUBGROUP_LEVELS

                subgroups = tuple(c.name for c in preview.columns if c.name != id_column
                                  and not c.numeric and 2 <= c.distinct <= MAX_SUBGROUP_LEVELS
                                  and c.distinct < preview.records)
        self._apply_mapping(id_column, sequence, kind, subgroups, names)
        features, label = self._plan_columns if self._mapping_from_plan else ((), "")
        self.tabular.offer(preview.columns, id_column, self.width, features, label)
        self._offer_subgroups()  # the outcome was chosen with its signals blocked

    def set_model_info(self, info) -> None:
        """The Model step read the model: show the mapping its kind needs."""
        from audit_core.kinds.tabular_inputs import input_width

        before, self.model_kind = self.model_kind, info.kind if info is not None else ""
        tabular = self.model_kind == TABULAR
        self.width = input_width(info) if tabular else None
        self.meds_source.set_model_folder(info.folder if info is not None and not tabular else None)
        self._show_kind(tabular)
        self.tabular.set_width(self.width)
        preview = self.previews["members"]
        if preview is not None and not self._mapping_from_plan and before != self.model_kind:
            self._offer_columns(preview)  # guessed for the other kind: guess again
        self.changed.emit()

    def _show_kind(self, tabular: bool) -> None:
        # A classifier reads rows of numbers: no record column, no kind of content.
        for widget in (self.sequence_combo, self.kind_combo):
            self.mapping_form.setRowVisible(widget, not tabular)
        self.mapping_form.setRowVisible(self.tabular.label_combo, tabular)
        self.tabular.setVisible(tabular)
        self._offer_subgroups()

    @property
    def is_tabular(self) -> bool:
        return self.model_kind == TABULAR

    def _apply_mapping(self, id_column: str, sequence: str, kind: str, subgroups: tuple[str, ...],
                       names: list[str]) -> None:
        for combo, value in ((self.id_combo, id_column), (self.sequence_combo, sequence)):
            combo.blockSignals(True)
            if combo.findText(value) < 0 and value:
                combo.addItem(value)
            combo.setCurrentText(value)
            combo.blockSignals(False)
        self.kind_combo.blockSignals(True)
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(kind)))
        self.kind_combo.blockSignals(False)
        self.subgroup_list.blockSignals(True)
        self.subgroup_list.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in subgroups else Qt.CheckState.Unchecked)
            self.subgroup_list.addItem(item)
        self.subgroup_list.blockSignals(False)
        self._offer_subgroups()
        self.changed.emit()

    def _roles_taken(self) -> set[str]:
        """The columns mapped to the id, the record content or (tabular) the outcome."""
        other = self.tabular.label() if self.is_tabular else self.sequence_combo.currentText()
        return {c for c in (self.id_combo.currentText(), other) if c}

    def _offer_subgroups(self) -> None:
        if hide_mapped(self.subgroup_list, self._roles_taken()):
            self.changed.emit()

    def mapping(self) -> tuple[str, str, str, tuple[str, ...]]:
        subgroups = tuple(self.subgroup_list.item(i).text() for i in range(self.subgroup_list.count())
                          if self.subgroup_list.item(i).checkState() == Qt.CheckState.Checked)
        return (self.id_combo.currentText(), self.sequence_combo.currentText(),
                self.kind_combo.currentData() or "codes", subgroups)

    def _used_columns(self) -> list[str]:
        id_column, sequence, _kind, subgroups = self.mapping()
        used = ((id_column, *self.tabular.features(), self.tabular.label(), *subgroups)
                if self.is_tabular else (id_column, sequence, *subgroups))
        return [c for c in used if c]

    def _missing_columns(self, preview: TablePreview) -> list[str]:
        return [c for c in self._used_columns() if c not in preview.names]

    def _check_mapping(self) -> None:
        self.mapping_problem.setText(self._mapping_text())

    def _mapping_text(self) -> str:
        id_column, sequence, _kind, subgroups = self.mapping()
        if self.is_tabular:
            problem = self._tabular_text(id_column)
            if problem:
                return problem
        elif id_column and id_column == sequence:
            return "The record id and the record content must be different columns."
        elif sequence in subgroups or id_column in subgroups:
            return "A subgroup column cannot also be the id or the content."
        for role in ROLES:
            preview = self.previews[role]
            if preview is not None and self.id_combo.count():
                missing = self._missing_columns(preview)
                if missing:
                    # One mapping reads both files: a column only one file has will not do.
                    return (f"{preview.file} has no column '{missing[0]}'. The mapping above "
                            "applies to both files: choose a column both files have, or "
                            f"another {ROLES[role].lower()} file.")
        return ""

    def _tabular_text(self, id_column: str) -> str:
        """What stops the classifier's columns from fitting the model, in the core's words
        for the checks it makes (tabular/checks.py, the same the run makes)."""
        from audit_core.kinds.tabular_inputs import require_width
        from audit_core.plan.parsing import ColumnMapping

        if self.previews["members"] is None:
            return ""
        features, label = self.tabular.features(), self.tabular.label()
        if not label:
            return "Choose the outcome (label) column."
        if not features:
            return "Tick the columns the model reads (its inputs)."
        if id_column in features or id_column == label:
            return "The record id cannot also be a model input or the outcome."
        try:
            require_width(ColumnMapping(id=id_column, features=features, label=label),
                          self.width, "the model")
        except PlanError as exc:
            return f"The ticked columns do not fit the model: {exc}."
        return ""

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.sample_values.mask()
        self.meds_source.mask()
        super().hideEvent(event)

    # --- step -------------------------------------------------------------------------
    def load(self, draft: PlanDraft) -> None:
        if self.meds_source.load(draft, self.source_choice):  # a MEDS folder, not two files
            return
        self._mapping_from_plan = bool(draft.id_column)
        self._plan_columns = (tuple(draft.features), draft.label)
        if draft.features:  # a tabular plan: show its mapping while the model is read
            self.model_kind = TABULAR
            self._show_kind(True)
        if draft.id_column:
            names = [draft.id_column, draft.sequence_column, *draft.subgroups]
            self.id_combo.clear()
            self.sequence_combo.clear()
            self._apply_mapping(draft.id_column, draft.sequence_column, draft.kind, draft.subgroups, names)
        for role, path in (("members", draft.members), ("non_members", draft.non_members)):
            if path and path != self.paths[role]:
                self.set_file(role, path, quiet=True)

    def store(self, draft: PlanDraft) -> None:
        if self.source_choice.is_meds():
            self.meds_source.store(draft)
            return
        draft.meds = None
        draft.members, draft.non_members = self.paths["members"], self.paths["non_members"]
        draft.id_column, draft.sequence_column, draft.kind, draft.subgroups = self.mapping()
        tabular = self.is_tabular and self.previews["members"] is not None
        draft.features = self.tabular.features() if tabular else ()
        draft.label = self.tabular.label() if tabular else ""
        if self.is_tabular and self.previews["members"] is None:  # not read yet: keep the plan's
            draft.features, draft.label = self._plan_columns

    def problem(self) -> str:
        if self.source_choice.is_meds():
            return self.meds_source.problem()
        for role in ROLES:
            if self.paths[role] is None:
                return f"Choose the {ROLES[role].lower()} file."
            if self.errors[role]:
                return f"The {ROLES[role].lower()} file cannot be used; choose another."
            if self.previews[role] is None:
                return "Reading the files…"
        return self._mapping_text()

    def hint(self) -> str:
        problem = self.problem()
        if problem and problem == self._mapping_text():  # shown in full above the bar
            return "Fix the column mapping: see the message above."
        return problem
