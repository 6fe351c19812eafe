"""File ▸ Import a model…: a local Hugging Face folder (safetensors) becomes a checked,
audit-ready ONNX folder through `audit_core.tools.conversion.convert_model`.

The core reports steps, not fractions, so the bar is a busy bar with the steps listed.
Cancel is honoured at the next step (the step callback raises Cancelled): the core
exports into a staging folder and removes it on any exception, so nothing half-written
is kept; one step (the ONNX export itself) can take a while on a large model.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from audit_core.work.progress import Cancelled
from desktop.task_dialog import TaskDialog

AUDIT_BUTTON = "Audit this model"


def conversion_work(source: Path, out_dir: Path):
    def work(report, cancel):
        from audit_core.tools.conversion import convert_model

        def step(message: str) -> None:
            if cancel.cancelled:
                raise Cancelled()
            report(0.0, message)

        return convert_model(source, out_dir, on_step=step)

    return work


def conversion_steps() -> tuple[tuple[str, str], ...]:
    from audit_core.tools.conversion.converter import STEPS  # no torch: it imports that lazily

    return STEPS


def start_conversion(parent: QWidget | None, source: Path, out_dir: Path) -> TaskDialog:
    dialog = TaskDialog(parent, "Import a model",
                        f"Converting {source.name} to ONNX into {out_dir}, then checking the "
                        "ONNX graph against the original (logits and greedy continuations).",
                        conversion_work(source, out_dir), "conversion", determinate=False,
                        cancel_note="Cancel stops at the next step and keeps nothing half-written.",
                        planned=conversion_steps())
    dialog.start()
    return dialog


def check_figures(report) -> str:
    """The conversion check, in plain words."""
    shapes = ", ".join(f"{b}×{t}" for b, t in report.shapes_checked)
    greedy = {True: f"identical for {report.greedy_prompts} prompts", False: "NOT identical",
              None: "not checked"}[report.greedy_identical]
    return (f"{report.architecture}, {report.parameters:,} parameters, converted in "
            f"{report.seconds:.1f} s.<br><br>"
            f"Check against the original: max |Δlogit| <b>{report.max_abs_logit_diff:.3g}</b> "
            f"(tolerance {report.tolerance:g}, batches {shapes}); greedy continuations "
            f"<b>{greedy}</b>.<br><br>Saved in {report.out_dir} (model.onnx "
            f"{report.onnx_bytes / 1e6:.1f} MB, SHA-256 {report.onnx_sha256[:16]}…).")


def result_box(parent: QWidget | None, report) -> tuple[QMessageBox, object]:
    """The success message and its "Audit this model" button."""
    box = QMessageBox(parent)
    box.setObjectName("conversionResult")
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Model imported")
    box.setText(f"<b>{report.source.name} was converted and checked.</b>")
    box.setInformativeText(check_figures(report))
    box.setDetailedText(report.summary())
    audit = box.addButton(AUDIT_BUTTON, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(audit)
    return box, audit
