"""Writing one file so that it appears complete or not at all.

Its own module at the bottom of results/, free of everything else, because the output
files (run/outputs.py), the plan's writer (plan/writing.py, the desktop's Save plan) and
the report (report.pdf.verification, which extracts the embedded files) all write this way,
and the plan and the report sit below the run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a reboot right after keeps the new file); POSIX only."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows opens no folder handles; its rename is journaled by NTFS
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
