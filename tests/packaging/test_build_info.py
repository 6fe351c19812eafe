"""The build hash: read from the record a packaged copy carries, "unknown" otherwise, and
shown in results.json, the report's appendix and the About box."""

from __future__ import annotations

import json
from pathlib import Path

from audit_core.build_info import UNKNOWN, build_hash, read_build_info
from audit_core.report.sections.appendix import _software_table

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_recorded_commit_is_the_build_hash(tmp_path: Path) -> None:
    record = tmp_path / "build_info.json"
    record.write_text(json.dumps({"commit": COMMIT, "built_utc": "2026-11-29T15:00:00Z"}), encoding="utf-8")
    assert build_hash(record) == COMMIT
    assert read_build_info(record)["built_utc"] == "2026-11-29T15:00:00Z"


def test_a_trial_build_from_uncommitted_changes_says_so(tmp_path: Path) -> None:
    record = tmp_path / "build_info.json"
    record.write_text(json.dumps({"commit": COMMIT, "dirty": "true"}), encoding="utf-8")
    assert build_hash(record) == COMMIT + "-dirty"


def test_without_a_valid_record_the_build_is_unknown(tmp_path: Path) -> None:
    record = tmp_path / "build_info.json"
    assert build_hash(record) == UNKNOWN  # missing
    record.write_text("{broken", encoding="utf-8")
    assert build_hash(record) == UNKNOWN
    record.write_text(json.dumps({"commit": "HEAD; rm -rf /"}), encoding="utf-8")
    assert build_hash(record) == UNKNOWN


def test_the_checkout_has_no_build_record() -> None:
    # The record is written into built copies only (packaging/build.py), never committed.
    assert build_hash() == UNKNOWN


def test_appendix_lists_the_build() -> None:
    table = _software_table({"tool": {"name": "mnemoscope", "version": "0.1.0", "build": COMMIT},
                             "environment": {"onnxruntime": "1.32.0"}})
    # The table sets two component/version pairs side by side.
    assert ("Build (git commit)", COMMIT) in pairs(table)
    older = _software_table({"tool": {"name": "mnemoscope", "version": "0.1.0"}})
    assert all(name != "Build (git commit)" for name, _ in pairs(older))


def pairs(table) -> list[tuple[str, str]]:
    return [tuple(row[i:i + 2]) for row in table.rows for i in range(0, len(row), 2)]


def test_results_json_carries_the_build() -> None:
    from audit_core.results.result import AuditResult
    from audit_core.results.verdicts import Verdict

    result = AuditResult(audit={}, overall_verdict=Verdict.PASS, overall_rationale="", model={},
                         datasets=(), probes=(), plan={}, environment={}, records=None)
    assert result.as_dict()["tool"] == {"name": "mnemoscope", "version": "0.1.0", "build": UNKNOWN}


def test_the_bundle_is_named_with_the_package_version() -> None:
    # The version moved from audit_core/__init__.py to audit_core/version.py (so that the
    # modules stamping it need not import the package root); packaging/build.py reads the
    # file's text, and would have named every bundle "unknown" had it kept reading the old one.
    from audit_core import __version__

    from .conftest import PACKAGING, load

    assert load("build").tool_version(PACKAGING.parent) == __version__ != "unknown"
