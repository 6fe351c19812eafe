"""Render every screen of the desktop flow to PNG, on a real X server (Xvfb).

    apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1     # once
    .venv/bin/python -m desktop.screenshots [docs/screenshots] [--size 1600x1000]

Runs the demo audit for real (about half a minute), the tabular example's audit (a few
seconds) and the demo again, cancelled once its first probes have finished, with settings
and outputs in a temporary folder; runs Help ▸ Validate this installation (certificate and
installation record in the same temporary folder), and writes 01-start.png …
14-before-you-start.png: 08-card-NN-<probe>.png is each probe card whole,
03b-data-tabular.png the tabular example's Data step, 08b-results-tabular.png and
08c-results-cancelled.png its results and those of the cancelled demo (palette-compressed
with ImageMagick when it is installed). The window is 1100x760 unless --size says
otherwise. Sample values stay hidden, as they are by default. Starts its own Xvfb unless
DISPLAY is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1100, 760)


def _start_display() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    if shutil.which("Xvfb") is None:
        sys.exit("Xvfb is not installed: apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1")
    server = subprocess.Popen(["Xvfb", ":97", "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = ":97"
    time.sleep(1.0)
    return server


def parse_args(argv: list[str]) -> tuple[Path, tuple[int, int]]:
    """[FOLDER] [--size WIDTHxHEIGHT]: where the PNGs go and the window's size."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m desktop.screenshots")
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", default=None, help="window size, e.g. 1600x1000 (default 1100x760)")
    args = parser.parse_args(argv)
    if args.size is None:
        return args.folder, SIZE
    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size takes WIDTHxHEIGHT, e.g. 1600x1000, not {args.size!r}")
    if width < 640 or height < 480:
        parser.error("--size: at least 640x480")
    return args.folder, (width, height)


def main(argv: list[str]) -> int:
    global SIZE
    out, SIZE = parse_args(argv)
    out.mkdir(parents=True, exist_ok=True)
    server = _start_display()
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    scratch = Path(tempfile.mkdtemp(prefix="mnemoscope-shots-"))
    try:
        return _render(out, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if server is not None:
            server.terminate()


def _render(out: Path, scratch: Path) -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QScrollArea

    from desktop.app import create_application

    app = create_application(["mnemoscope-desktop"])
    from audit_core.errors import ModelError
    from desktop.about import about_box
    from desktop.error_dialog import error_box
    from desktop.main_window import DEMO_PLAN, MainWindow
    from desktop.settings import AppSettings

    settings = AppSettings(QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    settings.output_root = scratch / "audits"
    settings.add_recent_plan(DEMO_PLAN)
    window = MainWindow(settings)
    window.resize(*SIZE)
    window.move(0, 0)
    window.show()

    def spin(seconds: float = 0.3, until=None, limit: float = 120.0) -> None:
        end = time.monotonic() + (limit if until else seconds)
        while time.monotonic() < end:
            app.processEvents()
            if until is not None and until():
                return
            time.sleep(0.02)
        if until is not None:
            raise TimeoutError("the screen did not reach the expected state")

    def shoot(name: str, widget=None) -> None:
        spin(0.4)
        path = out / f"{name}.png"
        (widget or window).grab().save(str(path))
        _compress(path)
        print(path)

    shoot("01-start")
    window.open_demo()
    wizard = window.wizard
    spin(until=lambda: wizard.first_problem(4)[0] < 0)
    for index, name in enumerate(("02-model", "03-data", "04-probes", "05-details")):
        wizard.go(index)
        shoot(name)
        if name == "04-probes":  # the end of the list: probes this audit cannot support
            scroll = window.probes_page.findChild(QScrollArea)
            scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
            shoot("04b-probes-unsupported")
    wizard.go(4)
    spin(until=lambda: "Estimated" in window.run_page.estimate.text())
    shoot("06-run")
    location = window.run_page.location
    if location.cluster_button.isEnabled():  # the [cluster] extra is installed
        location.address.setText("ray://head-node:10001")
        location.cluster_button.setChecked(True)
        spin(until=lambda: "Estimated" in window.run_page.estimate.text()
             or "Not ready" in window.run_page.estimate.text())
        shoot("06b-run-cluster")
        location.local_button.setChecked(True)
        spin(until=lambda: "Estimated" in window.run_page.estimate.text())
    window.run_page.start_button.click()
    spin(until=lambda: window.run_page.progress.value() > 450)
    shoot("07-running")
    spin(until=lambda: window.screens.currentWidget() is window.results_page, limit=300)
    shoot("08-results")
    for index, card in enumerate(window.results_page.probe_cards()):  # each card whole, scrolled or not
        shoot(f"08-card-{index + 1:02d}-{card.probe.id}", card)
    window.results_page.tabs.setCurrentIndex(1)
    shoot("09-records")
    window.results_page.table.selectRow(0)  # the record most at risk: its memorized spans
    shoot("09b-records-memorized")
    window.results_page.tabs.setCurrentIndex(0)
    # A tabular classifier's Data step: its inputs and outcome instead of a record column.
    window.open_plan(ROOT / "resources" / "examples" / "tabular" / "plan.toml", remember=False)
    spin(until=lambda: window.wizard.first_problem(4)[0] < 0)
    window.wizard.go(1)
    shoot("03b-data-tabular")
    run_to_results(window, spin)
    shoot("08b-results-tabular")
    # The demo cancelled once its first probes have finished (as tests/desktop/test_run_control.py).
    window.open_demo()
    spin(until=lambda: window.wizard.first_problem(4)[0] < 0)
    run_to_results(window, spin, cancel_at="Training-data extraction")
    shoot("08c-results-cancelled")

    box = error_box(window, "This model cannot be used",
                    ModelError("model.onnx is not a valid ONNX model (DecodeError); re-export it"))
    box.show()
    shoot("10-error", box)
    box.close()
    # Help ▸ Glossary and Help ▸ What do I need before I start? (also on the start screen).
    from desktop.help_dialogs import show_glossary, show_needs

    for name, show in (("13-glossary", show_glossary), ("14-before-you-start", show_needs)):
        dialog = show(window)
        shoot(name, dialog)
        dialog.close()
    # The validation before the About box, which cites it. The record of the installed
    # files is taken now, into the scratch folder, so the files check compares like with like.
    from audit_core.tools.validation import installation

    os.environ["MNEMOSCOPE_VALIDATION_DIR"] = str(scratch / "validations")
    installation.RECORD_PATH = scratch / "installed_files.json"
    installation.record_installation(installation.RECORD_PATH)
    window.validate_installation()
    spin(until=lambda: window.validation_result is not None and window.validation_result.isVisible(),
         limit=300)
    shoot("12-validation", window.validation_result)
    window.validation_result.close()
    about = about_box(window)
    about.show()
    shoot("11-about", about)
    about.close()
    window.close()
    QApplication.processEvents()
    return 0


def run_to_results(window, spin, cancel_at: str = "") -> None:
    """Start the audit the wizard holds and wait for its results; with `cancel_at`, press
    Cancel once the run's step label starts with it (the probes before it are kept)."""
    window.wizard.go(4)
    window.run_page.start_button.click()
    if cancel_at:
        spin(until=lambda: window.run_page.step_label.text().startswith(cancel_at), limit=300)
        window.run_page.cancel_button.click()
    spin(until=lambda: window.screens.currentWidget() is window.results_page and not window.controller.busy,
         limit=300)


def _compress(path: Path) -> None:
    """A 256-colour palette: a third of the size, no visible change on flat UI colours.
    Debian's ImageMagick by its full path (the first `convert` on PATH may be a stand-in)."""
    convert = Path("/usr/bin/convert")
    if convert.exists():
        subprocess.run([str(convert), str(path), "-strip", "-dither", "None", "-colors", "256",
                        f"PNG8:{path}"], check=False, capture_output=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
