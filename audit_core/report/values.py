"""Reading result fields tolerantly and writing numbers the way a reader expects.

results.json comes from an engine that grows probes and fields over time, from runs that
were cancelled, and from probes that errored. The report must still be written, so every
field is read as "maybe absent, maybe null, maybe the wrong type" and shown as a dash
rather than raising.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

DASH = "–"  # en dash: the range separator in intervals
MISSING = "—"  # em dash: no value


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def as_text(value: Any, default: str = MISSING) -> str:
    if value is None:
        return default
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip()
    return text if text else default


def is_number(value: Any) -> bool:
    # bool is an int in Python but never a measurement.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_count(value: Any) -> str:
    if not is_number(value):
        return as_text(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return format_general(value)




def format_general(value: Any) -> str:
    """Thresholds and settings: as short as is exact enough (0.55, 10, 0.001)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if is_number(value):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return format_scientific(value)
        return f"{value:.4g}"
    if isinstance(value, float):  # nan or inf: say so rather than hide it
        return str(value)
    return as_text(value)


def format_scientific(value: float, digits: int = 1) -> str:
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"  # "4.0e-4", not "4.0e-04"


def format_p_value(value: Any) -> str:
    if not is_number(value):
        return as_text(value)
    if value == 0:
        return "0"
    if value < 1e-3:
        return format_scientific(value)
    return f"{value:.3f}"


def percent_decimals(*fractions: Any) -> int:
    """One number of decimals for a value and its interval, enough for the smallest
    non-zero part to keep two significant digits (0.55%, 38.1%), at most three."""
    smallest = min((abs(f) for f in fractions if is_number(f) and f != 0), default=1.0)
    if smallest >= 0.01:
        return 1
    if smallest >= 0.001:
        return 2
    return 3


def format_percent(value: Any, decimals: int | None = None) -> str:
    if not is_number(value):
        return as_text(value)
    if decimals is None:
        decimals = percent_decimals(value)
    return f"{100 * value:.{decimals}f}%"


def format_bytes(value: Any) -> str:
    if not is_number(value):
        return as_text(value)
    size = float(value)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    if unit == "bytes":
        return f"{int(value):,} bytes"
    return f"{size:.1f} {unit} ({int(value):,} bytes)"


def format_seconds(value: Any) -> str:
    if not is_number(value):
        return as_text(value)
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds:02d} s"


def parse_utc(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # the engine writes UTC; a naive stamp is taken as UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def format_utc(value: Any) -> str:
    moment = parse_utc(value)
    if moment is None:
        return as_text(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")






def humanize(key: str) -> str:
    """A readable label from a snake_case key: "prefix_tokens" -> "Prefix tokens"."""
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else key


# The cohorts the design names (DESIGN.md, "The questions an audit answers"); any other
# role is shown as written.
ROLE_LABELS = {
    "members": "Members",
    "non_members": "Non-members",
    "reference": "Reference population",
    "canaries": "Canaries",
}


def role_label(role: Any) -> str:
    if isinstance(role, str) and role in ROLE_LABELS:
        return ROLE_LABELS[role]
    return humanize(as_text(role))


def report_label(results: Mapping[str, Any]) -> str:
    """The id this report prints: its own (audit.report_id), or for results written before
    reports had one, the audit id."""
    audit = as_mapping(results.get("audit"))
    return as_text(audit.get("report_id") or audit.get("id"))
