"""Which plans run the identifier, re-identification and canary probes: notes-only and
plan-only probes stay out of the standard suite, and naming them where they cannot run
is refused with the reason (exit 2), never run on the wrong records."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_core.errors import PlanError
from audit_core.plan.parsing import load_plan
from audit_core.probes import PROBES_BY_ID
from audit_core.run.runner import resolve_probes
from tests.conftest import write_plan

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def _plan(tmp_path: Path, probes: str | None, kind: str = "codes"):
    path = write_plan(tmp_path, model=DEMO / "model", members=DEMO / "members.csv",
                      non_members=DEMO / "non_members.csv", probes=probes)
    if kind != "codes":
        path.write_text(path.read_text().replace('kind = "codes"', f'kind = "{kind}"'))
    if probes is None:  # the standard suite: no [probes] table at all
        path.write_text("\n".join(line for line in path.read_text().splitlines()
                                  if not line.startswith(("[probes", "prefix_tokens", "suffix_tokens"))))
    return load_plan(path)


def test_standard_suite_of_a_code_model_leaves_out_notes_and_canary_probes(tmp_path: Path) -> None:
    ids = [p.id for p, _ in resolve_probes(_plan(tmp_path, None))]
    assert "reidentification" in ids
    assert "identifier_leakage" not in ids and "canary_exposure" not in ids


def test_standard_suite_of_a_notes_model_includes_identifier_leakage(tmp_path: Path) -> None:
    ids = [p.id for p, _ in resolve_probes(_plan(tmp_path, None, kind="text"))]
    assert "identifier_leakage" in ids and "canary_exposure" not in ids


def test_naming_identifier_leakage_for_code_records_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="free-text records"):
        resolve_probes(_plan(tmp_path, "[probes.identifier_leakage]\n"))


def test_canary_exposure_needs_its_manifest(tmp_path: Path) -> None:
    probe = PROBES_BY_ID["canary_exposure"]
    (config,) = [c for _, c in resolve_probes(_plan(tmp_path, "[probes.canary_exposure]\n"))]
    with pytest.raises(PlanError, match="manifest"):
        probe.validate(config, 128)
    missing = resolve_probes(_plan(tmp_path, f'[probes.canary_exposure]\nmanifest = "{tmp_path}/none.json"\n'))
    with pytest.raises(PlanError, match="not found"):
        probe.validate(missing[0][1], 128)


def test_the_needs_say_what_the_probes_need() -> None:
    assert "free-text records" in PROBES_BY_ID["identifier_leakage"].needs.describe()
    assert "canary manifest" in PROBES_BY_ID["canary_exposure"].needs.describe()
