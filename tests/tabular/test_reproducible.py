"""A tabular audit rerun on the same plan and files gives the same results.json bytes."""

from __future__ import annotations

import json
from pathlib import Path

from audit_core.cli import main
from tests.tabular.test_cli import _plan, small_tabular  # noqa: F401 (fixture)


def test_two_runs_give_byte_identical_results(small_tabular: Path, capsys) -> None:  # noqa: F811
    plan = _plan(small_tabular)
    for name in ("a", "b"):
        assert main(["run", str(plan), "--out", str(small_tabular / name), "--quiet"]) == 0
    capsys.readouterr()
    first, second = ((small_tabular / n / "results.json").read_bytes() for n in "ab")
    assert first == second
    assert json.loads(first)["audit"]["id"].startswith("MNS-")
