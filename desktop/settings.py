"""GUI state kept between sessions (QSettings): window, folders, recent audits, report details.

The core has no settings: everything a run needs is in the plan. This keeps only what
makes the app pleasant to come back to, behind typed properties with defaults.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8
MAX_RECENT_AUDITS = 12
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

    # --- where audits run --------------------------------------------------------------
    @property
    def cluster_address(self) -> str:
        """The last Ray cluster address an audit was sent to ('' when none)."""
        return str(self._store.value("run/cluster_address", "") or "")

    @cluster_address.setter
    def cluster_address(self, value: str) -> None:
        self._store.setValue("run/cluster_address", value)

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

    @property
    def recent_audits(self) -> list[Path]:
        """Audit folders, latest first: remembered when an audit starts (an interrupted one
        is found after a crash), finishes, is cancelled or its results are opened."""
        value = self._store.value("recent/audits", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [Path(p) for p in items if p]

    def add_recent_audit(self, folder: Path, plan_text: str | None = None) -> None:
        """`plan_text`: the plan as TOML, kept until the audit writes its own plan.toml,
        so an interrupted audit can be resumed from the list."""
        folder = Path(folder).resolve()
        items = [p for p in self.recent_audits if p != folder]
        kept = [folder, *items][:MAX_RECENT_AUDITS]
        self._store.setValue("recent/audits", [str(p) for p in kept])
        for dropped in items[MAX_RECENT_AUDITS - 1:]:
            self._store.remove(_plan_key(dropped))
        if plan_text is not None:
            self._store.setValue(_plan_key(folder), plan_text)

    def forget_audit(self, folder: Path) -> None:
        self._store.setValue("recent/audits", [str(p) for p in self.recent_audits if p != Path(folder)])
        self._store.remove(_plan_key(Path(folder)))

    def audit_plan(self, folder: Path) -> str | None:
        value = self._store.value(_plan_key(Path(folder).resolve()))
        return str(value) if value else None

    # --- report details typed last time (institution and auditor rarely change) -------
    def report_detail(self, key: str) -> str:
        return str(self._store.value(f"report/{key}", "") or "")

    def set_report_detail(self, key: str, value: str) -> None:
        self._store.setValue(f"report/{key}", value)

    def sync(self) -> None:
        self._store.sync()


def _plan_key(folder: Path) -> str:
    # A digest: a folder path holds characters (/, \\) that QSettings reads as groups.
    return "recent/audit_plans/" + hashlib.sha256(str(folder).encode("utf-8")).hexdigest()[:16]
