"""The report's content, as plain data: the audit result (results.json's mapping) in,
a `ReportDocument` of frozen blocks out (rows, wording, figures, chart geometry).

No module here imports reportlab or reads and writes PDF bytes, and none imports
`report.pdf`: the desktop draws the same charts from these specs and geometry, and the
content (what is said, what is never said) is tested without drawing anything.
`document.build_report` is the entry point; `elements` is the vocabulary.
"""
