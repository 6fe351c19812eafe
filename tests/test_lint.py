"""The tree is pyflakes-clean: no unused imports or variables, no undefined names, no
shadowed imports, no f-strings without placeholders.

pyflakes, not a style checker: each of its findings is a likely bug or dead code. It
ignores `# noqa` comments, so a fixture shared between test modules is named in a
conftest.py (with `__all__`) or assigned, not imported unused. pyflakes is in the dev
extra and packaging/requirements-dev.lock; without it this test fails rather than skips,
since a lint step that can silently not run is no lint step.
"""

from __future__ import annotations

import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("audit_core", "desktop", "packaging", "tests")


def test_the_tree_has_no_pyflakes_findings() -> None:
    try:
        from pyflakes.api import checkRecursive
        from pyflakes.reporter import Reporter
    except ImportError:  # the dev extra installs it
        raise AssertionError("pyflakes is not installed: install the dev extra "
                             "(pip install -e '.[dev]', or `make`)") from None
    findings, errors = io.StringIO(), io.StringIO()
    count = checkRecursive([str(ROOT / folder) for folder in CHECKED], Reporter(findings, errors))
    report = (findings.getvalue() + errors.getvalue()).replace(str(ROOT) + "/", "")
    assert count == 0, f"{count} pyflakes finding(s):\n{report}"
