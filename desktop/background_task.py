"""One core call on a QThread, reporting through signals.

Cancel is a direct, thread-safe call on the task's CancelToken from the GUI thread: a
queued signal would reach the busy worker only after the run had ended (DESIGN.md,
"Threads"). Progress is throttled so that a fast loop cannot flood the event queue.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from audit_core.work.progress import Cancelled, CancelToken, ProgressCallback

Work = Callable[[ProgressCallback, CancelToken], Any]

_MIN_STEP = 0.005  # emit on a change of at least 0.5%...
_MIN_INTERVAL = 0.1  # ...or every 100 ms


class _Worker(QObject):
    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object, str)  # the exception, its formatted traceback (for the details pane)
    cancelled = Signal()

    def __init__(self, work: Work, token: CancelToken) -> None:
        super().__init__()
        self._work = work
        self._token = token
        self._last = (-1.0, 0.0, "")

    def report(self, fraction: float, message: str) -> None:
        last_fraction, last_time, last_message = self._last
        now = time.monotonic()
        if (fraction - last_fraction >= _MIN_STEP or now - last_time >= _MIN_INTERVAL
                or fraction >= 1.0 or message.split(":")[0] != last_message.split(":")[0]):
            self._last = (fraction, now, message)
            self.progressed.emit(fraction, message)
        # No cancel check here: the core's Progress checks the token at every batch, and
        # the work after run_audit (writing what finished) must not be interrupted.

    @Slot()
    def run(self) -> None:
        try:
            result = self._work(self.report, self._token)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # every failure reaches the GUI as a dialog, never a crash
            self.failed.emit(exc, traceback.format_exc())
        else:
            self.succeeded.emit(result)


class BackgroundTask(QObject):
    """Runs `work(report, cancel_token)` once on its own thread."""

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()
    finished = Signal()  # after any of the three outcomes, once the thread has stopped

    def __init__(self, work: Work, name: str = "task", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self._thread = QThread()
        self._thread.setObjectName(f"mnemoscope-{name}")
        self._worker = _Worker(work, self.token)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        for signal, relay in ((self._worker.progressed, self.progressed),
                              (self._worker.succeeded, self.succeeded),
                              (self._worker.failed, self.failed),
                              (self._worker.cancelled, self.cancelled)):
            signal.connect(relay)
        # Direct: quit from the worker thread itself, so that a GUI thread blocked in wait()
        # (closing the window) still sees the thread end; QThread.quit is thread-safe.
        for signal in (self._worker.succeeded, self._worker.failed, self._worker.cancelled):
            signal.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self.finished)
        self._started = False

    def start(self) -> None:
        self._started = True
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report; safe from any thread."""
        self.token.cancel()

    @property
    def running(self) -> bool:
        return self._started and not self._thread.isFinished()

    def wait(self, milliseconds: int) -> bool:
        """Block until the thread has stopped; True when it has."""
        if not self._started:
            return True
        return self._thread.wait(milliseconds)
