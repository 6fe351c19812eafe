"""One source for every number (issue 14): what the PDF report and the CLI summary print
for the demo audit and for every control audit is checked, number by number, against that
audit's results.json (and run.json). The audits are those `mnemoscope validate` runs (the
session's `validation_run`): no audit is run for this test alone."""

from __future__ import annotations

from pathlib import Path

from audit_core.cli.terminal import format_summary
from audit_core.report import write_report
from tests.printed_numbers import assert_printed_from, report_headings, report_labels
from tests.printed_tokens import pdf_text

# Expected: the demo, the negative control, and both sides of the four family controls.
AUDITS = 12


def _results_and_run(report: dict) -> tuple[dict, dict]:
    return {k: v for k, v in report.items() if k != "run"}, report["run"]


def test_every_number_the_pdf_prints_comes_from_its_results(validation_run, tmp_path: Path) -> None:
    assert len(validation_run.audits) == AUDITS, validation_run.done.stderr
    failures = []
    for index, report in enumerate(validation_run.audits):
        path = tmp_path / f"report-{index}.pdf"
        write_report(report, path)
        results, run = _results_and_run(report)
        where = f"the PDF of {results['audit']['title']!r} ({results['audit']['id']})"
        try:
            assert_printed_from(pdf_text(path), results, run, where=where, at_least=100,
                                headings=report_headings(report), labels=report_labels(report))
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n\n".join(failures)


def test_every_number_the_cli_summary_prints_comes_from_its_results(validation_run, tmp_path: Path) -> None:
    assert len(validation_run.audits) == AUDITS, validation_run.done.stderr
    paths = {name: tmp_path / name for name in ("report", "results", "records")}
    for report in validation_run.audits:
        results, run = _results_and_run(report)
        assert_printed_from(format_summary(report, paths), results, run,
                            where=f"the CLI summary of {results['audit']['id']}", at_least=3)
