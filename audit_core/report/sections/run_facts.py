"""The run's own facts (run.json) where the report's sections look for them.

Since results schema 2, results.json holds only what the audit found; when, how long,
on which machine and the latest self-validation come with the run, under "run" in what
the report is given. Older results (schema 1) kept them in place, and read unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

_AUDIT_KEYS = ("started_utc", "finished_utc", "seconds")


def with_run_facts(results: Mapping[str, Any]) -> dict[str, Any]:
    """`results` with the "run" facts copied to the schema-1 places the sections read."""
    out = copy.deepcopy(dict(results))
    run = out.get("run")
    if not isinstance(run, Mapping):
        return out
    audit = out.get("audit")
    if isinstance(audit, dict):
        for key in _AUDIT_KEYS:
            if key in run:
                audit.setdefault(key, run[key])
    for key in ("environment", "validation"):
        if key in run:
            out.setdefault(key, run[key])
    seconds = run.get("probe_seconds")
    if isinstance(seconds, Mapping):
        for probe in out.get("probes") or ():
            if isinstance(probe, dict) and probe.get("id") in seconds:
                probe.setdefault("seconds", seconds[probe["id"]])
    return out
