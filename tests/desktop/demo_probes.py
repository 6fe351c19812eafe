"""The probes of a results.json as the ProbeResults the results screen is given, so a card
can be built from the demo's saved results without running the desktop flow."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from audit_core.results.result import ProbeResult
from audit_core.results.verdicts import Verdict


def probe_results(results: dict[str, Any]) -> list[ProbeResult]:
    names = {f.name for f in fields(ProbeResult)} - {"scores"}
    probes = []
    for data in results["probes"]:
        kept = {k: v for k, v in data.items() if k in names}
        kept["verdict"] = Verdict(data["verdict"])
        if data.get("verdict_if_split_valid"):
            kept["verdict_if_split_valid"] = Verdict(data["verdict_if_split_valid"])
        for name in ("findings", "extracted", "subgroups"):
            kept[name] = tuple(data.get(name) or ())
        kept.setdefault("seconds", 0.0)  # timings live in run.json, not results.json
        probes.append(ProbeResult(**kept))
    return probes
