"""The Data step's "MEDS dataset folder" source: choose a MEDS root, tick the splits whose
subjects are members and non-members among the split names found, name subgroup code
heads, and see the first patients' words beside the model's tokenizer's view (words it
does not know marked), so a mismatch is seen before the run.

The words are patient data: they are shown only when asked, masked again when the step is
left, never logged (as the files' sample values, widgets/sample_values.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from audit_core.data.cohort import Role
from desktop.audit_controller import AuditController
from desktop.error_dialog import explain
from desktop.plan_draft import PlanDraft

MASK_TEXT = "Words are hidden: patient data. Use Show words to see the first patients."
ROLES = {"members": "Members", "non_members": "Non-members"}


@dataclass(frozen=True)
class SplitCounts:
    names: tuple[str, ...]  # in the split file's order
    subjects: dict[str, int]


def read_splits(root: Path) -> SplitCounts:
    """The split names of a MEDS root and their subjects' counts (the folder checked)."""
    from audit_core.data.meds_validation import open_meds_folder

    folder = open_meds_folder(root)
    counts = Counter(folder.split_of.values())
    return SplitCounts(tuple(folder.split_names()), dict(counts))


def preview_text(draft_data: dict[str, Any], model_folder: Path | None) -> str:
    """The first patients of each cohort, word beside tokens when a model is known."""
    from audit_core.data.loading import load_cohorts
    from audit_core.models.tokenizer_loading import load_tokenizer
    from audit_core.models.word_view import cohort_view
    from audit_core.plan.parsing import plan_from_dict

    plan = plan_from_dict({"model": {"path": "model"}, "data": draft_data})
    cohorts = load_cohorts(plan.data)
    tokenizer = load_tokenizer(model_folder) if model_folder is not None else None
    lines: list[str] = []
    for role in Role:
        cohort = cohorts[role]
        lines.append(f"{ROLES[role.value]}: {cohort.info.file}, {len(cohort):,} patients")
        if tokenizer is None:
            for number, sequence in enumerate(cohort.sequences[:3], start=1):
                lines.append(f"  patient {number}: {sequence}")
            continue
        view = cohort_view(tokenizer, cohort)
        lines.append(f"  words unknown to the tokenizer: {view.unknown_words:,} of {view.word_count:,}")
        for record in view.records:
            lines.append(f"  patient {record.number}: {record.word_count} words, {record.token_count} "
                         f"tokens, {record.unknown_words} unknown")
            for word in record.words:
                mark = "   <- unknown" if word.unknown else ""
                lines.append(f"    {word.word}  →  {' '.join(word.tokens)}{mark}")
    return "\n".join(lines)


class MedsSource(QWidget):
    changed = Signal()

    def __init__(self, controller: AuditController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.root: Path | None = None
        self.splits: SplitCounts | None = None
        self.error = ""  # the folder cannot be used
        self.preview_error = ""  # the ticked splits cannot be read as cohorts
        self.model_folder: Path | None = None
        self._kept: dict[str, Any] = {}  # tokens, visit_codes of an opened plan: kept as they are
        self._wanted: dict[str, tuple[str, ...]] = {}  # an opened plan's splits, until read
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Dataset folder</b>"))
        self.root_field = QLineEdit()
        self.root_field.setReadOnly(True)
        self.root_field.setPlaceholderText("No folder chosen (the folder holding data/ and metadata/)")
        self.root_field.setAccessibleName("MEDS dataset folder")
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.setAccessibleName("Choose the MEDS dataset folder")
        self.choose_button.clicked.connect(self._choose)
        row.addWidget(self.root_field, 1)
        row.addWidget(self.choose_button)
        layout.addLayout(row)
        self.summary = QLabel("")
        self.summary.setProperty("role", "help")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)

        box = QGroupBox("Which splits are members and non-members")
        grid = QGridLayout(box)
        self.lists: dict[str, QListWidget] = {}
        for column, role in enumerate(ROLES):
            label = QLabel(f"{ROLES[role]}: {'trained on' if role == 'members' else 'never seen'}")
            label.setWordWrap(True)
            grid.addWidget(label, 0, column)
            split_list = QListWidget()
            split_list.setAccessibleName(f"{ROLES[role]} splits")
            split_list.setMaximumHeight(84)
            split_list.itemChanged.connect(lambda _item: self._splits_changed())
            grid.addWidget(split_list, 1, column)
            self.lists[role] = split_list
        subgroups_label = QLabel("Subgroups: code heads")
        subgroups_label.setWordWrap(True)
        subgroups_label.setToolTip("Static codes that give each subject a group, e.g. GENDER for "
                                   "GENDER//F; separate several with commas")
        grid.addWidget(subgroups_label, 0, 2)
        self.subgroups_field = QLineEdit()
        self.subgroups_field.setAccessibleName("Subgroup code heads")
        self.subgroups_field.setPlaceholderText("e.g. GENDER")
        self.subgroups_field.editingFinished.connect(self.changed)
        grid.addWidget(self.subgroups_field, 1, 2, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(box)

        preview_box = QGroupBox("First patients as the model's tokenizer reads them")
        preview_layout = QVBoxLayout(preview_box)
        reveal = QHBoxLayout()
        self.note = QLabel("Choose the model first to see its tokenizer's view.")
        self.note.setProperty("role", "help")
        self.note.setWordWrap(True)
        self.reveal_button = QPushButton("Show words")
        self.reveal_button.setCheckable(True)
        self.reveal_button.setAccessibleName("Show or hide the first patients' words")
        self.reveal_button.toggled.connect(self._reveal)
        reveal.addWidget(self.note, 1)
        reveal.addWidget(self.reveal_button)
        preview_layout.addLayout(reveal)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setAccessibleName("First patients' words and tokens")
        self.preview.setPlainText(MASK_TEXT)
        self.preview.setMinimumHeight(90)
        preview_layout.addWidget(self.preview)
        layout.addWidget(preview_box, 1)
        self._text = ""

    # --- folder and splits --------------------------------------------------------------
    def _choose(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the MEDS dataset folder",
                                                str(self.root.parent if self.root else Path.home()))
        if path:
            self.set_root(Path(path))

    def set_root(self, root: Path) -> None:
        self.root, self.splits, self.error, self._text = root, None, "", ""
        self.root_field.setText(str(root))
        self.summary.setText("Reading the dataset…")
        self._show_text()
        self.changed.emit()
        self.controller.submit("meds-splits", lambda: read_splits(root),
                               lambda counts: self._read(root, counts),
                               lambda exc, details: self._failed(root, exc))

    def _read(self, root: Path, counts: SplitCounts) -> None:
        if root != self.root:
            return
        self.splits = counts
        self.summary.setText("Splits: " + ", ".join(f"{name} ({counts.subjects[name]:,} subjects)"
                                                    for name in counts.names))
        non_default = "held_out" if "held_out" in counts.names else "tuning"
        defaults = {"members": ("train",), "non_members": (non_default,)}
        for role, split_list in self.lists.items():
            ticked = self._wanted.get(role, defaults[role])
            split_list.blockSignals(True)
            split_list.clear()
            for name in counts.names:
                item = QListWidgetItem(name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if name in ticked else Qt.CheckState.Unchecked)
                split_list.addItem(item)
            split_list.blockSignals(False)
        self._wanted = {}
        self._splits_changed()

    def _failed(self, root: Path, exc: Exception) -> None:
        if root != self.root:
            return
        problem, _advice = explain(exc)
        self.error = problem
        self.summary.setText(f"Cannot use this folder: {problem}")
        self.changed.emit()

    def chosen(self, role: str) -> tuple[str, ...]:
        if self.splits is None and role in self._wanted:  # an opened plan's, until the folder is read
            return self._wanted[role]
        split_list = self.lists[role]
        return tuple(split_list.item(i).text() for i in range(split_list.count())
                     if split_list.item(i).checkState() == Qt.CheckState.Checked)

    def subgroups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.strip() for s in self.subgroups_field.text().split(",") if s.strip()))

    def _splits_changed(self) -> None:
        self._text, self.preview_error = "", ""
        self._show_text()
        self.changed.emit()
        if self.problem() == "":
            self._refresh_preview()

    # --- the tokenizer's view -------------------------------------------------------------
    def set_model_folder(self, folder: Path | None) -> None:
        self.model_folder = folder
        if self.problem() == "":
            self._refresh_preview()

    def data_keys(self) -> dict[str, Any]:
        """The [data] table this source writes into the plan."""
        return {**self._kept, "format": "meds", "root": str(self.root or ""),
                "members_splits": list(self.chosen("members")),
                "non_members_splits": list(self.chosen("non_members")),
                "columns": {"subgroups": list(self.subgroups())}}

    def _refresh_preview(self) -> None:
        keys, folder = self.data_keys(), self.model_folder
        self.note.setText("Reading the first patients…")
        self.controller.submit("meds-preview", lambda: preview_text(keys, folder),
                               lambda text: self._previewed(keys, text),
                               lambda exc, details: self._preview_failed(keys, exc))

    def _previewed(self, keys: dict[str, Any], text: str) -> None:
        if keys != self.data_keys():
            return
        self._text = text
        self.note.setText("Words unknown to the tokenizer are marked “<- unknown”." if self.model_folder
                          else "Choose the model to see its tokenizer's view of these words.")
        self._show_text()

    def _preview_failed(self, keys: dict[str, Any], exc: Exception) -> None:
        if keys != self.data_keys():
            return
        problem, _advice = explain(exc)
        self.preview_error = problem
        self.note.setText(f"Cannot read these splits: {problem}")
        self.changed.emit()

    def _reveal(self, revealed: bool) -> None:
        self.reveal_button.setText("Hide words" if revealed else "Show words")
        self._show_text()

    def _show_text(self) -> None:
        self.preview.setPlainText(self._text if self.reveal_button.isChecked() and self._text else MASK_TEXT)

    def mask(self) -> None:
        self.reveal_button.setChecked(False)

    # --- step -------------------------------------------------------------------------------
    def load(self, draft: PlanDraft, choice: SourceChoice) -> bool:
        """Show the draft's source in `choice`; True (and its keys read) for a MEDS folder."""
        choice.set_meds(draft.meds is not None)
        if draft.meds is None:
            return False
        meds = draft.meds
        self._kept = {k: v for k, v in meds.items() if k in ("tokens", "visit_codes")}
        self._wanted = {"members": tuple(meds.get("members_splits", ("train",))),
                        "non_members": tuple(meds.get("non_members_splits", ("held_out",)))}
        self.subgroups_field.setText(", ".join(draft.subgroups))
        root = meds.get("root")
        if root and Path(root) != self.root:
            self.set_root(Path(root))
        return True

    def store(self, draft: PlanDraft) -> None:
        draft.meds = self.data_keys()
        draft.subgroups = self.subgroups()

    def problem(self) -> str:
        if self.root is None:
            return "Choose the MEDS dataset folder."
        if self.error:
            return "The MEDS dataset cannot be used; see the message above."
        if self.splits is None:
            return "Reading the dataset…"
        members, non_members = self.chosen("members"), self.chosen("non_members")
        if not members:
            return "Tick the split(s) the model was trained on (members)."
        if not non_members:
            return "Tick the split(s) the model never saw (non-members)."
        both = set(members) & set(non_members)
        if both:
            return f"The split '{sorted(both)[0]}' cannot be both members and non-members."
        if self.preview_error:
            return "These splits cannot be read; see the message above the first patients."
        return ""


class SourceChoice(QWidget):
    """"Two files" or "MEDS dataset folder": where the Data step reads the patients from."""

    toggled = Signal(bool)  # True: a MEDS dataset folder

    def __init__(self, parent: QWidget | None = None) -> None:
        from PySide6.QtWidgets import QButtonGroup, QRadioButton

        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Patients come from:"))
        self.files_button = QRadioButton("Two files (members, non-members)")
        self.meds_button = QRadioButton("MEDS dataset folder (splits)")
        self.files_button.setChecked(True)
        group = QButtonGroup(self)
        for button in (self.files_button, self.meds_button):
            group.addButton(button)
            row.addWidget(button)
        row.addStretch(1)
        self.meds_button.toggled.connect(self.toggled)

    def is_meds(self) -> bool:
        return self.meds_button.isChecked()

    def set_meds(self, meds: bool) -> None:
        (self.meds_button if meds else self.files_button).setChecked(True)


def add_source_choice(page: Any, controller: AuditController) -> tuple[SourceChoice, MedsSource]:
    """The choice and the MEDS panel, added to the Data step `page` below its lead; choosing
    MEDS hides the files' widgets (files_box, mapping_box, mapping_problem, sample_values)."""
    choice, source = SourceChoice(), MedsSource(controller)
    source.setVisible(False)
    page.layout_.addWidget(choice)
    page.layout_.addWidget(source, 1)
    source.changed.connect(page.changed)

    def show(meds: bool) -> None:
        for widget in (page.files_box, page.mapping_box, page.mapping_problem, page.sample_values):
            widget.setVisible(not meds)
        source.setVisible(meds)
        page.changed.emit()

    choice.toggled.connect(show)
    return choice, source
