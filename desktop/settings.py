"""GUI state kept between sessions (QSettings): window, folders, recent audits, report details.

The core has no settings: everything a run needs is in the plan. This keeps only what
makes the app pleasant to come back to, behind typed properties with defaults.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8
ORGANIZATION = "Mnemoscope"
APPLICATION = "Mnemoscope"


class AppSettings:
    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else QSettings(ORGANIZATION, APPLICATION)

    # --- window -----------------------------------------------------------------------
    @property
    def window_geometry(self) -> QByteArray | None:
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    @window_geometry.setter
    def window_geometry(self, value: QByteArray) -> None:
        self._store.setValue("window/geometry", value)

    # --- folders ----------------------------------------------------------------------
    def last_folder(self, kind: str) -> Path:
        value = self._store.value(f"folders/{kind}", "")
        path = Path(str(value)) if value else Path.home()
        return path if path.is_dir() else Path.home()

    def set_last_folder(self, kind: str, path: Path) -> None:
        folder = path if path.is_dir() else path.parent
        self._store.setValue(f"folders/{kind}", str(folder))

    @property
    def output_root(self) -> Path:
        """Where each audit's folder of results is created by default."""
        value = self._store.value("folders/output_root", "")
        return Path(str(value)) if value else Path.home() / "Mnemoscope audits"

    @output_root.setter
    def output_root(self, path: Path) -> None:
        self._store.setValue("folders/output_root", str(path))

    # --- recent audits ----------------------------------------------------------------
    @property
    def recent_plans(self) -> list[Path]:
        value = self._store.value("recent/plans", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [Path(p) for p in items if p and Path(p).is_file()]

    def add_recent_plan(self, path: Path) -> None:
        path = Path(path).resolve()
        items = [p for p in self.recent_plans if p.resolve() != path]
        self._store.setValue("recent/plans", [str(p) for p in [path, *items][:MAX_RECENT]])

    # --- report details typed last time (institution and auditor rarely change) -------
    def report_detail(self, key: str) -> str:
        return str(self._store.value(f"report/{key}", "") or "")

    def set_report_detail(self, key: str, value: str) -> None:
        self._store.setValue(f"report/{key}", value)

    def sync(self) -> None:
        self._store.sync()
