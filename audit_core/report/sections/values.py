"""Reading result fields tolerantly and writing numbers the way a reader expects.

results.json comes from an engine that grows probes and fields over time, from runs that
were cancelled, and from probes that errored. The report must still be written, so every
field is read as "maybe absent, maybe null, maybe the wrong type" and shown as a dash
rather than raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# The formatters live in audit_core.results.figures, shared with the desktop app, the CLI and the
# probes' own wording; the section modules import them from here with the readers below.
from audit_core.results.figures import (
    DASH,
    MISSING,
    as_text,
    format_bytes,
    format_count,
    format_general,
    format_p_value,
    format_percent,
    format_probability,
    format_rank,
    format_scientific,
    format_seconds,
    is_number,
    percent_decimals,
)

__all__ = [
    "DASH", "MISSING", "ROLE_LABELS", "as_list", "as_mapping", "as_text", "format_bytes",
    "format_count", "format_general", "format_p_value", "format_percent", "format_probability",
    "format_rank", "format_scientific",
    "format_seconds", "format_utc", "humanize", "is_number", "parse_utc", "percent_decimals",
    "role_label",
]


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def parse_utc(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # the engine writes UTC; a naive stamp is taken as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


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
