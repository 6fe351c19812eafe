"""Where this workstation's calibration (`mnemoscope bench`) is stored, and reading it back.

The estimate (run/estimate.py) reads it before every audit; measuring it is a tool
(tools/bench/calibration.py: `calibrate`), which writes through `calibration_path` here.
Kept apart from the tool so that the run path never imports tools/.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

CALIBRATION_FORMAT = "mnemoscope-calibration/1"
CALIBRATION_FILE = "calibration.json"


def config_dir() -> Path:
    override = os.environ.get("MNEMOSCOPE_CONFIG_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "Mnemoscope"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mnemoscope"


def calibration_path() -> Path:
    return config_dir() / CALIBRATION_FILE


def load_calibration() -> dict[str, Any] | None:
    """The stored calibration, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(calibration_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == CALIBRATION_FORMAT else None
