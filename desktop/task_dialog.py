"""A small progress dialog over one BackgroundTask: the current step, a bar, the steps so
far and Cancel. Used by the tools outside the audit flow (model import, validation).

The dialog is window-modal but opened without blocking (`open()`), so the event loop
keeps delivering the task's signals. Cancel sets the task's token and closes the dialog
at once; the work stops at its next step or batch, and what happens to half-done work is
the core's promise, said in `cancel_note`.

When the work's steps are known beforehand (`planned`: (key, label) pairs, a message
starting with the key reports that step), they are listed at once, greyed, and ticked as
the work passes them: the first seconds (starting torch) show what is coming rather than
an empty list.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from desktop.background_task import BackgroundTask, Work


class TaskDialog(QDialog):
    """Runs `work` on a BackgroundTask and shows its progress; relays the outcome."""

    succeeded = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()  # the user pressed Cancel (the work may still be stopping)

    def __init__(self, parent: QWidget | None, title: str, intro: str, work: Work, name: str,
                 *, determinate: bool = True, cancel_note: str = "",
                 planned: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}Dialog")
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        heading = QLabel(intro)
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.step = QLabel("Starting…")
        self.step.setWordWrap(True)
        layout.addWidget(self.step)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000 if determinate else 0)  # 0..0: busy, no fraction known
        self.bar.setTextVisible(determinate)
        layout.addWidget(self.bar)
        self.steps = QListWidget()
        self.steps.setMaximumHeight(120)
        layout.addWidget(self.steps)
        self.planned = tuple(planned)
        self._reached = -1  # the planned step under way
        for _key, label in self.planned:
            item = QListWidgetItem(label)
            item.setFlags(Qt.ItemFlag.NoItemFlags)  # greyed: not reached yet
            item.setCheckState(Qt.CheckState.Unchecked)
            self.steps.addItem(item)
        if self.planned:
            self.steps.setMaximumHeight(self.steps.sizeHintForRow(0) * len(self.planned)
                                        + 2 * self.steps.frameWidth() + 4)
        if cancel_note:
            note = QLabel(cancel_note)
            note.setWordWrap(True)
            note.setProperty("role", "hint")
            layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.user_cancelled = False
        self.task = BackgroundTask(work, name, self)
        self.task.progressed.connect(self._progressed)
        self.task.succeeded.connect(self._succeeded)
        self.task.failed.connect(self._failed)
        self.task.cancelled.connect(self._stopped)

    def start(self) -> None:
        self.open()
        self.task.start()
        if self.planned:
            self._reach(0, "")

    @property
    def running(self) -> bool:
        return self.task.running

    def reject(self) -> None:  # Cancel, Escape or the close box
        if self.task.running and not self.user_cancelled:
            self.user_cancelled = True
            self.task.cancel()
            self.cancelled.emit()
        super().reject()

    def _progressed(self, fraction: float, message: str) -> None:
        if self.bar.maximum():
            self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        text = message[:1].upper() + message[1:]
        self.step.setText(f"{text}…" if not text.endswith(("…", ".")) else text)
        index = next((i for i, (key, _label) in enumerate(self.planned) if message.startswith(key)), -1)
        if self.planned:
            if index > self._reached:
                self._reach(index, message)
            return
        head = message.split(":")[0]
        last = self.steps.item(self.steps.count() - 1)
        if last is None or last.text().split(":")[0] != head:
            self.steps.addItem(message)
        else:
            last.setText(message)
        self.steps.scrollToBottom()

    def _reach(self, index: int, message: str) -> None:
        """Tick the steps before `index` (or say they were not needed); `index` is under way."""
        for i in range(max(self._reached, 0), index):
            item = self.steps.item(i)
            if i == self._reached:
                item.setCheckState(Qt.CheckState.Checked)
            else:  # skipped: a step this model does not need
                item.setText(f"{self.planned[i][1]} (not needed for this model)")
        self._reached = index
        current = self.steps.item(index)
        current.setFlags(Qt.ItemFlag.ItemIsEnabled)
        if not message:
            self.step.setText(f"{self.planned[index][1]}…")

    def _succeeded(self, result: object) -> None:
        if self.planned and self._reached >= 0:
            self.steps.item(self._reached).setCheckState(Qt.CheckState.Checked)
        if self.user_cancelled:
            self.succeeded.emit(result)  # finished before it saw Cancel: the caller decides
            return
        self.accept()
        self.succeeded.emit(result)

    def _failed(self, exc: Exception, details: str) -> None:
        if not self.user_cancelled:
            self.accept()
            self.failed.emit(exc, details)

    def _stopped(self) -> None:
        if self.isVisible():
            self.accept()
