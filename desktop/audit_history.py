"""Finding audits again: the recent audits on the start screen, File ▸ Open results… and
File ▸ Compare audits…, a results.json given on the command line, and resuming an
interrupted audit from the list.

A saved audit opens from its results.json (desktop/audit_folders.py reads it back): the
results screen shows it as it did after the run, and nothing is run. The window is the
composition root; this module adds its own actions and pages to it and keeps the list.
"""

from __future__ import annotations

import logging
import time
import tomllib
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from audit_core.errors import MnemoscopeError, PlanError
from audit_core.plan.parsing import AuditPlan
from desktop.audit_controller import FinishedAudit
from desktop.audit_folders import FILE_KEYS, AuditEntry, Status, open_results, read_entry
from desktop.error_dialog import show_error
from desktop.pages.compare_page import ComparePage

log = logging.getLogger(__name__)
RESULTS_PATTERN = "Mnemoscope results (results.json *.json);;All files (*)"
RUN_STEP = 4  # the wizard's Run step (main_window.RUN_STEP)


class AuditHistory(QObject):
    """Installed once on the main window (`window.history`)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        self.compare_page = ComparePage()
        window.screens.addWidget(self.compare_page)
        self._before_compare: QWidget | None = None
        self._running: Path | None = None  # listed before it has written anything
        self.last_open_seconds: float | None = None  # reading and showing a saved audit
        self._add_actions()
        window.start_page.audit_requested.connect(self.open_entry)
        window.results_page.compare_requested.connect(self.compare_with_current)
        self.compare_page.back_requested.connect(self._back)
        window.controller.audit_finished.connect(self._finished)
        window.controller.audit_failed.connect(lambda *_: self._stopped())
        window.controller.audit_stopped.connect(self._stopped)
        self.refresh()

    def _add_actions(self) -> None:
        window = self.window
        quit_action = window.actions["quit"]
        menu = next(a.menu() for a in window.menuBar().actions() if a.menu() is not None
                    and quit_action in a.menu().actions())
        for key, text, slot in (("open_results", "Open &results…", self.choose_results),
                                ("compare", "&Compare audits…", self.choose_comparison)):
            action = QAction(text, window)
            action.triggered.connect(slot)
            menu.insertAction(quit_action, action)
            window.actions[key] = action
        menu.insertSeparator(quit_action)

    # --- the list ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reads each remembered folder's status again; folders that hold no audit any more
        (moved, deleted) are dropped, without a word."""
        entries = []
        for folder in self.settings.recent_audits:
            entry = read_entry(folder, self.settings.audit_plan(folder))
            if entry is not None:
                entries.append(entry)
            elif folder != self._running:
                self.settings.forget_audit(folder)
        self.window.start_page.set_audits(entries)

    def audit_started(self, plan: AuditPlan, folder: Path) -> None:
        """Remembered at the start, with its plan: after a crash it is listed as interrupted."""
        from audit_core.plan.writing import plan_toml

        self._running = Path(folder).resolve()
        self.settings.add_recent_audit(folder, plan_toml(plan))
        self.refresh()

    def _finished(self, finished: FinishedAudit) -> None:
        self._running = None
        self.settings.add_recent_audit(finished.folder)
        self._offer_files(finished)
        self.refresh()

    def _stopped(self) -> None:
        self._running = None
        self.refresh()

    def open_entry(self, entry: AuditEntry) -> None:
        entry = read_entry(entry.folder, self.settings.audit_plan(entry.folder))  # it may have changed
        if entry is None:
            self.refresh()
            QMessageBox.information(self.window, "Audit not found", "This audit's folder no longer "
                                    "holds its results (moved or deleted?); it was taken off the list.")
        elif entry.status is Status.INTERRUPTED:
            self.resume(entry.folder)
        else:
            self.open_results_file(entry.results)

    # --- opening saved results -----------------------------------------------------------
    def choose_results(self) -> None:
        path = self._ask_results("Open the results of an audit (results.json)")
        if path is not None:
            self.open_results_file(path)

    def open_results_file(self, path: Path) -> FinishedAudit | None:
        """Shows the results screen for a saved results.json; a bad file gets a dialog."""
        if self.window.controller.busy:
            QMessageBox.information(self.window, "An audit is running", "Open saved results when the "
                                    "audit in progress has finished (or cancel it).")
            return None
        started = time.perf_counter()
        finished = self._read(Path(path))
        if finished is None:
            return None
        self.window.results_page.show_result(finished)
        self._offer_files(finished)
        self.window.screens.setCurrentWidget(self.window.results_page)
        self.last_open_seconds = time.perf_counter() - started
        log.info("results opened in %.2f s", self.last_open_seconds)
        if finished.files["results"].name == "results.json":
            self.settings.add_recent_audit(finished.folder)
            self.refresh()
        return finished

    def open_arguments(self, arguments: list[str]) -> None:
        """`mnemoscope-desktop path/to/results.json` (a file association passes the path):
        opened once the window is up."""
        paths = [a for a in arguments if a and not a.startswith("-")]
        if paths:
            QTimer.singleShot(0, lambda: self.open_results_file(Path(paths[0])))

    def _read(self, path: Path) -> FinishedAudit | None:
        try:
            return open_results(path)
        except MnemoscopeError as exc:
            show_error(self.window, "These results cannot be opened", exc)
            return None

    def _offer_files(self, finished: FinishedAudit) -> None:
        """The results screen's buttons for the files the folder holds (a results.json opened
        on its own has no report beside it to open, save or sign)."""
        page, files = self.window.results_page, finished.files
        page.open_button.setEnabled("report" in files)
        page.sign_button.setEnabled("report" in files and not finished.result.cancelled)
        for kind, action in page.export_actions.items():
            action.setEnabled(kind in files)
        note = getattr(page, "saved_note", None)
        if note is not None and not set(FILE_KEYS) <= set(files):  # say only what is there
            names = ", ".join(FILE_KEYS[k] for k in FILE_KEYS if k in files)
            note.setText(f"Opened from {finished.folder}: {names}. results.json holds patient ids: "
                         "keep it on this computer.")

    # --- resuming an interrupted audit ---------------------------------------------------
    def resume(self, folder: Path) -> None:
        """The run's own resume path: the folder's plan, Start with resume=True."""
        window = self.window
        if window.controller.busy:
            return
        plan = self._interrupted_plan(folder)
        if plan is None:
            return
        from desktop.plan_draft import PlanDraft
        from desktop.result_files import ask_resume

        resume = ask_resume(window, folder)
        if resume is None:
            return
        window._start_wizard(PlanDraft.from_plan(plan), RUN_STEP)
        window.run_page.folder_field.setText(str(folder))
        window.run_page.show_running(list(plan.probes or {}))
        self.audit_started(plan, folder)
        window.controller.start(plan, folder, resume=resume)

    def _interrupted_plan(self, folder: Path) -> AuditPlan | None:
        from audit_core.plan.parsing import load_plan, plan_from_dict
        from audit_core.run.output_folder import PLAN_FILE

        text = self.settings.audit_plan(folder)
        try:
            if (folder / PLAN_FILE).is_file():
                return load_plan(folder / PLAN_FILE)
            if text is None:
                raise PlanError(f"the plan of the interrupted audit in {folder} was not kept; open "
                                "its plan and start it with this folder as the output folder to resume")
            try:
                raw = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                raise PlanError("the plan kept for this interrupted audit is damaged") from None
            return plan_from_dict(raw, base=Path(folder))
        except MnemoscopeError as exc:
            show_error(self.window, "This audit cannot be resumed", exc)
            return None

    # --- comparing two audits ------------------------------------------------------------
    def compare_with_current(self) -> None:
        first = self.window.results_page.finished_audit
        if first is None:
            return
        second = self._ask_and_read("Choose the other audit's results.json to compare with")
        if second is not None:
            self.show_comparison(first, second)

    def choose_comparison(self) -> None:
        first = self._ask_and_read("Compare audits: choose the first audit's results.json (before)")
        if first is None:
            return
        second = self._ask_and_read("Compare audits: choose the second audit's results.json (after)")
        if second is not None:
            self.show_comparison(first, second)

    def _ask_and_read(self, title: str) -> FinishedAudit | None:
        """A results.json the user picks, read (None when cancelled or refused, with a message)."""
        path = self._ask_results(title)
        return self._read(path) if path is not None else None

    def show_comparison(self, first: FinishedAudit, second: FinishedAudit) -> None:
        from audit_core.results.comparison import compare_audits

        screens = self.window.screens
        if screens.currentWidget() is not self.compare_page:
            self._before_compare = screens.currentWidget()
        self.compare_page.show_comparison(compare_audits(first.result, second.result),
                                          first.report_id, second.report_id)
        screens.setCurrentWidget(self.compare_page)

    def _back(self) -> None:
        screens = self.window.screens
        target = self._before_compare
        screens.setCurrentWidget(target if target is not None and screens.indexOf(target) >= 0
                                 else self.window.start_page)

    def _ask_results(self, title: str) -> Path | None:
        path, _ = QFileDialog.getOpenFileName(self.window, title, str(self.settings.last_folder("results")),
                                              RESULTS_PATTERN)
        if not path:
            return None
        self.settings.set_last_folder("results", Path(path))
        return Path(path)
