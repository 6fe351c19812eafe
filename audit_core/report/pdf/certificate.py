"""The printable validation certificate: one or two A4 pages, every font embedded.

Built only from the certificate's JSON data (like the audit report from results.json);
the fonts come from the report's helper, so the same embedded TrueType fonts are used.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from audit_core.report.pdf.fonts import register_fonts

_PASS, _FAIL = colors.HexColor("#1b7f3b"), colors.HexColor("#b3261e")


def render_pdf(certificate: dict[str, Any], json_name: str, json_sha256: str) -> bytes:
    fonts = register_fonts()
    body = ParagraphStyle("body", fontName=fonts.sans, fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5)
    mono = ParagraphStyle("mono", parent=small, fontName=fonts.mono)
    title = ParagraphStyle("title", parent=body, fontName=fonts.bold, fontSize=16, leading=20)
    heading = ParagraphStyle("heading", parent=body, fontName=fonts.bold, fontSize=11,
                             leading=14, spaceBefore=8, spaceAfter=4)
    passed = certificate["outcome"] == "passed"
    verdict = ParagraphStyle("verdict", parent=title, textColor=_PASS if passed else _FAIL)

    def p(text: Any, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(str(text)), style)

    def table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
        t = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
        style = [("FONTNAME", (0, 0), (-1, -1), fonts.sans), ("FONTSIZE", (0, 0), (-1, -1), 8),
                 ("VALIGN", (0, 0), (-1, -1), "TOP"),
                 ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc"))]
        if header:
            style += [("FONTNAME", (0, 0), (-1, 0), fonts.bold),
                      ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]
        t.setStyle(TableStyle(style))
        return t

    machine, tool = certificate["machine"], certificate["tool"]
    story: list[Any] = [
        p("Mnemoscope validation certificate", title),
        p(f"{'PASSED' if passed else 'FAILED'}: "
          f"{certificate['passed_checks']} of {len(certificate['checks'])} checks passed", verdict),
        Spacer(1, 3 * mm),
        p("This certificate records that the installation of Mnemoscope on the machine below "
          "was checked: its own files against the record made when it was installed, its "
          "dependencies and runtime, and audits with known answers on the committed "
          "controls (membership and extraction, sensitive attributes, identifiers in "
          "clinical notes, canaries, tabular classifiers): each a model that memorized "
          "something on purpose, which must be flagged, and a counterpart with nothing to "
          "find, which must not be."),
        p("Installation and machine", heading),
        table([[p(k, small), p(v, small)] for k, v in (
            ("Date (UTC)", certificate["date"]),
            ("Duration", f"{certificate['seconds']:.1f} s"),
            ("Tool", f"{tool['name']} {tool['version']}"),
            ("Machine", f"{machine['hostname']} ({machine['platform']}, "
                        f"{machine['processor_count']} CPUs)"),
            ("Python", machine["python"]),
            ("Installation record", certificate["installation"]["record"]),
        )], [40 * mm, 130 * mm], header=False),
        p("Versions", heading),
        table([[p("package", small), p("version", small)]]
              + [[p(k, small), p(v or "not installed", small)]
                 for k, v in certificate["versions"].items()], [60 * mm, 110 * mm]),
        p("Checks", heading),
    ]
    rows = [[p(h, small) for h in ("check", "expected", "observed", "result")]]
    result_cells = []
    for check in certificate["checks"]:
        rows.append([p(check["title"], small), p(check["expected"], small),
                     p(check["observed"], small), p("PASS" if check["passed"] else "FAIL", small)])
        result_cells.append(check["passed"])
    checks_table = table(rows, [48 * mm, 50 * mm, 56 * mm, 16 * mm])
    checks_table.setStyle(TableStyle(
        [("TEXTCOLOR", (3, i + 1), (3, i + 1), _PASS if ok else _FAIL)
         for i, ok in enumerate(result_cells)]))
    story += [checks_table, Spacer(1, 5 * mm),
              p(f"Machine-readable record: {json_name}", small),
              p(f"SHA-256 of that record: {json_sha256}", mono),
              p("Audits run on this installation cite this hash in their results.", small)]

    buffer = io.BytesIO()

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(fonts.sans, 7)
        canvas.drawString(20 * mm, 10 * mm, f"Mnemoscope validation {certificate['date']} - "
                                            f"page {doc.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                                 topMargin=18 * mm, bottomMargin=18 * mm,
                                 title="Mnemoscope validation certificate", author="Mnemoscope",
                                 invariant=1, lang="en",
                                 # The canvas would otherwise start on Helvetica (not embedded).
                                 initialFontName=fonts.sans, initialFontSize=9)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
