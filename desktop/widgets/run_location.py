"""The Run step's "Where the audit runs": this computer, or the hospital's Ray cluster.

The choice is the plan's `[run]` section (`cluster`, `workers`, `model_transfer`; see
docs/cluster.md), so a plan saved from the app runs the same way from the CLI. The app
remembers the last cluster address (AppSettings) so that a privacy officer whose hospital
has a cluster types it once. The cluster option is offered only when the `[cluster]` extra
(Ray) is installed: without it the option is shown greyed out with the reason, never as a
choice that would fail at Start. Checking for Ray does not import it (a local run never
does).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

LOCAL = "local"
CLUSTER = "cluster"
# The plan's model_transfer values and what they mean to a person.
TRANSFERS = {"ship": "Send them to the workers from this computer",
             "shared_path": "The workers read them from the same path (a shared drive)"}
AUTO_WORKERS = 0  # the spin box's "as many as the cluster offers"


def ray_installed() -> bool:
    """Whether the [cluster] extra is there, without importing Ray."""
    return importlib.util.find_spec("ray") is not None


class RunLocationBox(QGroupBox):
    """`changed` on every edit; `section()` is the plan's [run] section or None (local)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, cluster_available: bool | None = None) -> None:
        super().__init__("Where the audit runs", parent)
        available = ray_installed() if cluster_available is None else cluster_available
        layout = QVBoxLayout(self)
        self.choices = QButtonGroup(self)
        self.local_button = QRadioButton("This computer")
        self.cluster_button = QRadioButton("The hospital's Ray cluster")
        for button in (self.local_button, self.cluster_button):
            self.choices.addButton(button)
            layout.addWidget(button)
        self.local_button.setChecked(True)
        self.details = QWidget()
        form = QFormLayout(self.details)
        form.setContentsMargins(24, 0, 0, 0)
        self.address = QLineEdit()
        self.address.setPlaceholderText("ray://head-node:10001")
        self.address.setAccessibleName("Cluster address")
        # Told when the typing is done: each change re-checks the plan and the estimate.
        self.address.editingFinished.connect(self.changed.emit)
        form.addRow("Address:", self.address)
        self.workers = QSpinBox()
        self.workers.setRange(AUTO_WORKERS, 4096)
        self.workers.setSpecialValueText("as many as the cluster offers")
        self.workers.setAccessibleName("Workers")
        self.workers.valueChanged.connect(lambda _v: self.changed.emit())
        form.addRow("Workers:", self.workers)
        self.transfer = QComboBox()
        for value, words in TRANSFERS.items():
            self.transfer.addItem(words, value)
        self.transfer.setAccessibleName("Model and patient files")
        self.transfer.currentIndexChanged.connect(lambda _i: self.changed.emit())
        form.addRow("Model files:", self.transfer)
        layout.addWidget(self.details)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setProperty("role", "help")
        layout.addWidget(self.note)
        for button in (self.local_button, self.cluster_button):
            button.toggled.connect(self._toggled)
        if not available:
            self.cluster_button.setEnabled(False)
            self.cluster_button.setToolTip("Ray is not installed")
        self._available = available
        self._toggled()

    def _toggled(self, *_args) -> None:
        on_cluster = self.cluster_button.isChecked()
        self.details.setVisible(on_cluster)
        self.note.setText(self._note(on_cluster))
        self.changed.emit()

    def _note(self, on_cluster: bool) -> str:
        if not self._available and on_cluster:
            return ("This plan runs on a Ray cluster, but Ray is not installed on this computer: "
                    "install Mnemoscope with its [cluster] extra, or choose This computer.")
        if not self._available:
            return ("Everything runs on this computer. To run big audits on the hospital's Ray "
                    "cluster, install Mnemoscope with its [cluster] extra.")
        if not on_cluster:
            return "Everything runs on this computer."
        return ("The model and the patients' records go to the cluster's workers only (nothing "
                "leaves the hospital's cluster); the report and results are written here. "
                "Leave the address empty for a Ray cluster started on this computer.")

    # --- the plan's [run] section -------------------------------------------------------
    def section(self) -> dict[str, Any] | None:
        if not self.cluster_button.isChecked():
            return None
        address = self.address.text().strip()
        section: dict[str, Any] = {"cluster": address or "auto",
                                   "model_transfer": self.transfer.currentData()}
        if self.workers.value() != AUTO_WORKERS:
            section["workers"] = self.workers.value()
        return section

    def set_section(self, section: dict[str, Any] | None, remembered_address: str = "") -> None:
        """Show a plan's [run] section (None or no cluster: this computer); the address
        field keeps `remembered_address` for a later switch to the cluster."""
        cluster = str((section or {}).get("cluster", "") or "")
        widgets = (self.local_button, self.cluster_button, self.address, self.workers, self.transfer)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.address.setText("" if cluster == "auto" else (cluster or remembered_address))
            self.workers.setValue(int((section or {}).get("workers", AUTO_WORKERS) or AUTO_WORKERS))
            index = self.transfer.findData((section or {}).get("model_transfer", "ship"))
            self.transfer.setCurrentIndex(max(index, 0))
            # A plan that asks for the cluster keeps asking, even where Ray is missing: the
            # plan check says so before Start, instead of the app running it here unasked.
            self.cluster_button.setEnabled(self._available or bool(cluster))
            (self.cluster_button if cluster else self.local_button).setChecked(True)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self.details.setVisible(self.cluster_button.isChecked())
        self.note.setText(self._note(self.cluster_button.isChecked()))

    def where(self) -> str:
        """Words for the estimate line: where the time is spent."""
        if not self.cluster_button.isChecked():
            return "on this computer"
        address = self.address.text().strip()
        return f"on the cluster at {address}" if address else "on a Ray cluster on this computer"
