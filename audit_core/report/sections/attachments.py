"""The files embedded in the PDF (PDF/A-3 associated files): the results it was built
from and the plan that reruns it. Plain bytes, computed here so that the appendix can
print their hashes and the PDF writer can embed exactly those bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

RESULTS_NAME = "results.json"
PLAN_NAME = "plan.json"


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the form the results SHA-256 is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def results_bytes(results: Mapping[str, Any]) -> bytes:
    # Readable rather than canonical: `verify` re-canonicalises before hashing.
    return (json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def plan_bytes(results: Mapping[str, Any]) -> bytes | None:
    plan = results.get("plan")
    if not isinstance(plan, Mapping) or not plan:
        return None
    return (json.dumps(plan, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def embedded_files(results: Mapping[str, Any]) -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, description)."""
    files = {RESULTS_NAME: (results_bytes(results), "Audit results the report was built from")}
    plan = plan_bytes(results)
    if plan is not None:
        files[PLAN_NAME] = (plan, "Audit plan as run; rerun with: mnemoscope run plan.json --out DIR")
    return files
