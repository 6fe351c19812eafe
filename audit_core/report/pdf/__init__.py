"""The report as a PDF file: everything that imports reportlab or writes or reads PDF bytes.

`writer.write_pdf` lays a `sections` document out (styles, fonts, page canvas, drawings),
`archival` makes it PDF/A-3b with the results and plan embedded and sealed; `signing`,
`approval`, `signature_check` and `verification` sign and check a written report;
`certificate` renders the validation certificate with the same fonts. The only place
reportlab is imported (tests/core/test_boundaries.py). Nothing here decides what is said.
"""
