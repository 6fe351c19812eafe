"""Verdict values and the words printed for them.

The engine writes verdicts as lower-case values (pass, warn, fail, inconclusive); a probe
that stopped with an error has no verdict worth the name, whatever its field says, and is
shown as NOT ASSESSED so that nobody reads a crashed probe as a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Badge

ERROR = "error"
UNKNOWN = "unknown"

WORDS = {
    "pass": "PASS",
    "warn": "WARN",
    "fail": "FAIL",
    "inconclusive": "INCONCLUSIVE",
    ERROR: "NOT ASSESSED",
}

# One line per verdict for the cover's legend (DESIGN.md, "Verdicts").
MEANINGS = {
    "pass": "no signal above the warning threshold",
    "warn": "a signal above the warning threshold, below the failure threshold",
    "fail": "a signal above the failure threshold",
    "inconclusive": "the cohorts are too small to resolve the threshold",
    ERROR: "the probe stopped with an error and gives no evidence",
}


def verdict_value(value: Any) -> str:
    text = str(value).strip().lower() if value is not None else ""
    return text if text in WORDS else UNKNOWN


def probe_verdict(probe: Mapping[str, Any]) -> str:
    if probe.get("error"):
        return ERROR
    return verdict_value(probe.get("verdict"))


def verdict_word(verdict: str, raw: Any = None) -> str:
    if verdict in WORDS:
        return WORDS[verdict]
    # A verdict this version does not know: print it as written rather than guess.
    return str(raw).strip().upper() if raw not in (None, "") else "NO VERDICT"


def verdict_badge(verdict: str, raw: Any = None) -> Badge:
    return Badge(verdict=verdict, label=verdict_word(verdict, raw))
