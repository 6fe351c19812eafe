"""Only regular files are read from a model folder.

Opening a FIFO for reading blocks until something writes to it, which for a model folder
means forever; a character device (`/dev/zero`, `/dev/urandom`) never ends. onnx,
onnxruntime and tokenizers open these files by name, so an `O_NONBLOCK` open of our own
would not protect their opens: each file is `stat`-ed (following a symlink to what it
names) and anything but a regular file is refused, naming the file, before any of them
opens it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from audit_core.errors import ModelError


def regular_file_present(path: Path) -> bool:
    """True for a regular file, False when nothing is there (or a symlink leads nowhere);
    a pipe, device, socket or folder of that name is refused."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ModelError(f"cannot read {path} ({exc.strerror or exc.__class__.__name__})") from None
    if not stat.S_ISREG(mode):
        raise ModelError(f"{path.name} in {path.parent} is not a regular file ({_kind(mode)}): "
                         "the tool reads only plain files from a model folder; put the file "
                         "itself there")
    return True


def require_regular_file(path: Path, missing: str) -> None:
    """`path` must be a regular file; `missing` is the message when nothing is there."""
    if not regular_file_present(path):
        raise ModelError(missing)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe, which would block the read forever"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"
