"""The desktop app's log file: where a technical record of a failure goes, so that the
error dialog can speak in words and still leave support something to read.

The file sits in the app's data folder (QStandardPaths.AppDataLocation/logs), rotates at
1 MB with three old files kept, and holds no patient data (DESIGN.md, "Patient data
rules"): an exception's message may quote a record (a parser's "could not convert
'Jane Doe'"), so a traceback is written as its frames (file, line, function) and the
names of the exception types, never their messages. The one exception is MnemoscopeError,
whose messages are written to name files and settings, never a record's value.
"""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QStandardPaths

from audit_core.errors import MnemoscopeError

LOG_NAME = "mnemoscope.log"
_MAX_BYTES = 1_000_000
_BACKUPS = 3
_folder_override: Path | None = None  # tests point the log away from the user's data folder
log = logging.getLogger("desktop.failures")


def log_folder() -> Path:
    if _folder_override is not None:
        return _folder_override
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location or Path.home() / ".mnemoscope") / "logs"


def log_file_path() -> Path:
    return log_folder() / LOG_NAME


def set_log_folder(folder: Path | None) -> None:
    """Write the log to `folder` from now on (None: the app's data folder again)."""
    global _folder_override
    _folder_override = folder
    for handler in _file_handlers():
        logging.getLogger().removeHandler(handler)
        handler.close()


def safe_traceback(error: BaseException) -> str:
    """The error's traceback, its cause's and context's, as frames and type names only."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines[:0] = [*_frames(current.__traceback__), _headline(current)]
        following = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if following is not None:
            lines.insert(0, "(which was raised while handling:)")
        current = following
    return "\n".join(lines)


def _headline(error: BaseException) -> str:
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    if isinstance(error, MnemoscopeError):
        return f"{name}: {error}"
    return f"{name} (its message is not logged: it may quote patient data)"


def _frames(tb: TracebackType | None) -> list[str]:
    # Source lines are the program's code, not data; locals are never shown.
    return [line.rstrip("\n") for line in traceback.format_list(traceback.extract_tb(tb))]


class _SafeFormatter(logging.Formatter):
    """Formats a record's exception (log.exception in the core too) without its message."""

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        error = ei[1] if isinstance(ei, tuple) else None
        return safe_traceback(error) if error is not None else ""


def _file_handlers() -> list[logging.handlers.RotatingFileHandler]:
    return [h for h in logging.getLogger().handlers
            if isinstance(h, logging.handlers.RotatingFileHandler) and getattr(h, "mnemoscope", False)]


def install_log_file() -> Path | None:
    """Attach the rotating log file to the root logger (once); its path, or None when the
    folder cannot be written (the app still runs: the dialog then says so)."""
    path = log_file_path()
    if any(Path(h.baseFilename) == path for h in _file_handlers()):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS,
                                                       encoding="utf-8")
    except OSError:
        return None
    handler.mnemoscope = True  # type: ignore[attr-defined]
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    return path


def log_failure(what: str, error: BaseException) -> Path | None:
    """Write `what` failed and the error's safe traceback to the log file; its path, or
    None when there is no log file."""
    path = install_log_file()
    log.error("%s\n%s", what, safe_traceback(error))
    for handler in _file_handlers():
        handler.flush()
    return path
