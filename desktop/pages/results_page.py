"""Results: the overall verdict, the report's page 1 at a glance (the decision, the first
actions, a tile per probe), a card per probe with its chart, the records most at risk, and
the exports (PDF, results.json, records.csv)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from audit_core.results.figures import format_seconds
from audit_core.results.result import AuditResult
from desktop.audit_controller import FinishedAudit
from desktop.widgets.audit_summary import AuditSummary
from desktop.widgets.memorized_text import MemorizedText
from desktop.widgets.probe_card import ProbeCard
from desktop.widgets.records_table import RecordsFilter, RecordsModel
from desktop.widgets.term_tips import explain_terms
from desktop.widgets.verdict_badge import MEANINGS, VerdictBadge, verdict_colours

RESIZE_ROWS = 100


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ResultsPage(QWidget):
    open_report_requested = Signal()
    export_requested = Signal(str)  # "report", "results", "records"
    show_folder_requested = Signal()
    new_audit_requested = Signal()
    sign_requested = Signal()
    compare_requested = Signal()  # "Compare with…": another audit's results.json beside this one

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.finished_audit: FinishedAudit | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.banner = QFrame()
        self.banner.setObjectName("banner")
        banner_layout = QHBoxLayout(self.banner)
        self.banner_badge = VerdictBadge("inconclusive", large=True)
        banner_layout.addWidget(self.banner_badge)
        texts = QVBoxLayout()
        self.banner_title = QLabel("")
        self.banner_title.setProperty("role", "title2")
        # "Memorization found (incomplete: the audit was cancelled)" is wider than the banner
        # at the default window size: it wraps instead of being cut.
        self.banner_title.setWordWrap(True)
        self.banner_text = QLabel("")
        self.banner_text.setWordWrap(True)
        texts.addWidget(self.banner_title)
        texts.addWidget(self.banner_text)
        banner_layout.addLayout(texts, 1)
        layout.addWidget(self.banner)

        actions = QHBoxLayout()
        self.open_button = QPushButton("Open the PDF report")
        self.open_button.setObjectName("primary")
        self.open_button.clicked.connect(self.open_report_requested)
        actions.addWidget(self.open_button)
        # One button with a menu, not three: seven buttons in a row needed 1,035 px and were
        # cut in a window at its smallest (900 px).
        self.save_button = QPushButton("Save a copy")
        self.save_button.setObjectName("save_copy")
        self.save_button.setToolTip("Save a copy of the report, results.json or records.csv elsewhere")
        save_menu = QMenu(self.save_button)
        self.export_actions: dict[str, QAction] = {}
        for kind, text in (("report", "The PDF report…"),
                           ("results", "results.json: every figure (holds patient ids)…"),
                           ("records", "records.csv: per-record scores (holds patient ids)…")):
            action = save_menu.addAction(text)
            action.setObjectName(f"export_{kind}")
            action.triggered.connect(lambda _=False, k=kind: self.export_requested.emit(k))
            self.export_actions[kind] = action
        self.save_button.setMenu(save_menu)
        actions.addWidget(self.save_button)
        self.sign_button = QPushButton("Sign report…")
        self.sign_button.setObjectName("sign_report")
        self.sign_button.setToolTip("After reading the report: record your decision with your "
                                    "digital certificate (as `mnemoscope sign` does)")
        self.sign_button.clicked.connect(self.sign_requested)
        actions.addWidget(self.sign_button)
        self.folder_button = QPushButton("Show files")
        self.folder_button.clicked.connect(self.show_folder_requested)
        actions.addWidget(self.folder_button)
        actions.addStretch(1)
        self.new_button = QPushButton("New audit")
        self.new_button.clicked.connect(self.new_audit_requested)
        actions.addWidget(self.new_button)
        layout.addLayout(actions)
        self.saved_note = QLabel("")
        self.saved_note.setProperty("role", "help")
        self.saved_note.setWordWrap(True)
        # Beside the note on where the files are: the row of actions above has no room left
        # at 1100 px, and a tab bar's corner is lower than a button (it cut its bottom off).
        self.compare_button = QPushButton("Compare with…")
        self.compare_button.setObjectName("compare")
        self.compare_button.setToolTip("Put another audit of this model (before or after a mitigation) "
                                       "side by side with this one")
        self.compare_button.clicked.connect(self.compare_requested)
        note_row = QHBoxLayout()
        note_row.addWidget(self.saved_note, 1)
        note_row.addWidget(self.compare_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(note_row)

        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.cards_holder = QWidget()
        column = QVBoxLayout(self.cards_holder)
        self.summary = AuditSummary()
        self.summary.probe_chosen.connect(self.show_probe)
        column.addWidget(self.summary)
        self.cards = QGridLayout()
        self.cards.setSpacing(12)
        column.addLayout(self.cards)
        column.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.cards_holder)
        self.tabs.addTab(self.scroll, "Probes")
        self.tabs.addTab(self._build_records(), "Records most at risk")

    def _build_records(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        explain = QLabel("Every record with its score from each probe; higher scores look more like "
                         "training data. Sorted by the first probe; click a column to sort. Records are "
                         "shown by the pseudonym the PDF uses.")
        explain.setWordWrap(True)
        explain.setProperty("role", "help")
        layout.addWidget(explain)
        controls = QHBoxLayout()
        self.role_filter = QComboBox()
        self.role_filter.setAccessibleName("Cohort shown")
        for label, value in (("Members", "members"), ("Non-members", "non_members"), ("All records", "")):
            self.role_filter.addItem(label, value)
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("Filter by pseudonym")
        self.text_filter.setAccessibleName("Filter records")
        self.text_filter.setClearButtonEnabled(True)
        self.reveal_ids = QPushButton("Show patient ids")
        self.reveal_ids.setCheckable(True)
        controls.addWidget(QLabel("Show:"))
        controls.addWidget(self.role_filter)
        controls.addWidget(self.text_filter, 1)
        controls.addWidget(self.reveal_ids)
        layout.addLayout(controls)
        self.table = QTableView()
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Columns sized from the first rows, not all of them: by default Qt asks every cell of
        # the first 1,000 rows for ~10 roles (2,000 records: ~350,000 Python calls, 1-3 s
        # each time results are shown); the scores are 4 significant digits, as wide in row 100.
        self.table.horizontalHeader().setResizeContentsPrecision(RESIZE_ROWS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAlternatingRowColors(True)
        self.proxy = RecordsFilter()
        self.table.setModel(self.proxy)
        # The selected record's memorized spans over its text, below the table (local only).
        self.memorized = MemorizedText()
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.table)
        split.addWidget(self.memorized)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        self.table.selectionModel().currentRowChanged.connect(self._record_chosen)
        self.role_filter.currentIndexChanged.connect(lambda: self.proxy.set_role(self.role_filter.currentData()))
        self.text_filter.textChanged.connect(self.proxy.set_text)
        self.reveal_ids.toggled.connect(self._show_ids)
        return page

    def _record_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        model = self.proxy.sourceModel()
        if not current.isValid() or not isinstance(model, RecordsModel):
            return
        record = model.rows[self.proxy.mapToSource(current).row()]
        self.memorized.show_record(record[2], record[1])

    def _show_ids(self, shown: bool) -> None:
        self.table.setColumnHidden(1, not shown)
        self.reveal_ids.setText("Hide patient ids" if shown else "Show patient ids")
        self.text_filter.setPlaceholderText("Filter by pseudonym or id" if shown else "Filter by pseudonym")
        self.proxy.set_ids_visible(shown)

    def show_result(self, finished: FinishedAudit) -> None:
        self.finished_audit = finished
        result: AuditResult = finished.result
        verdict = result.overall_verdict.value
        self.banner_badge.set_verdict(verdict, large=True)
        _label, _ink, fill = verdict_colours(verdict)
        self.banner.setStyleSheet(f"QFrame#banner {{ border: 2px solid {fill}; border-radius: 6px; }}")
        incomplete = " (incomplete: the audit was cancelled)" if result.cancelled else ""
        self.banner_title.setText(f"{MEANINGS.get(verdict, verdict)}{incomplete}")
        self.banner_text.setText(f"{result.overall_rationale}<br><span style='color:#5F6B7A'>"
                                 f"{_escape(result.audit.get('title', ''))} · report "
                                 f"{_escape(finished.report_id)} · "
                                 f"{format_seconds(result.audit.get('seconds', 0))}</span>")
        spans = " and memorized_spans.json" if result.memorized_spans is not None else ""
        self.saved_note.setText(f"Saved in {finished.folder}: report.pdf, results.json, run.json, "
                                f"records.csv{spans.replace(' and', ',')} and plan.toml. results.json and "
                                f"records.csv{spans} hold patient ids: keep them on this computer.")
        # An incomplete audit is no result to sign off; it is rerun to the end first.
        self.sign_button.setEnabled(not result.cancelled)
        while self.cards.count():
            item = self.cards.takeAt(0)
            if item.widget():
                item.widget().hide()  # out of sight now; deleted when the event loop runs
                item.widget().deleteLater()
        for index, probe in enumerate(result.probes):
            self.cards.addWidget(ProbeCard(probe), index, 0)
        if not result.probes:
            self.cards.addWidget(QLabel("No probe finished before the audit was cancelled."), 0, 0)
        # Page 1 of the report, from the same results document the PDF was built from.
        self.summary.show_results(result.as_dict())
        self.scroll.verticalScrollBar().setValue(0)
        model = RecordsModel(result)
        self.proxy.setSourceModel(model)
        self.memorized.set_audit(result, finished.folder, finished.report_id, finished.files.get("plan"))
        self.reveal_ids.setChecked(False)
        self._show_ids(False)
        self.role_filter.setCurrentIndex(0)
        self.proxy.set_role("members")
        if model.probes:
            self.table.sortByColumn(len(RecordsModel.FIXED), Qt.SortOrder.DescendingOrder)
        self.tabs.setCurrentIndex(0)
        explain_terms(self)  # every technical term on the screen, defined as the glossary does

    def show_probe(self, probe_id: str) -> None:
        """Scroll the probes tab to the card of `probe_id` (a summary tile was clicked)."""
        card = next((c for c in self.probe_cards() if c.probe.id == probe_id), None)
        if card is None:
            return
        self.tabs.setCurrentWidget(self.scroll)
        self.cards_holder.layout().activate()  # positions are final before we read one
        top = card.mapTo(self.cards_holder, card.rect().topLeft()).y()
        self.scroll.verticalScrollBar().setValue(max(0, top - 8))

    def probe_cards(self) -> list[ProbeCard]:
        return [self.cards.itemAt(i).widget() for i in range(self.cards.count())
                if isinstance(self.cards.itemAt(i).widget(), ProbeCard)]
