"""Fixtures shared by the report tests. Defined in report_samples.py; named here so that
pytest finds them for every module of tests/core (a fixture imported into a test module
reads as an unused import to pyflakes, and as its parameters' redefinition)."""

from tests.core.report_samples import results

__all__ = ["results"]
