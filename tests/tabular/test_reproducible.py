"""A tabular audit rerun on the same plan and files gives the same results.json and
records.csv bytes (pseudonyms derived from the rows and the seed, not drawn at random)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from audit_core.cli.main import main
from tests.tabular import test_cli
from tests.tabular.test_cli import _plan

small_tabular = test_cli.small_tabular  # the CLI tests' fixture (an import would read as unused)


def test_two_runs_give_byte_identical_results(small_tabular: Path, capsys) -> None:
    plan = _plan(small_tabular)
    for name in ("a", "b"):
        assert main(["run", str(plan), "--out", str(small_tabular / name), "--quiet"]) == 0
    capsys.readouterr()
    first, second = ((small_tabular / n / "results.json").read_bytes() for n in "ab")
    assert first == second
    assert json.loads(first)["audit"]["id"].startswith("MNS-")
    records = [(small_tabular / n / "records.csv").read_text() for n in "ab"]
    assert records[0] == records[1] and "R-" in records[0]


def test_another_seed_gives_other_pseudonyms(small_tabular: Path, capsys) -> None:
    plan = _plan(small_tabular)
    other = plan.with_name("other_seed.toml")
    other.write_text(re.sub(r"(?m)^seed = \d+$", "seed = 8", plan.read_text()), encoding="utf-8")
    assert other.read_text() != plan.read_text()
    for name, path in (("a", plan), ("b", other)):
        assert main(["run", str(path), "--out", str(small_tabular / name), "--quiet"]) == 0
    capsys.readouterr()
    refs = [{line.split(",")[2] for line in (small_tabular / n / "records.csv").read_text().splitlines()[1:]}
            for n in "ab"]
    assert refs[0] and not refs[0] & refs[1]
