"""The installation checks: the tool's own files, its dependencies, its runtime.

The record of what was installed is written when the tool is installed, not when it
is validated (a record made at validation time would prove nothing):

    python -m audit_core.tools.validation.installation     (run by `make` after installing,
                                                       and by the packaging script)

writes `audit_core/tools/validation/installed_files.json`: the SHA-256 of every file of the
tool's packages (`audit_core`, and `desktop` where present) and of the known-answer
resources `mnemoscope validate` audits (resources/demo, resources/controls,
resources/examples), plus the versions of the dependencies that were installed with it.
The record is an install artefact, never committed: in a development checkout, where
files change all day, it is rewritten by `make validate` just before validating.

`check_files` then reports every file changed, missing or added since; `check_dependencies`
every dependency below its declared minimum or changed since the record.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path
from typing import Any

from audit_core.fingerprint import file_sha256
from audit_core.version import __version__

RECORD_SCHEMA = "mnemoscope.installation/1"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # audit_core/
RECORD_PATH = Path(__file__).resolve().parent / "installed_files.json"
# Where the known-answer controls live: beside the package in a checkout; the packaging
# script ships them (and may point MNEMOSCOPE_RESOURCES elsewhere).
RESOURCE_SETS = ("demo", "controls", "examples")
_SKIPPED_PARTS = ("__pycache__", ".pytest_cache")
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


def resources_dir() -> Path:
    import os

    override = os.environ.get("MNEMOSCOPE_RESOURCES")
    return Path(override) if override else PACKAGE_ROOT.parent / "resources"


Roots = dict[str, Path]  # label ("audit_core", "resources/demo", ...) -> folder


def tool_roots() -> Roots:
    """The folders whose files make up the tool: its packages and its known answers."""
    if getattr(sys, "frozen", False):
        # A PyInstaller bundle (packaging/): the code sits inside the executables, so the
        # whole bundle folder is the tool, executables, libraries and resources alike.
        return {"bundle": Path(sys.executable).resolve().parent}
    roots = {"audit_core": PACKAGE_ROOT}
    desktop = PACKAGE_ROOT.parent / "desktop"
    if (desktop / "__init__.py").is_file():
        roots["desktop"] = desktop
    resources = resources_dir()
    roots.update({f"resources/{name}": resources / name for name in RESOURCE_SETS
                  if (resources / name).is_dir()})
    return roots


def hash_files(roots: Roots, *, exclude: Path | None = None) -> dict[str, str]:
    """'label/relative/path' -> SHA-256 for every file under the roots."""
    hashes: dict[str, str] = {}
    for label, root in roots.items():
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix in _SKIPPED_SUFFIXES:
                continue
            if any(part in _SKIPPED_PARTS for part in path.relative_to(root).parts):
                continue
            if exclude is not None and path.resolve() == exclude.resolve():
                continue
            hashes[f"{label}/{path.relative_to(root).as_posix()}"] = file_sha256(path)
    return hashes


def runtime_requirements() -> list[tuple[str, str]]:
    """(package, minimum version) for every runtime dependency declared by mnemoscope."""
    try:
        declared = requires("mnemoscope") or []
    except PackageNotFoundError:
        declared = []
    out = []
    for line in declared:
        if ";" in line:  # an extra (controls, dev, gui): not needed to audit
            continue
        # "pikepdf[pdfa]>=9": the distribution is the name before any extras or specifier.
        match = re.match(r"[A-Za-z0-9_.\-]+", line.strip())
        if match is None:  # pyproject.toml's own dependency list: every line starts with a name
            continue
        name = match.group(0)
        minimum = line.partition(">=")[2].split(",")[0].strip()
        out.append((name, minimum))
    return out


def installed_versions(names: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def record_installation(path: Path = RECORD_PATH, roots: Roots | None = None) -> dict[str, Any]:
    """Write the record of this installation's files and dependency versions."""
    roots = tool_roots() if roots is None else roots
    names = [name for name, _ in runtime_requirements()]
    record = {
        "schema": RECORD_SCHEMA,
        "tool_version": __version__,
        "recorded_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": sys.version.split()[0],
        "dependencies": installed_versions(names),
        "files": hash_files(roots, exclude=path),
    }
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return record


def read_record(path: Path = RECORD_PATH) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict) or record.get("schema") != RECORD_SCHEMA:
        return None
    return record


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def check_files(record: dict[str, Any] | None, roots: Roots | None = None,
                record_path: Path = RECORD_PATH) -> dict[str, Any]:
    """Compare the files now against the record: changed, missing and added files."""
    if record is None:
        return {"expected": "a record of the installed files (written at installation)",
                "observed": f"no readable record at {record_path.name}: the installation was "
                            "not made by `make` or the packaging script",
                "passed": False, "details": {}}
    roots = tool_roots() if roots is None else roots
    now = hash_files(roots, exclude=record_path)
    recorded: dict[str, str] = record.get("files", {})
    changed = sorted(k for k in recorded.keys() & now.keys() if recorded[k] != now[k])
    missing = sorted(recorded.keys() - now.keys())
    added = sorted(now.keys() - recorded.keys())
    problems = len(changed) + len(missing) + len(added)
    observed = (f"all {len(recorded)} files identical" if not problems else
                f"{len(changed)} changed, {len(missing)} missing, {len(added)} added "
                f"(first: {(changed + missing + added)[0]})")
    return {"expected": f"{len(recorded)} files identical to the record of "
                        f"{record.get('recorded_utc', '?')}",
            "observed": observed, "passed": problems == 0,
            "details": {"changed": changed, "missing": missing, "added": added}}


def check_dependencies(record: dict[str, Any] | None) -> dict[str, Any]:
    """Every runtime dependency installed, at or above its minimum, unchanged since the record."""
    requirements = runtime_requirements()
    current = installed_versions([name for name, _ in requirements])
    recorded = (record or {}).get("dependencies", {})
    problems, rows = [], []
    for name, minimum in requirements:
        found = current[name]
        if found is None:
            problems.append(f"{name} missing")
        elif minimum and _version_tuple(found) < _version_tuple(minimum):
            problems.append(f"{name} {found} < {minimum}")
        elif recorded and recorded.get(name) not in (None, found):
            problems.append(f"{name} {recorded[name]} -> {found}")
        rows.append({"package": name, "minimum": minimum, "recorded": recorded.get(name),
                     "installed": found})
    if not requirements:
        problems.append("the mnemoscope distribution metadata is missing")
    return {"expected": "every runtime dependency installed, at its declared minimum or above, "
                        "and at the version recorded at installation",
            "observed": "; ".join(problems) if problems else
                        ", ".join(f"{r['package']} {r['installed']}" for r in rows),
            "passed": not problems, "details": {"packages": rows}}


def check_execution_provider(provider_used: str | None) -> dict[str, Any]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    passed = "CPUExecutionProvider" in available and provider_used == "CPUExecutionProvider"
    return {"expected": "onnxruntime runs the models on CPUExecutionProvider",
            "observed": f"onnxruntime {onnxruntime.__version__}, used {provider_used or 'none'} "
                        f"(available: {', '.join(available)})",
            "passed": passed, "details": {"available": available, "used": provider_used}}


def main() -> int:
    record = record_installation()
    print(f"recorded {len(record['files'])} files and {len(record['dependencies'])} dependency "
          f"versions in {RECORD_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
