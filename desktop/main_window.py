"""The main window: the composition root that builds the screens and wires them to the
controller. It holds no audit logic: it turns the pages into an AuditPlan and hands it on."""

from __future__ import annotations

import re
import time
from pathlib import Path

from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QStackedWidget, QWidget

from audit_core.errors import MnemoscopeError
from audit_core.tools.validation.installation import resources_dir
from desktop.about import show_about
from desktop.audit_controller import AuditController, FinishedAudit
from desktop.audit_history import AuditHistory
from desktop.busy_reasons import set_busy, show_reasons
from desktop.error_dialog import show_error
from desktop.help_dialogs import add_help_actions
from desktop.model_import import result_box, start_conversion
from desktop.open_files import open_path
from desktop.pages.data_page import DataPage
from desktop.pages.details_page import DetailsPage
from desktop.pages.model_page import ModelPage
from desktop.pages.probes_page import ProbesPage
from desktop.pages.results_page import ResultsPage
from desktop.pages.run_page import RunPage
from desktop.pages.start_page import StartPage
from desktop.plan_draft import PlanDraft
from desktop.result_files import ask_resume, export_result
from desktop.run_estimates import RunEstimates
from desktop.settings import AppSettings
from desktop.sign_dialog import SignDialog, open_sign_dialog
from desktop.task_dialog import TaskDialog
from desktop.validation_dialog import ValidationResultDialog, start_validation
from desktop.wizard import Wizard

# Beside the packages in a checkout or a frozen bundle; MNEMOSCOPE_RESOURCES in a wheel install.
DEMO_PLAN = resources_dir() / "demo" / "plan.toml"
RUN_STEP = 4


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.controller = AuditController(self)
        self.setWindowTitle("Mnemoscope")
        self.setMinimumSize(900, 640)
        self.screens = QStackedWidget()
        self.setCentralWidget(self.screens)
        self.start_page = StartPage()
        self.results_page = ResultsPage()
        self.wizard: Wizard | None = None
        self.tool_task: TaskDialog | None = None  # an import or a validation in progress
        self.validation_result: ValidationResultDialog | None = None
        self.sign_dialog: SignDialog | None = None
        self._retired: list[Wizard] = []  # kept alive: a read may still answer to them
        self.screens.addWidget(self.start_page)
        self.screens.addWidget(self.results_page)
        self._build_menus()
        self._wire()
        self.history = AuditHistory(self)  # recent audits, Open results…, Compare audits…
        self.start_page.set_recent(self.settings.recent_plans)
        geometry = self.settings.window_geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1100, 760)

    # --- construction -----------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.actions: dict[str, QAction] = {}
        for key, text, shortcut, slot in (
                ("new", "&New audit", QKeySequence.StandardKey.New, self.new_audit),
                ("open", "&Open plan…", QKeySequence.StandardKey.Open, self.choose_plan),
                ("save", "&Save plan…", QKeySequence.StandardKey.Save, self.save_plan),
                ("demo", "Try the &demo audit", None, self.open_demo),
                ("import", "&Import a model…", None, self.import_model),
                ("quit", "&Quit", QKeySequence.StandardKey.Quit, self.close)):
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.triggered.connect(slot)
            file_menu.addAction(action)
            self.actions[key] = action
            if key in ("demo", "import"):
                file_menu.addSeparator()
        self.actions["save"].setEnabled(False)
        help_menu = self.menuBar().addMenu("&Help")
        add_help_actions(help_menu, self)  # What do I need before I start?, Glossary
        validate = QAction("&Validate this installation…", self)
        validate.triggered.connect(self.validate_installation)
        help_menu.addAction(validate)
        self.actions["validate"] = validate
        about = QAction("&About Mnemoscope", self)
        about.triggered.connect(lambda: show_about(self))
        help_menu.addAction(about)
        self.actions["about"] = about
        show_reasons(self.menuBar())

    def _wire(self) -> None:
        self.start_page.new_requested.connect(self.new_audit)
        self.start_page.open_requested.connect(self.choose_plan)
        self.start_page.demo_requested.connect(self.open_demo)
        self.start_page.recent_requested.connect(self.open_plan)
        self.results_page.new_audit_requested.connect(self.new_audit)
        self.results_page.open_report_requested.connect(lambda: self._open_file("report"))
        self.results_page.show_folder_requested.connect(self._show_folder)
        self.results_page.export_requested.connect(self.export)
        self.results_page.sign_requested.connect(self.sign_report)
        c = self.controller
        c.progressed.connect(lambda f, m: self.run_page.set_progress(f, m))
        c.audit_finished.connect(self._audit_finished)
        c.audit_stopped.connect(self._audit_stopped)
        c.audit_failed.connect(self._audit_failed)
        c.busy_changed.connect(self._busy_changed)

    def _start_wizard(self, draft: PlanDraft, step: int = 0) -> None:
        if self.wizard is not None:
            self.screens.removeWidget(self.wizard)
            self.wizard.hide()
            self._retired.append(self.wizard)
        self.model_page = ModelPage(self.controller, self.settings)
        self.data_page = DataPage(self.controller, self.settings)
        self.probes_page = ProbesPage()
        self.details_page = DetailsPage(self.settings)
        self.run_page = RunPage()
        self.run_page.cluster_address = self.settings.cluster_address
        self.run_page.location.changed.connect(self._run_location_changed)
        self.run_estimates = RunEstimates(self.controller, self.run_page)
        self.model_page.inspected.connect(self.probes_page.set_model_info)
        self.model_page.inspected.connect(self.data_page.set_model_info)  # its kind's columns
        self.model_page.reference_changed.connect(self.probes_page.set_has_reference)
        # Code tests are greyed out for free text, notes tests for codes (probes/applicability.py).
        self.data_page.changed.connect(lambda: self.probes_page.set_records_kind(self.data_page.mapping()[2]))
        self.run_page.start_requested.connect(self.start_audit)
        self.run_page.cancel_requested.connect(self.controller.cancel)
        self.wizard = Wizard([self.model_page, self.data_page, self.probes_page, self.details_page,
                              self.run_page], draft)
        self.wizard.step_entered.connect(self._step_entered)
        self.screens.addWidget(self.wizard)
        self.screens.setCurrentWidget(self.wizard)
        self.actions["save"].setEnabled(True)
        if step:
            self.wizard.go(step, force=True)

    # --- start, open, save --------------------------------------------------------------
    def new_audit(self) -> None:
        if not self.controller.busy:
            self._start_wizard(PlanDraft())

    # --- tools: model import and self-validation ---------------------------------------
    def _tool_busy(self) -> bool:
        if self.controller.busy or (self.tool_task is not None and self.tool_task.running):
            QMessageBox.information(self, "Mnemoscope is busy",
                                    "Wait until the audit, import or validation in progress has "
                                    "finished (or cancel it), then try again.")
            return True
        return False

    def import_model(self) -> None:
        if self._tool_busy():
            return
        source = QFileDialog.getExistingDirectory(
            self, "Choose the Hugging Face model folder (config.json, safetensors, tokenizer)",
            str(self.settings.last_folder("import")))
        if not source:
            return
        self.settings.set_last_folder("import", Path(source).parent)
        out = QFileDialog.getExistingDirectory(
            self, "Choose an empty folder for the converted model (ONNX)",
            str(Path(source).parent))
        if not out:
            return
        task = start_conversion(self, Path(source), Path(out))
        task.succeeded.connect(self._model_imported)
        task.failed.connect(lambda exc, details: show_error(
            self, "The model could not be imported", exc,
            details if not isinstance(exc, MnemoscopeError) else ""))
        task.cancelled.connect(lambda: self.statusBar().showMessage(
            "Import cancelled: it stops at the next step and keeps nothing half-written.", 10_000))
        self.tool_task = task

    def _model_imported(self, report) -> None:
        if self.tool_task is not None and self.tool_task.user_cancelled:
            self.statusBar().showMessage(f"The import had finished before Cancel; the checked "
                                         f"model is in {report.out_dir}", 15_000)
            return
        box, audit = result_box(self, report)
        box.exec()
        if box.clickedButton() is audit:
            self.audit_model(report.out_dir)

    def audit_model(self, model_path: Path) -> None:
        """New audit with the model step filled in (it reads the model at once)."""
        if not self.controller.busy:
            self._start_wizard(PlanDraft(model_path=Path(model_path)))

    def validate_installation(self) -> None:
        if self._tool_busy():
            return
        task = start_validation(self)
        task.succeeded.connect(self._validated)
        task.failed.connect(lambda exc, details: show_error(
            self, "The validation could not run", exc,
            details if not isinstance(exc, MnemoscopeError) else ""))
        task.cancelled.connect(lambda: self.statusBar().showMessage(
            "Validation cancelled: no certificate was written.", 10_000))
        self.tool_task = task

    def _validated(self, result) -> None:
        if self.tool_task is not None and self.tool_task.user_cancelled:
            self.statusBar().showMessage("The validation had finished before Cancel; its "
                                         f"certificate is {result.pdf_path}", 15_000)
            return
        self.validation_result = ValidationResultDialog(self, result.certificate, result.json_path,
                                                        result.pdf_path, result.certificate_sha256)
        self.validation_result.open()

    def choose_plan(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an audit plan", str(self.settings.last_folder("plan")),
                                              "Audit plans (*.toml *.json);;All files (*)")
        if path:
            self.open_plan(Path(path))

    def open_demo(self) -> None:
        self.open_plan(DEMO_PLAN, remember=False)

    def open_plan(self, path: Path, remember: bool = True) -> None:
        if self.controller.busy:
            return
        from audit_core.plan.parsing import load_plan

        try:
            plan = load_plan(path)
        except MnemoscopeError as exc:
            show_error(self, "This plan cannot be opened", exc)
            return
        if remember:
            self.settings.set_last_folder("plan", path)
            self.settings.add_recent_plan(path)
            self.start_page.set_recent(self.settings.recent_plans)
        # Straight to the review step: everything is set; the steps show what was read.
        self._start_wizard(PlanDraft.from_plan(plan), RUN_STEP)

    def current_plan(self):
        """The plan the pages describe, checked by the core (PlanError if incomplete)."""
        assert self.wizard is not None
        return self.wizard.store().to_plan()

    def save_plan(self) -> None:
        if self.wizard is None:
            return
        from audit_core.plan.writing import write_plan

        try:
            plan = self.current_plan()
        except MnemoscopeError as exc:
            show_error(self, "The plan is not complete yet", exc)
            return
        suggested = self.settings.last_folder("plan") / "audit-plan.toml"
        path, _ = QFileDialog.getSaveFileName(self, "Save the audit plan", str(suggested), "TOML plan (*.toml)")
        if not path:
            return
        try:
            write_plan(plan, Path(path))
        except OSError as exc:
            show_error(self, "The plan could not be saved", exc)
            return
        self.settings.set_last_folder("plan", Path(path))
        self.settings.add_recent_plan(Path(path))
        self.start_page.set_recent(self.settings.recent_plans)
        self.statusBar().showMessage(f"Plan saved: {path}. Run it in batch with: mnemoscope run {Path(path).name} --out DIR", 10_000)

    # --- run ------------------------------------------------------------------------
    def _step_entered(self, index: int) -> None:
        if index == RUN_STEP and not self.controller.busy:
            self._show_run_setup()

    def _show_run_setup(self) -> None:
        draft = self.wizard.store()
        self.run_page.show_setup(draft, self._default_folder(draft))
        self._estimate()

    def _run_location_changed(self) -> None:
        """This computer or the cluster: the plan changes, so it is checked and estimated again."""
        if self.wizard is not None and self.wizard.current == RUN_STEP and not self.controller.busy:
            self.wizard.store()
            self._estimate()

    def _default_folder(self, draft: PlanDraft) -> Path:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", draft.audit.get("title", "audit")).strip("-").lower()[:40]
        return self.settings.output_root / f"{time.strftime('%Y-%m-%d-%H%M%S')}-{slug or 'audit'}"

    def _estimate(self) -> None:
        try:
            plan = self.current_plan()
        except MnemoscopeError as exc:
            self.run_estimates.not_ready(exc)
            return
        self.run_estimates.refresh(plan)

    def start_audit(self) -> None:
        if self.controller.busy or self.wizard is None:
            return
        problem_step, problem = self.wizard.first_problem(len(self.wizard.pages))
        if problem_step >= 0:
            self.wizard.go(problem_step)
            QMessageBox.information(self, "Not ready to run", problem)
            return
        try:
            plan = self.current_plan()
        except MnemoscopeError as exc:
            show_error(self, "The audit cannot start", exc)
            return
        folder = self.run_page.output_folder()
        resume = ask_resume(self, folder)
        if resume is None:
            return
        self.run_page.show_running(list(plan.probes or {}))
        self.history.audit_started(plan, folder)
        section = self.run_page.location.section()
        if section is not None and section["cluster"] != "auto":
            self.settings.cluster_address = section["cluster"]
        self.controller.start(plan, folder, resume=resume)

    def _busy_changed(self, busy: bool) -> None:
        if self.wizard is not None:
            self.wizard.set_locked(busy)
        set_busy(busy, (self.actions[key] for key in ("new", "open", "demo", "import", "validate")),
                 (self.start_page.new_button, self.start_page.open_button, self.start_page.demo_button))

    def _audit_finished(self, finished: FinishedAudit) -> None:
        self.run_page.stop_clock()
        self.run_page.append_log("Finished." if not finished.result.cancelled else "Cancelled; what finished was kept.")
        self.results_page.show_result(finished)
        self.screens.setCurrentWidget(self.results_page)
        self.settings.add_recent_plan(finished.files["plan"])
        self.start_page.set_recent(self.settings.recent_plans)

    def _audit_stopped(self) -> None:
        self.run_page.stop_clock()
        self.run_page.append_log("Cancelled before any probe ran: nothing was written.")
        self._show_run_setup()
        self.run_page.set_estimate(None, "The audit was cancelled before any probe ran; nothing was written.")

    def _audit_failed(self, exc: Exception, details: str) -> None:
        self.run_page.stop_clock()
        self._show_run_setup()
        self.run_page.set_estimate(None, "The audit could not run: correct the problem and start again.")
        show_error(self, "The audit could not run", exc, details if not isinstance(exc, MnemoscopeError) else "")

    # --- results ------------------------------------------------------------------------
    def _finished(self) -> FinishedAudit | None:
        return self.results_page.finished_audit

    def _open_file(self, kind: str) -> None:
        finished = self._finished()
        if finished is not None:
            open_path(self, finished.files[kind], "the PDF report" if kind == "report" else f"the {kind} file")

    def _show_folder(self) -> None:
        finished = self._finished()
        if finished is not None:
            open_path(self, finished.folder, "the audit's folder")

    def export(self, kind: str) -> Path | None:
        finished = self._finished()
        return export_result(self, finished, kind, self.settings) if finished is not None else None

    def sign_report(self) -> None:
        """The approval step: the dialog collects, the core signs (off the GUI thread)."""
        finished = self._finished()
        if finished is not None and not finished.result.cancelled:
            self.sign_dialog = open_sign_dialog(self, finished.files["report"])

    # --- closing ------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt)
        if self.controller.busy:
            answer = QMessageBox.question(
                self, "An audit is running",
                "An audit is still running. Stop it and close Mnemoscope? Probes that "
                "finished are not saved when you close.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.controller.shutdown(15_000)
        if self.tool_task is not None and self.tool_task.running:
            self.tool_task.task.cancel()
            self.tool_task.task.wait(30_000)
        self.settings.window_geometry = self.saveGeometry()
        self.settings.sync()
        event.accept()
