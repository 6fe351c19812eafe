"""A localised record's text with the spans the model memorized highlighted (local only).

The spans come from the audit (its result in memory after a run, else the folder's
memorized_spans.json of the same report); the record's text is read from the cohort file
the plan names, on this computer, and only when the file is still the one audited (its
SHA-256 is the one results.json recorded). Nothing here goes to the PDF, a log or a file.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from audit_core.data.cohort import Role
from audit_core.errors import MnemoscopeError
from audit_core.results.figures import format_count, format_decimal
from audit_core.results.result import AuditResult
from audit_core.run.output_folder import SPANS_FILE

HIGHLIGHT = "#FFD59E"  # amber: read as "look here", not as a verdict colour
_PROMPT = ("Select a record to see which of its tokens the model memorized. Only the records most "
           "at risk (and the non-members scored highest, for comparison) are localised.")


def spans_of(result: AuditResult, folder: Path | None, report_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(role, id) -> the record's localisation: from the result, else from the folder's
    memorized_spans.json when it belongs to this report."""
    spans = result.memorized_spans
    records: Any = spans.records if spans is not None and spans.records else None  # read back: counts only
    if records is None and folder is not None and (folder / SPANS_FILE).is_file():
        try:
            document = json.loads((folder / SPANS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            document = {}
        if isinstance(document, dict) and document.get("report_id") == report_id:
            records = document.get("records")
    return {(str(r["role"]), str(r["id"])): r for r in records or () if isinstance(r, dict) and "id" in r}


class MemorizedText(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self.caption = QLabel(_PROMPT)
        self.caption.setWordWrap(True)
        self.caption.setProperty("role", "help")
        self.text = QTextBrowser()
        self.text.setAccessibleName("Record text with memorized spans")
        self.text.setOpenLinks(False)
        layout.addWidget(self.caption)
        layout.addWidget(self.text, 1)
        self.result: AuditResult | None = None
        self.spans: dict[tuple[str, str], dict[str, Any]] = {}
        self._texts: dict[tuple[str, str], str] | None = None  # read once, when first needed
        self.plan_file: Path | None = None

    def set_audit(self, result: AuditResult, folder: Path | None, report_id: str,
                  plan_file: Path | None = None) -> None:
        """`plan_file`: the plan saved beside the outputs, whose relative paths are read from
        its own folder (else the result's plan, read from the working folder)."""
        self.result, self._texts, self.plan_file = result, None, plan_file
        self.spans = spans_of(result, folder, report_id)
        self.caption.setText(_PROMPT if self.spans else
                             "This audit localised no memorized spans (another kind of model, or "
                             "an audit from before they were localised).")
        self.text.clear()

    def show_record(self, role: str, record_id: str) -> None:
        entry = self.spans.get((role, record_id))
        if entry is None:
            self.caption.setText(_PROMPT if self.spans else self.caption.text())
            self.text.clear()
            return
        spans = [s for s in entry.get("spans", ()) if isinstance(s, dict)]
        memorized = sum(int(s.get("memorized_tokens", 0)) for s in spans)
        strongest = max((max(s.get("contrast") or [0.0]) for s in spans), default=None)
        summary = (f"{format_count(len(spans))} memorized spans, {format_count(memorized)} of "
                   f"{format_count(entry.get('tokens'))} tokens")
        if strongest is not None:
            summary += f"; the strongest token {format_decimal(strongest, 1)} nats above its baseline"
        text = self._text(role, record_id)
        if text is None:
            self.caption.setText(summary + ". The record's text cannot be shown: the cohort file is "
                                 "not on this computer, or changed since the audit.")
            self.text.clear()
            return
        self.caption.setText(summary + ". Highlighted: what the model scores far above a record it "
                             "never saw.")
        self.text.setHtml(highlighted(text, [s["chars"] for s in spans if "chars" in s]))

    def _text(self, role: str, record_id: str) -> str | None:
        if self._texts is None:
            self._texts = _read_texts(self.result, self.plan_file) if self.result is not None else {}
        return self._texts.get((role, record_id))


def highlighted(text: str, ranges: list[list[int]]) -> str:
    """The text as HTML, each [start, end) character range on a highlight."""
    out, at = [], 0
    for start, end in sorted((max(0, int(a)), min(len(text), int(b))) for a, b in ranges):
        if start < at or end <= start:
            continue
        out.append(html.escape(text[at:start]))
        out.append(f'<span style="background-color:{HIGHLIGHT}">{html.escape(text[start:end])}</span>')
        at = end
    out.append(html.escape(text[at:]))
    return f'<div style="white-space:pre-wrap">{"".join(out)}</div>'


def _read_texts(result: AuditResult, plan_file: Path | None) -> dict[tuple[str, str], str]:
    """Each record's text by (role, id), from the plan's cohort files, when they are the
    files audited; empty otherwise (moved, changed, or another format's error)."""
    from audit_core.data.loading import load_cohorts
    from audit_core.plan.parsing import load_plan, plan_from_dict

    try:
        plan = load_plan(plan_file) if plan_file is not None and plan_file.is_file() else plan_from_dict(result.plan)
        cohorts = load_cohorts(plan.data)
    except (MnemoscopeError, OSError, ValueError):
        return {}
    audited = {str(d.get("role")): d.get("sha256") for d in result.datasets}
    texts: dict[tuple[str, str], str] = {}
    for role in Role:
        cohort = cohorts[role]
        if audited.get(role.value) != cohort.info.sha256:
            continue
        texts.update({(role.value, i): t for i, t in zip(cohort.ids, cohort.sequences, strict=True)})
    return texts
