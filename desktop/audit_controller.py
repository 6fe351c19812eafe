"""Owns the background work of the app: the one running audit, and quick reads beside it.

The audit is `run_audit` followed by `write_outputs` (report.pdf, results.json,
records.csv, as the CLI writes them) and the plan saved beside them, so the folder holds
everything needed to rerun it. Reading a model or a data file also runs in the
background: onnx and pandas hold the GIL for whole seconds on a large file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from audit_core.plan.parsing import AuditPlan
from audit_core.results.result import AuditResult
from audit_core.run.output_folder import PLAN_FILE
from desktop.background_task import BackgroundTask, Work

# The share of the progress bar the audit itself takes; the rest is writing the PDF.
_AUDIT_SHARE = 0.95


@dataclass(frozen=True, slots=True)
class FinishedAudit:
    result: AuditResult
    folder: Path
    files: dict[str, Path]  # "report", "results", "records", "plan"

    @property
    def report_id(self) -> str:
        """The id the report prints (one per distinct results, unlike the audit id)."""
        return str(self.result.as_dict()["audit"]["report_id"])


class AuditController(QObject):
    busy_changed = Signal(bool)
    progressed = Signal(float, str)
    audit_finished = Signal(object)  # FinishedAudit (also when cancelled after some probes)
    audit_stopped = Signal()  # cancelled before any probe ran: nothing written
    audit_failed = Signal(object, str)  # exception, traceback

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._audit: BackgroundTask | None = None
        self._helpers: set[BackgroundTask] = set()
        self._closing = threading.Event()  # set by shutdown: stop without writing anything

    @property
    def busy(self) -> bool:
        return self._audit is not None

    def start(self, plan: AuditPlan, folder: Path, resume: bool = False) -> None:
        """`resume`: continue the interrupted audit whose checkpoint is in `folder`."""
        if self._audit is not None:
            raise RuntimeError("an audit is already running")
        task = BackgroundTask(_audit_work(plan, folder, self._closing, resume), "audit", self)
        task.progressed.connect(self.progressed)
        task.succeeded.connect(self.audit_finished)
        task.cancelled.connect(self.audit_stopped)
        task.failed.connect(self.audit_failed)
        task.finished.connect(self._audit_done)
        self._audit = task
        self.busy_changed.emit(True)
        task.start()

    def cancel(self) -> None:
        if self._audit is not None:
            self._audit.cancel()

    def submit(self, name: str, work: Callable[[], Any], on_success: Callable[[Any], None],
               on_failure: Callable[[Exception, str], None]) -> BackgroundTask:
        """A quick read (model, data file, estimate) on its own thread."""
        task = BackgroundTask(lambda report, cancel: work(), name, self)
        return self._keep(task, on_success, on_failure)

    def submit_with_progress(self, name: str, work: Work, on_success: Callable[[Any], None],
                             on_failure: Callable[[Exception, str], None]) -> BackgroundTask:
        return self._keep(BackgroundTask(work, name, self), on_success, on_failure)

    def _keep(self, task: BackgroundTask, on_success: Callable[[Any], None],
              on_failure: Callable[[Exception, str], None]) -> BackgroundTask:
        task.succeeded.connect(on_success)
        task.failed.connect(on_failure)
        task.finished.connect(lambda: self._helpers.discard(task))
        self._helpers.add(task)
        task.start()
        return task

    def shutdown(self, milliseconds: int = 10_000) -> bool:
        """Cancel everything and wait for the threads; True when all have stopped."""
        tasks = [t for t in (self._audit, *self._helpers) if t is not None]
        self._closing.set()
        for task in tasks:
            task.cancel()
        return all(task.wait(milliseconds) for task in tasks)

    def _audit_done(self) -> None:
        self._audit = None
        self.busy_changed.emit(False)


def _audit_work(plan: AuditPlan, folder: Path, closing: threading.Event, resume: bool = False) -> Work:
    def work(report, cancel) -> FinishedAudit:
        from audit_core.plan.writing import plan_toml
        from audit_core.run.output_folder import AUDIT_FILES, SPANS_FILE, check_output_folder
        from audit_core.run.outputs import write_outputs
        from audit_core.run.runner import run_audit
        from audit_core.work.checkpoints import CheckpointRequest
        from audit_core.work.progress import Cancelled

        # The CLI's rules for the folder, before any model work: a refusal (an input or
        # another audit's files there, no room) reaches the app as a PlanError dialog.
        check_output_folder(folder, plan, writes=(*AUDIT_FILES, PLAN_FILE, SPANS_FILE))
        checkpoint = CheckpointRequest(folder, resume=resume)  # finished work survives a crash
        result = run_audit(plan, on_progress=lambda f, m: report(f * _AUDIT_SHARE, m), cancel=cancel,
                           checkpoint=checkpoint)
        if closing.is_set():  # the app is closing: the user chose to drop the run
            raise Cancelled()
        report(_AUDIT_SHARE, "writing the report, results.json and records.csv")
        folder.mkdir(parents=True, exist_ok=True)
        # The plan travels with the set (recorded in run.json like the others), so a rerun
        # of this audit into the folder may replace it and nothing else may.
        files = write_outputs(result, folder, extra={PLAN_FILE: plan_toml(plan, folder).encode("utf-8")})
        files["plan"] = folder / PLAN_FILE
        if not result.cancelled:  # written in full: nothing left to resume
            checkpoint.discard()
        report(1.0, "done")
        return FinishedAudit(result=result, folder=folder, files=files)

    return work
