"""Help ▸ Glossary and Help ▸ What do I need before I start?

The glossary is the report's own (Appendix C, `glossary()` in
audit_core/report/sections/definitions.py), so that the app and the PDF define every term
in the same words. What an audit needs is said once, here, in plain words; the facts are
those of docs/models.md and docs/plan-reference.md.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from audit_core.report.sections.definitions import glossary

NEEDS_TITLE = "What do I need before I start?"
NEEDS = """
<p>An audit compares how the model treats patients it was trained on with similar patients
it never saw. You need three things, all on this computer:</p>
<ol>
<li><b>The model</b>: a folder holding the model file in ONNX format (<code>model.onnx</code>),
and for a language model its <code>tokenizer.json</code> and <code>config.json</code>. A Hugging
Face model folder can be converted with <b>File ▸ Import a model…</b>. Tabular risk models
(for example scikit-learn exported to ONNX) and encoders can be audited too.</li>
<li><b>The members file</b>: records of patients who <i>were</i> in the training data.</li>
<li><b>The non-members file</b>: records of patients from the same population and period who
were <i>not</i> in the training data. Every result is a comparison with them.</li>
</ol>
<p><b>What each file must contain</b> (CSV, TSV, Parquet or JSON Lines; one row per patient):</p>
<ul>
<li>a patient id column: unique within the file, and no id in both files;</li>
<li>the record as the model was trained on it: the medical codes in order, separated by
spaces, or the free text; for a tabular model, its input columns as numbers (encoded as in
training) and the outcome column;</li>
<li>optionally, subgroup columns (age band, sex…) to see which patients are most at risk.</li>
</ul>
<p>Optional: a <b>reference model</b> trained without the members, which enables the
stronger reference-calibrated probes.</p>
<p>More patients give firmer answers: with too few, a result is INCONCLUSIVE. Nothing leaves
this computer, and the PDF report names patients only by pseudonyms, never by id or record.
To see what an audit looks like first, try the demo audit.</p>
"""


def _dialog(parent: QWidget | None, title: str, name: str, widgets: list[QWidget],
            size: tuple[int, int]) -> QDialog:
    dialog = QDialog(parent)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    layout = QVBoxLayout(dialog)
    for widget in widgets:
        layout.addWidget(widget, 1 if isinstance(widget, QTextBrowser) else 0)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    layout.addWidget(buttons)
    dialog.resize(*size)
    # Not modal: the glossary stays open beside the results it explains.
    dialog.show()
    dialog.raise_()
    return dialog


def glossary_html(words: str = "") -> str:
    """The glossary as a definition list; only the entries that contain `words`, if given."""
    wanted = words.strip().lower()
    rows = [(t, d) for t, d in glossary() if not wanted or wanted in t.lower() or wanted in d.lower()]
    if not rows:
        return "<p>No term contains these words.</p>"
    return "".join(f"<p><b>{html.escape(term)}</b><br>{html.escape(definition)}</p>" for term, definition in rows)


def show_glossary(parent: QWidget | None) -> QDialog:
    lead = QLabel("The terms of the results and the report, in plain words: the same definitions "
                  "as the report's Appendix C.")
    lead.setWordWrap(True)
    search = QLineEdit()
    search.setPlaceholderText("Find a term (AUC, epsilon, interval…)")
    search.setAccessibleName("Find a term")
    search.setClearButtonEnabled(True)
    text = QTextBrowser()
    text.setObjectName("glossary_text")
    text.setHtml(glossary_html())
    search.textChanged.connect(lambda words: text.setHtml(glossary_html(words)))
    return _dialog(parent, "Glossary", "glossary", [lead, search, text], (640, 620))


def show_needs(parent: QWidget | None) -> QDialog:
    text = QTextBrowser()
    text.setObjectName("needs_text")
    text.setHtml(f"<h3>{html.escape(NEEDS_TITLE)}</h3>{NEEDS}")
    return _dialog(parent, NEEDS_TITLE, "before_you_start", [text], (620, 580))


def add_help_actions(menu: QMenu, parent: QWidget) -> dict[str, QAction]:
    """Help ▸ What do I need before I start? and Help ▸ Glossary, at the top of `menu`."""
    actions = {}
    for key, text, slot in (("needs", f"&{NEEDS_TITLE}", show_needs), ("glossary", "&Glossary", show_glossary)):
        action = QAction(text, parent)
        action.setObjectName(f"help_{key}")
        action.triggered.connect(lambda _=False, show=slot: show(parent))
        menu.addAction(action)
        actions[key] = action
    menu.addSeparator()
    return actions
