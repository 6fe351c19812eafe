"""Where a crash inside the audit goes on the command line: its traceback to the output
folder's error log, one line on the terminal.

The runner contains a probe's crash (run/assembly.py `run_probe`: the probe is shown as not
assessed and the audit goes on) and logs it with its traceback. A traceback may quote a
record's text (an exception's message often holds the value it choked on), so it is written
only to `mnemoscope-error.log` in the output folder (0600, appended, as `_internal_error`
writes its own) and never to the terminal, whose handler prints the log line without it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from audit_core.run.output_folder import ERROR_LOG


class OneLineFormatter(logging.Formatter):
    """"LEVEL logger: message" and nothing more: no traceback, no stack."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def terminal_handler() -> logging.Handler:
    """The CLI's stderr handler: warnings and errors, one line each."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    return handler


class CrashLog(logging.Handler):
    """Appends every logged traceback to `folder`/mnemoscope-error.log; counts them."""

    def __init__(self, folder: Path) -> None:
        super().__init__(level=logging.ERROR)
        self.path = folder / ERROR_LOG
        self.count = 0
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info is None:
            return
        try:
            text = self.format(record) + "\n"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8", errors="replace") as stream:
                stream.write(text)
            self.count += 1
        except Exception:  # a log that cannot be written must not end the audit
            pass

    def __enter__(self) -> CrashLog:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        logging.getLogger().removeHandler(self)
        self.close()
