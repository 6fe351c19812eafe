"""Which source this copy of the tool was built from: its build hash.

The packaging scripts (`make bundle`, `make wheelhouse`, see packaging/) write
`audit_core/build_info.json` into the copy they build, never into the checkout: the git
commit the bundle or wheel was made from. A copy without that record (a development
checkout, an install from a plain source tree) reports "unknown" rather than a guess, so
a report never claims a build it cannot prove.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

BUILD_INFO_PATH = Path(__file__).resolve().parent / "build_info.json"
UNKNOWN = "unknown"
_COMMIT = re.compile(r"[0-9a-f]{40}")


def read_build_info(path: Path = BUILD_INFO_PATH) -> dict[str, str]:
    """The build record ({"commit", "built_utc", ...}), or {} when there is none or it is unreadable."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return {str(k): str(v) for k, v in record.items()} if isinstance(record, dict) else {}


def build_hash(path: Path = BUILD_INFO_PATH) -> str:
    """The git commit this copy was built from (40 hex digits; "-dirty" appended when it
    was built with uncommitted changes, a trial build), or "unknown"."""
    record = read_build_info(path)
    commit = record.get("commit", "")
    if not _COMMIT.fullmatch(commit):
        return UNKNOWN
    return commit + "-dirty" if record.get("dirty") == "true" else commit


def checkout_commit(root: Path = BUILD_INFO_PATH.parent.parent) -> str:
    """The commit a development checkout at `root` has checked out (40 hex digits), or "".

    For the About box only, never for results.json: a checkout may hold uncommitted
    changes, so a report keeps saying "unknown" rather than claim this commit. `git
    rev-parse HEAD` reads two local files (no network, a few milliseconds); it runs only
    when `root` itself is a checkout, so an install inside some other repository does not
    borrow that repository's commit."""
    import subprocess

    if not (root / ".git").exists():
        return ""
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=False,
                              env={"GIT_OPTIONAL_LOCKS": "0", "PATH": _path()})
    except (OSError, subprocess.SubprocessError):
        return ""
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and _COMMIT.fullmatch(commit) else ""


def _path() -> str:
    import os

    return os.environ.get("PATH", "/usr/bin:/bin")
