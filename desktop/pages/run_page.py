"""Step 5, Run: what will run and about how long it takes; then progress, each probe's
state, a log, and Cancel (which stops within about a batch and keeps what finished)."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from audit_core.probes import PROBES_BY_ID
from audit_core.probes.generating import GENERATION_LABEL, generation_weight
from audit_core.run.remaining import RemainingTime, describe_remaining
from desktop.pages.step_page import StepPage
from desktop.plan_draft import PlanDraft
from desktop.widgets.path_field import PathField
from desktop.widgets.run_location import RunLocationBox

SCORING = "shared scoring pass"


def readable(message: str) -> str:
    """A progress message as a person reads it: the core names the probe by its id
    ("sensitive_attributes: unprompted base rate"); the screen names it by its title."""
    name, sep, rest = message.partition(":")
    probe = PROBES_BY_ID.get(name.strip())
    text = f"{probe.title}:{rest}" if sep and probe is not None else message
    return text[:1].upper() + text[1:]
STATE_TEXT = {"waiting": "waiting", "running": "running…", "done": "done", "stopped": "not run"}


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class RunPage(StepPage):
    step_title = "Run"
    start_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.modes = QStackedWidget()
        self.layout_.addWidget(self.modes, 1)
        self._build_setup()
        self._build_running()
        self._started = 0.0
        self._fraction = 0.0
        self._prior: tuple[tuple[str, float], ...] = ()
        self._prior_total: float | None = None
        self._remaining = RemainingTime()
        self._states: dict[str, str] = {}
        self._last_message = ""
        # The last cluster address the app was given (AppSettings), offered when a plan has none.
        self.cluster_address = ""
        self.clock = QTimer(self)
        self.clock.setInterval(500)
        self.clock.timeout.connect(self._tick)

    # --- before the run ---------------------------------------------------------------
    def _build_setup(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        summary_box = QGroupBox("This audit")
        self.summary = QFormLayout(summary_box)
        self.summary_labels: dict[str, QLabel] = {}
        for key, label in (("title", "Report"), ("model", "Model"), ("members", "Members"),
                           ("non_members", "Non-members"), ("probes", "Probes")):
            value = QLabel("")
            value.setWordWrap(True)
            self.summary_labels[key] = value
            self.summary.addRow(f"{label}:", value)
        layout.addWidget(summary_box)
        # The label above the field, so that the path has the row's whole width.
        layout.addWidget(QLabel("Save the report and results in:"))
        folder_row = QHBoxLayout()
        self.folder_field = PathField()
        self.folder_field.setAccessibleName("Output folder")
        # The wizard rechecks the step (its hint, Next) when the folder changes.
        self.folder_field.path_changed.connect(lambda _path: self.changed.emit())
        self.folder_button = QPushButton("Change…")
        self.folder_button.clicked.connect(self._choose_folder)
        folder_row.addWidget(self.folder_field, 1)
        folder_row.addWidget(self.folder_button)
        layout.addLayout(folder_row)
        self.location = RunLocationBox()
        self.location.changed.connect(self.changed.emit)
        layout.addWidget(self.location)
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.estimate.setProperty("role", "lead")
        layout.addWidget(self.estimate)
        start_row = QHBoxLayout()
        start_row.addStretch(1)
        self.start_button = QPushButton("Start the audit")
        self.start_button.setObjectName("primary")
        self.start_button.setMinimumHeight(40)
        self.start_button.clicked.connect(self.start_requested)
        start_row.addWidget(self.start_button)
        layout.addLayout(start_row)
        note = QLabel("You can cancel at any time; probes that finished are kept and the report "
                      "says the audit is incomplete.")
        note.setWordWrap(True)
        note.setProperty("role", "help")
        layout.addWidget(note)
        layout.addStretch(1)
        self.modes.addWidget(page)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the report and results",
                                                  str(Path(self.folder_field.path()).parent))
        if folder:
            self.folder_field.setText(folder)

    def show_setup(self, draft: PlanDraft, folder: Path) -> None:
        self.modes.setCurrentIndex(0)
        self.summary_labels["title"].setText(draft.audit.get("title", ""))
        self.summary_labels["model"].setText(str(draft.model_path or ""))
        for role in ("members", "non_members"):
            path = getattr(draft, role)
            self.summary_labels[role].setText(path.name if path else "")
            if draft.meds is not None:  # a MEDS folder: its name and the role's splits
                splits = "+".join(draft.meds.get(f"{role}_splits", ()))
                self.summary_labels[role].setText(f"{Path(str(draft.meds.get('root', ''))).name} [{splits}]")
        self.summary_labels["probes"].setText(", ".join(
            PROBES_BY_ID[p].title if p in PROBES_BY_ID else p for p in draft.probes))
        self.folder_field.setText(str(folder))
        self.set_estimate(None)

    def set_estimate(self, seconds: float | None, note: str = "",
                     phases: tuple[tuple[str, float], ...] = (), *, memory: str = "") -> None:
        """`phases`: the estimate's (phase, seconds), which the time left starts from;
        `memory`: the estimate's memory line (kinds/memory_need.describe_memory)."""
        self._prior = phases if seconds is not None else ()
        self._prior_total = seconds
        if note:
            self.estimate.setText(note)
        elif seconds is None:
            self.estimate.setText("Estimating how long the audit will take…")
        else:
            text = estimate_words(seconds, self.location.section() is not None)
            self.estimate.setText(f"{text} {memory[:1].upper()}{memory[1:]}." if memory else text)

    def load(self, draft: PlanDraft) -> None:
        self.location.set_section(draft.extra.get("run"), self.cluster_address)

    def store(self, draft: PlanDraft) -> None:
        section = self.location.section()
        if section is None:
            draft.extra.pop("run", None)
        else:
            draft.extra["run"] = section

    def output_folder(self) -> Path:
        return Path(self.folder_field.path().strip()).expanduser()

    def problem(self) -> str:
        if not self.folder_field.path().strip():
            return "Choose a folder for the results."
        if self.output_folder().exists() and not self.output_folder().is_dir():
            return "The results folder is a file: choose a folder."
        return ""

    # --- while it runs ----------------------------------------------------------------
    def _build_running(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Audit progress")
        layout.addWidget(self.progress)
        times = QHBoxLayout()
        self.step_label = QLabel("")
        self.time_label = QLabel("")
        times.addWidget(self.step_label, 1)
        times.addWidget(self.time_label)
        layout.addLayout(times)
        states_box = QGroupBox("Probes")
        self.states_layout = QFormLayout(states_box)
        self.state_labels: dict[str, QLabel] = {}
        layout.addWidget(states_box)
        layout.addWidget(QLabel("Log:"))
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setAccessibleName("Log")
        layout.addWidget(self.log, 1)
        cancel_row = QHBoxLayout()
        cancel_row.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel)
        cancel_row.addWidget(self.cancel_button)
        layout.addLayout(cancel_row)
        self.modes.addWidget(page)

    def show_running(self, probe_ids: list[str]) -> None:
        self.modes.setCurrentIndex(1)
        self.progress.setValue(0)
        self.log.clear()
        while self.states_layout.rowCount():
            self.states_layout.removeRow(0)
        self.state_labels = {}
        self._states = {}
        names = run_order(probe_ids)
        for name in names:
            label = QLabel(STATE_TEXT["waiting"])
            title = ("Shared scoring pass" if name == SCORING else
                     "Generation (every sampling probe's continuations)" if name == GENERATION_LABEL
                     else PROBES_BY_ID[name].title)
            self.states_layout.addRow(f"{title}:", label)
            self.state_labels[name] = label
            self._states[name] = "waiting"
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self._started = time.monotonic()
        self._fraction = 0.0
        self._remaining = RemainingTime(self._prior)
        self._last_message = ""
        self.step_label.setText("Starting…")
        self.append_log(f"Audit started {self.location.where()}.")
        self._tick()
        self.clock.start()

    def set_progress(self, fraction: float, message: str) -> None:
        self._fraction = fraction
        self._remaining.update(time.monotonic() - self._started, fraction, message)
        self.progress.setValue(int(fraction * 1000))
        current = message.split(":")[0].strip()
        if current in self._states:
            for name in self._states:
                if name == current:
                    break
                self._set_state(name, "done")
            self._set_state(current, "running")
        elif fraction >= 0.95:
            for name in self._states:
                self._set_state(name, "done")
        if message and message != self._last_message:
            self._last_message = message
            self.step_label.setText(readable(message))
            self.append_log(readable(message))
        self._tick()

    def _set_state(self, name: str, state: str) -> None:
        if self._states.get(name) != state:
            self._states[name] = state
            self.state_labels[name].setText(STATE_TEXT[state])
            self.state_labels[name].setProperty("state", {"done": "ok", "running": "busy"}.get(state, ""))
            self.state_labels[name].style().polish(self.state_labels[name])

    def append_log(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.log.appendPlainText(f"{stamp}  {text}")

    def _tick(self) -> None:
        elapsed = time.monotonic() - self._started
        text = f"Elapsed {format_duration(elapsed)}"
        # run/remaining.py: the estimate's phases, refined by how long the finished ones took.
        left = describe_remaining(self._remaining.seconds(elapsed)) if self._fraction < 1.0 else ""
        self.time_label.setText(f"{text}  ·  {left}" if left else text)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.append_log("Cancel requested: stopping after the current batch.")
        self.cancel_requested.emit()

    def stop_clock(self) -> None:
        self.clock.stop()
        for name, state in self._states.items():
            if state != "done":
                self._set_state(name, "stopped")


def estimate_words(seconds: float, on_cluster: bool) -> str:
    """The estimate line. It is measured on this computer (models/calibration): on a
    cluster the workers share the scoring and the decoding, so it is an upper bound there."""
    duration = format_duration(max(seconds, 1))
    if on_cluster:
        return (f"Estimated time on this computer: about {duration}; the cluster's workers "
                "share the work, so it should take less there.")
    return f"Estimated time: about {duration} on this computer."


def run_order(probe_ids: list[str]) -> list[str]:
    """The rows of the Probes box in the order the run reaches them: the shared pass, the
    probes that decode nothing, the generation step, the probes that read it
    (run/runner.py)."""
    known = [p for p in probe_ids if p in PROBES_BY_ID]
    decoding = [p for p in known if generation_weight(PROBES_BY_ID[p]) > 0]
    names = [p for p in known if p not in decoding]
    if any(PROBES_BY_ID[p].needs.token_scores for p in known):
        names.insert(0, SCORING)
    if decoding:
        names.append(GENERATION_LABEL)
    return names + decoding
