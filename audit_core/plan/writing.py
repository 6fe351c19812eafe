"""Writing a plan as the TOML file `mnemoscope run` reads (the desktop app's "Save plan").

A small serializer for exactly the shapes a plan holds (tables of text, numbers,
true/false and lists of text), so that no TOML-writing dependency is needed. Paths are
written relative to the plan file when they sit below its folder, so a plan saved
beside its data can be moved with it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit_core.plan.parsing import PROBE_PATH_SETTINGS, AuditPlan
from audit_core.plan.run_keys import run_table
from audit_core.results.atomic import write_atomic

_PATH_KEYS = {("model", "path"), ("model", "reference"), ("data", "members"), ("data", "non_members"),
              ("data", "root")}


def plan_toml(plan: AuditPlan, folder: Path | None = None) -> str:
    """The plan as TOML text; paths relative to `folder` where that is shorter and safe."""
    raw = {**plan.as_dict(), **run_table(plan.run)}  # [run] is no part of as_dict (run_keys.py)
    if folder is not None:
        for table, key in _PATH_KEYS:
            if key in raw.get(table, {}):
                raw[table][key] = _relative(Path(raw[table][key]), folder)
        for settings in raw.get("probes", {}).values():  # e.g. the canary manifest
            for key in PROBE_PATH_SETTINGS:
                if isinstance(settings.get(key), str) and settings[key]:
                    settings[key] = _relative(Path(settings[key]), folder)
    lines: list[str] = []
    _write_table(lines, [], raw)
    return "\n".join(lines).lstrip("\n") + "\n"


def write_plan(plan: AuditPlan, path: Path) -> None:
    """Write the plan to `path` atomically."""
    path = Path(path)
    write_atomic(path, plan_toml(plan, path.parent).encode("utf-8"))


def _relative(path: Path, folder: Path) -> str:
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        relative = os.path.relpath(absolute.resolve(), Path(folder).resolve())
    except ValueError:  # another drive on Windows
        return str(absolute)
    # Below or beside the plan: relative. Far away: absolute, which survives a move.
    return absolute.resolve().as_posix() if relative.startswith(".." + os.sep + "..") else Path(relative).as_posix()


def _write_table(lines: list[str], name: list[str], table: Mapping[str, Any]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if name and (scalars or not tables):
        lines.append("")
        lines.append(f"[{'.'.join(_key(n) for n in name)}]")
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables.items():
        _write_table(lines, [*name, str(key)], value)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a plan value must be a finite number")
        text = repr(value)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to a plan")


def _string(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    escaped = "".join(c if ord(c) >= 0x20 and ord(c) != 0x7F else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'
