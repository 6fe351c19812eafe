"""The app's icon (a record under a lens), for the window, the task bar and the About box.

One drawing, kept in packaging/linux/ where the desktop entry and the bundle's executable
take it from; the bundle copies it to <bundle>/_internal/icons/ (bundle_manifest.icon_datas),
beside the packages, which is where a frozen copy finds it. A wheel install carries no
icon: the window then has Qt's default, which is all that is lost.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

_ROOT = Path(__file__).resolve().parent.parent  # the checkout, or the bundle's _internal
_FOLDERS = (_ROOT / "icons", _ROOT / "packaging" / "linux")
_FILES = ("mnemoscope.svg", "mnemoscope.png")


def icon_files() -> list[Path]:
    """The icon's files found, the scalable one first."""
    for folder in _FOLDERS:
        found = [folder / name for name in _FILES if (folder / name).is_file()]
        if found:
            return found
    return []


def app_icon() -> QIcon:
    icon = QIcon()
    for path in icon_files():
        icon.addFile(str(path))
    return icon
