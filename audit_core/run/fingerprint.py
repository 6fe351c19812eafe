"""The audit's fingerprint: what its results are a function of, computed once per run.

The plan (as the run sees it), the SHA-256 of the model's files, of the reference model's
when there is one, and of both cohorts, the tool version and the checkpoint format. Its
digest is both the checkpoint's key (work/checkpoints.py) and, shortened, the audit id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from audit_core.errors import MnemoscopeError
from audit_core.probes import PROBES_BY_ID
from audit_core.probes.selection import probe_path_settings
from audit_core.settings import build_settings, settings_dict
from audit_core.version import __version__
from audit_core.work.checkpoints import CHECKPOINT_FORMAT


class _HashedFile(Protocol):
    """A model file as the inspection lists it (models/inspection.py: ModelFile)."""

    @property
    def name(self) -> str: ...

    @property
    def sha256(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What an audit's results are a function of, part by part."""

    parts: Mapping[str, str]

    @property
    def digest(self) -> str:
        canonical = json.dumps(dict(self.parts), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def audit_id(self) -> str:
        """A stable id for this audit: the same plan on the same inputs gets the same id."""
        return f"MNS-{self.digest[:6]}-{self.digest[6:12]}".upper()


def audit_fingerprint(plan_dict: Mapping[str, Any], model_files: Iterable[_HashedFile],
                      members_sha256: str, non_members_sha256: str,
                      reference_files: Iterable[_HashedFile] | None = None) -> Fingerprint:
    """`model_files`: the inspection's files (name, sha256 each), external data included."""

    def files_digest(files: Iterable[_HashedFile]) -> str:
        listing = sorted((f.name, f.sha256) for f in files)
        return hashlib.sha256(json.dumps(listing).encode("utf-8")).hexdigest()

    plan = json.dumps(_canonical(plan_dict), sort_keys=True, separators=(",", ":"), default=str)
    parts = {"format": CHECKPOINT_FORMAT, "tool": __version__,
             "plan": hashlib.sha256(plan.encode("utf-8")).hexdigest(),
             "model": files_digest(model_files), "members": members_sha256,
             "non_members": non_members_sha256}
    if reference_files is not None:
        parts["reference"] = files_digest(reference_files)
    return Fingerprint(parts)


def _canonical(plan_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The plan as the run sees it: file paths resolved (the same files named from another
    working folder, `run plan.toml` in its folder or `run /a/plan.toml` elsewhere, are the
    same audit) and every listed probe's settings completed with their defaults (the desktop
    saves only what differs from a default, a plan file may spell defaults out)."""
    plan = json.loads(json.dumps(plan_dict, default=str))
    for probe_id, settings in (plan.get("probes") or {}).items():
        probe = PROBES_BY_ID.get(probe_id)
        if probe is not None and isinstance(settings, dict):
            try:
                full = settings_dict(build_settings(probe.config_type, settings, f"probes.{probe_id}"))
            except MnemoscopeError:  # refused later, with its message, by the runner
                continue
            plan["probes"][probe_id] = json.loads(json.dumps(full, default=str))
            for key in probe_path_settings(probe_id):
                if isinstance(full.get(key), str) and full[key]:
                    plan["probes"][probe_id][key] = str(Path(full[key]).resolve())
    for section, keys in (("model", ("path", "reference")), ("data", ("members", "non_members", "root"))):
        table = plan.get(section)
        for key in keys:
            if isinstance(table, dict) and isinstance(table.get(key), str):
                table[key] = str(Path(table[key]).resolve())
    return plan
