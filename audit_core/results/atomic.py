"""Writing one file so that it appears complete or not at all.

Its own module, free of the rest of results/, because the report (report.pdf.verification,
which extracts the embedded files) needs it too, and the report may read results only:
importing `outputs` would drag in the output folder's rules, the plan and the runner's
checkpoints behind it.
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
