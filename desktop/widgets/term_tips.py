"""Tooltips that define the technical terms a text uses (AUC, TPR at 1% FPR, epsilon, the
confidence interval, q-value…) in the words of the report's glossary (Appendix C,
`audit_core/report/sections/definitions.py`): the app and the PDF define every term alike."""

from __future__ import annotations

import html
import re

from PySide6.QtWidgets import QLabel, QWidget

from audit_core.report.sections.definitions import terms_in

SKIP = "noTermTips"  # a dynamic property: a label whose parent's tooltip explains it already
OWN_TIP = "ownToolTip"  # a dynamic property: the tooltip a widget had before its terms were added
_TAGS = re.compile(r"<[^>]+>")


def definitions_html(text: str) -> str:
    """The glossary entries `text` uses, one paragraph each; "" when it uses none."""
    return "".join(f"<p><b>{html.escape(term, quote=False)}</b>: {html.escape(definition, quote=False)}</p>"
                   for term, definition in terms_in(_TAGS.sub(" ", text)))


def explain(text: str, lead: str = "") -> str:
    """A tooltip: `lead` (what the item is, if anything) and the definitions of its terms."""
    definitions = definitions_html(text)
    head = f"<p>{html.escape(lead, quote=False)}</p>" if lead else ""
    return f"<qt>{head}{definitions}</qt>" if definitions else lead


def explain_terms(root: QWidget) -> None:
    """Add the definitions of its terms to the tooltip of every label under `root`, and of
    every chart (by its title and caption), keeping a tooltip the widget already has (its
    figure's label, say) in front of them."""
    for widget in root.findChildren(QWidget):
        if widget.property(SKIP):
            continue
        if isinstance(widget, QLabel):
            text = widget.text()
        else:
            # A chart drawn from the report's chart spec (desktop/widgets/charts.py).
            spec = getattr(widget, "spec", None)
            text = f"{getattr(spec, 'title', '')} {getattr(spec, 'caption', '')}" if spec else ""
        definitions = definitions_html(text) if text else ""
        # Called again after a label's text changed: start from its own tooltip, not from
        # the one with the old text's definitions.
        own = widget.property(OWN_TIP)
        if own is None:
            if not definitions:
                continue
            own = widget.toolTip()
            widget.setProperty(OWN_TIP, own)
        if not definitions:
            widget.setToolTip(own)
            continue
        if own.startswith("<qt>"):
            own = own.removeprefix("<qt>").removesuffix("</qt>")
        elif own:
            own = f"<p>{html.escape(own, quote=False)}</p>"
        widget.setToolTip(f"<qt>{own}{definitions}</qt>")
