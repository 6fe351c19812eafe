"""Settings fields that describe themselves: label, help, range, unit.

Probe configs and verdict thresholds are frozen dataclasses whose fields are made with
`param()`. The CLI's `probes` listing, the plan validation, the report's settings table
and the desktop app's forms are all generated from this metadata.

A bottom module (it imports only errors): the probes and the families declare their
settings with it, the plan checks values against it, and none of them imports another
to do so.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit_core.errors import PlanError


def param(default: Any, *, label: str, help: str = "", min: float | None = None,
          max: float | None = None, unit: str = "", anchor: str = "") -> Any:
    """A dataclass field with metadata for forms, the CLI listing and the report."""
    return dataclasses.field(
        default=default,
        metadata={"label": label, "help": help, "min": min, "max": max, "unit": unit,
                  "anchor": anchor},
    )


@dataclass(frozen=True, slots=True)
class FieldInfo:
    name: str
    type: type
    default: Any
    label: str
    help: str
    min: float | None
    max: float | None
    unit: str
    anchor: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type.__name__, "default": self.default,
                "label": self.label, "help": self.help, "min": self.min, "max": self.max,
                "unit": self.unit, "anchor": self.anchor}


_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


def describe(config_type: type) -> tuple[FieldInfo, ...]:
    """The self-description of every field of a settings dataclass."""
    infos = []
    for f in dataclasses.fields(config_type):
        meta = f.metadata
        kind = f.type if isinstance(f.type, type) else _TYPES[str(f.type)]
        infos.append(FieldInfo(f.name, kind, f.default, meta.get("label", f.name),
                               meta.get("help", ""), meta.get("min"), meta.get("max"),
                               meta.get("unit", ""), meta.get("anchor", "")))
    return tuple(infos)


def build_settings(config_type: type, values: Mapping[str, Any], where: str) -> Any:
    """Validate `values` against the fields of `config_type` and build the config.

    `where` names the plan table in messages, e.g. "probes.min_k".
    """
    fields = {info.name: info for info in describe(config_type)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise PlanError(f"unknown key '{where}.{unknown[0]}' "
                        f"(known keys: {', '.join(fields) or 'none'})")
    checked = {name: _check_value(fields[name], value, f"{where}.{name}")
               for name, value in values.items()}
    return config_type(**checked)


def _check_value(info: FieldInfo, value: Any, key: str) -> Any:
    expected = info.type
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected in (int, float):
        ok = isinstance(value, expected) and not isinstance(value, bool)
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise PlanError(f"'{key}' must be {_kind_name(expected)} (got {type(value).__name__})")
    if expected in (int, float):
        if isinstance(value, float) and not math.isfinite(value):
            raise PlanError(f"'{key}' must be a finite number")
        if info.min is not None and value < info.min:
            raise PlanError(f"'{key}' must be at least {info.min:g} (got {value:g})")
        if info.max is not None and value > info.max:
            raise PlanError(f"'{key}' must be at most {info.max:g} (got {value:g})")
    return value


def _kind_name(kind: type) -> str:
    return {int: "an integer", float: "a number", bool: "true or false",
            str: "a string"}.get(kind, kind.__name__)


def settings_dict(config: Any) -> dict[str, Any]:
    """A config's values, in field order, as plain data for results.json."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
