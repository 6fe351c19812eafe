"""The written PDF and its chart, read back with poppler (pdffonts, pdftotext) when it is
installed: what matters is what a reader of the file sees, not what we meant to draw.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audit_core.report import write_report
from audit_core.report.sections.document import build_report
from audit_core.report.sections.elements import (
    Figure,
    Heading,
    Paragraph,
    ReportDocument,
    RocChart,
    Section,
    VerdictBanner,
)
from tests.core.report_samples import (  # `results`, the fixture, comes from conftest.py
    FIXTURE,
    REPO,
    cancelled,
    record_ids,
    record_refs,
    with_errored_probe,
)
from tests.printed_tokens import pdf_text

# --- the chart ------------------------------------------------------------------------


def test_roc_chart_is_log_log_with_decade_ticks_and_only_embedded_fonts(results):
    from reportlab.graphics.shapes import Group, String

    from audit_core.report.pdf.charts import roc_drawing
    from audit_core.report.sections.chart_geometry import decade_ticks, interpolated_curve, tick_label

    assert [tick_label(t) for t in decade_ticks(1e-3)] == ["0.001", "0.01", "0.1", "1"]
    figure = next(b for b in build_report(results).section("membership").blocks if isinstance(b, Figure))
    chart = next(c for c in figure.charts if isinstance(c, RocChart))
    drawing = roc_drawing(chart, 240, 190, "MnemoSans")

    def all_strings(node):
        for child in getattr(node, "contents", []):
            if isinstance(child, String):
                yield child
            elif isinstance(child, Group):
                yield from all_strings(child)

    labels = [s.text for s in all_strings(drawing)]
    assert labels.count("0.001") == 2 and labels.count("1") == 2
    assert {s.fontName for s in all_strings(drawing)} == {"MnemoSans"}
    # Between measured points the curve follows the straight ROC segment (linear space).
    curve = interpolated_curve((0.0, 0.5, 1.0), (0.0, 0.7, 1.0), 1e-3)
    assert curve[0] == (0.0, 0.0) and curve[-1] == (1.0, 1.0)
    assert all(abs(y - 1.4 * x) < 1e-9 for x, y in curve if x <= 0.5)
    assert len(curve) > 20


# --- the PDF --------------------------------------------------------------------------


@pytest.fixture
def written(tmp_path, results) -> Path:
    path = tmp_path / "report.pdf"
    write_report(results, path)
    return path


def test_write_report_writes_a_complete_pdf(written):
    data = written.read_bytes()

    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert len(data) > 20_000  # fonts and six pages, not an empty shell
    assert [p.name for p in written.parent.iterdir()] == ["report.pdf"]  # no temp file left


def test_every_font_is_embedded_and_none_is_helvetica(written):
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    listing = subprocess.run(["pdffonts", str(written)], capture_output=True, text=True, check=True).stdout
    fonts = listing.splitlines()[2:]

    assert fonts, listing
    for line in fonts:
        name, emb = line.split()[0], line.split()[-5]
        assert emb == "yes", line
        assert "Helvetica" not in name, line


def test_pdf_text_has_verdict_refs_and_footer_and_no_record_id(written, results):
    text = pdf_text(written)

    assert "OVERALL VERDICT" in text and "FAIL" in text
    assert results["overall_rationale"] in text
    for ref in record_refs(results):
        assert ref in text
    for record_id in record_ids(results):
        assert record_id not in text
    pages = text.count("\f")
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert text.count("Confidential: contains no patient data") == pages
    assert text.count(f"results SHA-256 {build_report(results).results_digest[:16]}") == pages
    assert text.count("Report MNS-20261129-4F2A9C") == pages


def test_a_cancelled_audit_pdf_says_incomplete(tmp_path, results):
    path = tmp_path / "cancelled.pdf"
    write_report(cancelled(results), path)

    text = pdf_text(path)
    assert "INCOMPLETE AUDIT: the audit was cancelled" in text
    assert text.count("INCOMPLETE AUDIT") >= text.count("\f")  # every footer too


def test_an_errored_probe_renders(tmp_path, results):
    path = tmp_path / "errored.pdf"
    write_report(with_errored_probe(results), path)

    text = " ".join(pdf_text(path).split())
    assert "NOT ASSESSED" in text
    assert "Got invalid dimensions for input: input_ids" in text


def test_nothing_overflows_the_page_even_with_long_content(tmp_path, results):
    results["probes"][0]["title"] = "A membership probe with a remarkably long title " * 3
    results["probes"][0]["metrics"]["a_metric_with_a_very_long_name_that_goes_on_and_on"] = 0.5
    results["probes"][1]["extracted"] = [
        {"role": "members", "id": f"P{i:06d}", "ref": f"R-{i:08X}"} for i in range(80)
    ]
    results["plan"]["probes"]["extraction"]["note"] = "x" * 500
    results["plan"]["list"] = list(range(200))
    results["probes"][0]["findings"].append("Unicode: ε ≥ 1 → α, 東京, and a " + "verylongword" * 12)
    path = tmp_path / "long.pdf"
    write_report(results, path)

    bbox = pdf_text(path, "-bbox")
    right_edges = [float(x) for x in re.findall(r'xMax="([0-9.]+)"', bbox)]
    assert right_edges
    page_width, margin = 595.28, 56.69
    assert max(right_edges) <= page_width - margin + 1.0
    assert "x" * 60 in bbox  # the long plan line is there, wrapped rather than cut


def test_a_failed_write_leaves_no_file_at_the_target(tmp_path, results):
    from audit_core.report.pdf.writer import write_pdf

    class Unknown:  # a block the writer cannot lay out: it raises mid-way
        pass

    good = build_report(results)
    broken = dataclasses.replace(
        good,
        sections=good.sections[:2] + (Section(key="x", title="Broken", blocks=(Heading("ok"), Unknown())),),
    )
    target = tmp_path / "report.pdf"

    with pytest.raises(TypeError):
        write_pdf(broken, target)

    assert list(tmp_path.iterdir()) == []


def test_a_write_that_dies_while_saving_keeps_the_previous_report(tmp_path, results, monkeypatch):
    from reportlab.pdfgen.canvas import Canvas

    target = tmp_path / "report.pdf"
    write_report(results, target)
    before = target.read_bytes()

    def dies_half_way(canvas):
        canvas._filename.write(b"%PDF-1.4\n% half a report")
        raise OSError("No space left on device")

    monkeypatch.setattr(Canvas, "save", dies_half_way)
    with pytest.raises(OSError, match="No space left"):
        write_report(cancelled(results), target)

    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_write_pdf_accepts_a_hand_made_document(tmp_path):
    from audit_core.report.pdf.writer import write_pdf

    document = ReportDocument(
        report_id="T-1",
        title="Hand made",
        verdict="pass",
        sections=(
            Section(
                key="only",
                title="Only",
                blocks=(VerdictBanner("pass", "PASS", "Nothing found."), Paragraph("Body text.")),
            ),
        ),
    )
    path = tmp_path / "hand.pdf"
    write_pdf(document, path)

    text = pdf_text(path)
    assert "PASS" in text and "Nothing found." in text and "Page 1 of 1" in text


def test_without_a_monospace_font_the_pdf_still_embeds_every_font(tmp_path):
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    # A fresh process: fonts are registered once per process.
    path = tmp_path / "no-mono.pdf"
    code = (
        "import json, sys; from pathlib import Path\n"
        "import audit_core.report.pdf.fonts as fonts\n"
        "fonts._MONO_CANDIDATES = (Path('/nonexistent/mono.ttf'),)\n"
        "from audit_core.report import write_report\n"
        f"write_report(json.loads(Path({str(FIXTURE)!r}).read_text()), Path({str(path)!r}))\n"
        "assert not fonts.register_fonts().mono_is_monospaced\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout

    names = [line.split()[0] for line in listing.splitlines()[2:]]
    assert names and all("BitstreamVera" in name for name in names), listing
    assert all(line.split()[-5] == "yes" for line in listing.splitlines()[2:]), listing
