"""The About box: versions, the latest validation on this machine, and the promise that
nothing leaves the machine."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from audit_core import __version__
from audit_core.build_info import UNKNOWN, build_hash, checkout_commit
from desktop.app_icon import app_icon
from desktop.validation_dialog import latest_validation_line


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_text() -> str:
    """The packaged build's recorded commit; in a development checkout, the commit checked
    out (results.json says "unknown" there: the checkout may hold uncommitted changes)."""
    recorded = build_hash()
    if recorded != UNKNOWN:
        return recorded
    commit = checkout_commit()
    if commit:
        return f"{commit[:12]} (development checkout)"
    return "not recorded (neither a packaged build nor a git checkout)"


def versions() -> list[tuple[str, str]]:
    rows = [("Mnemoscope", __version__), ("Build (git commit)", build_text()),
            ("Python", platform.python_version()),
            ("Qt / PySide6", f"{qVersion()} / {pyside_version}")]
    for package in ("onnxruntime", "onnx", "tokenizers", "numpy", "pandas", "reportlab"):
        try:
            rows.append((package, version(package)))
        except PackageNotFoundError:
            rows.append((package, "not installed"))
    return rows


def about_text() -> str:
    table = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{value}</td></tr>" for name, value in versions())
    return ("<h3>Mnemoscope</h3>"
            "<p>Audits clinical language models for memorization of patient data.</p>"
            "<p><b>Mnemoscope makes no network connections.</b> Models and tokenizers load from "
            "local files only, the offline switches of the Hugging Face libraries are set at "
            "start, and models, patient files and reports stay on this computer.</p>"
            f"<p>{_escape(latest_validation_line())}</p>"
            f"<table>{table}</table>")


def about_box(parent: QWidget | None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle("About Mnemoscope")
    box.setIconPixmap(app_icon().pixmap(64, 64))
    box.setText(about_text())
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box


def show_about(parent: QWidget | None) -> None:
    about_box(parent).exec()
