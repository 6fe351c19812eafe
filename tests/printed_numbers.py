"""Every number a front end prints, read back and checked against the audit result.

The PDF, the CLI summary and the desktop results page may print a number only when it is
one of the renderings, by the shared formatters (audit_core.results.figures), of a number in
results.json or run.json, or copied from one of their strings (a label, a plan value, a
file name), or a non-figure named in NON_FIGURES (page numbers, dates, citations,
hashes). Figures in the probes' own prose (findings, headlines, the overall rationale)
are checked like any other printed figure: they must come from the result's numbers.

How it cannot be fooled:

* Every numeric token is read, wherever it is: counts with thousands separators,
  percentages, decimals, scientific notation, signed differences, intervals ("51.9–58.1%",
  "-0.297 to -0.096") and members / non-members pairs ("23 / <11"), which are checked as
  one token each: a pair or an interval must come from one place in the result, a bound
  never passes as a value, and "<11" only stands for a count the result says is small.
* A number is formatted only by formatters that apply to it: a count is never a
  percentage (200 generated records cannot print as 20000.0%).
* Chart series (ROC points, histogram bins) are drawn, never printed, and are left out,
  so that a printed figure cannot pass by matching one of hundreds of curve points.
* Nothing depends on layout: the text is read as a stream, and a token split across
  lines is read whole.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from audit_core.results import figures as f
from tests.printed_tokens import Token, figures_in, normalized, tokens

# --- what the result allows -------------------------------------------------------------

# Drawn, never printed: a chart's series would otherwise match almost any figure.
CHARTED = frozenset({"roc", "histogram"})
# The result's own prose: its numbers must come from the result's numbers, like any figure.
PROSE = frozenset({"findings", "overall_rationale", "text"})
_MEMBERS, _NON_MEMBERS = "members", "non_members"


@dataclass
class Printable:
    """Every token a front end may print for one result."""

    scalars: set[str] = field(default_factory=set)
    intervals: set[str] = field(default_factory=set)
    pairs: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)  # copied from the result's strings
    scale: set[str] = field(default_factory=set)  # chart texts and the report's numbering

    def add_text(self, text: str, into_words: bool = False) -> None:
        for token in tokens(normalized(text)):
            if into_words:
                self.words.add(token.text)
            else:
                {"scalar": self.scalars, "interval": self.intervals, "pair": self.pairs}[
                    token.kind].add(token.text)

    def allows(self, token: Token) -> bool:
        if token.text in self.words or token.text in self.scale:
            return True
        if token.kind == "pair":
            return token.text in self.pairs
        if token.kind == "interval":
            return token.text in self.intervals
        return token.text in self.scalars or token.text.lstrip("+") in self.scalars


def _renderings(value: float) -> Iterator[str]:
    """Every way the shared formatters may print one number on its own."""
    if isinstance(value, int):
        yield str(value)  # identifiers that are numbers: a seed, a version of a file
    yield f.format_count(value)
    yield f.format_general(value)
    yield f.format_measure(value)
    yield f.format_gap(value)
    yield f.format_bytes(value)
    yield f.format_seconds(value)
    for decimals in range(5):
        yield f.format_decimal(value, decimals)
    if float(value).is_integer():
        yield f.format_small_cell(value)
        yield f.format_withheld_cell(value)
    if abs(value) <= 1:  # a rate, a share, a p-value or a difference of rates
        yield f.format_p_value(value)
        yield f.format_signed_percent(value)
        yield f.format_fpr(value)
        for decimals in (None, 0, 1, 2, 3):
            yield f.format_percent(value, decimals)
    if value != 0:
        yield f.format_scientific(value)


def _with_interval(value: float, interval: list[float]) -> Iterator[str]:
    yield f.format_rate(value, interval) if abs(value) <= 1 else ""
    yield f.format_auc(value, interval)
    yield f.format_epsilon(value, interval)
    yield f.format_gap(value, interval)
    yield f.format_measure(value, interval)
    for decimals in range(5):
        yield f.format_estimate(value, interval, decimals)
        yield f.format_interval(interval, decimals)
        yield f.format_gap_interval(interval, decimals)
    yield f.format_signed_percent_interval(interval)


def _pair_renderings(first: Any, second: Any, hidden: Mapping[str, Any], keys: tuple[str, str],
                     min_cells: set[int]) -> Iterator[str]:
    """A pair of one mapping's siblings; "<11" and "≥11" only where the result says a
    count is hidden (`min_cells` is empty for mappings that are not small-cell strata)."""
    def cells(value: Any, key: str) -> list[str]:
        reason = hidden.get(key)
        if reason == "small":
            return [f.format_small_cell(c) for c in min_cells]
        if reason == "complement":
            return [f.format_withheld_cell(c) for c in min_cells]
        if not f.is_number(value):
            return [f.MISSING]
        shown = {f.format_count(value), *(f.format_decimal(value, d) for d in range(4))}
        if abs(value) <= 1:
            shown |= {f.format_percent(value, d) for d in (None, 0, 1, 2)}
        shown |= {f.format_small_cell(c) for c in min_cells if value < c}
        return sorted(shown)

    for a in cells(first, keys[0]):
        for b in cells(second, keys[1]):
            yield f"{a}{f.PAIR}{b}"


def _rows(mapping: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A table stored as columns ({"gap": [...], "gap_low": [...]}) as its rows."""
    columns = {k: v for k, v in mapping.items() if isinstance(v, list)}
    lengths = {len(v) for v in columns.values()}
    if len(columns) < 2 or len(lengths) != 1 or not all(
            all(x is None or isinstance(x, (int, float, str, bool)) for x in v) for v in columns.values()):
        return []
    return [{k: v[i] for k, v in columns.items()} for i in range(lengths.pop())]


def printable(*documents: Mapping[str, Any]) -> Printable:
    """What a front end may print for a result (results.json, run.json)."""
    allowed = Printable()
    # The small-cell thresholds the engine hid counts by ("<11", "≥11").
    min_cells = {int(c) for c in re.findall(r'"min_cell": (\d+)', json.dumps(documents))} or {11}
    for document in documents:
        _walk(document, "", allowed, min_cells)
    return allowed


def _walk(value: Any, key: str, allowed: Printable, min_cells: set[int]) -> None:
    if key in CHARTED:
        return
    if isinstance(value, Mapping):
        _mapping(value, allowed, min_cells)
        for row in _rows(value):
            _mapping(row, allowed, min_cells)
        for k, v in value.items():
            # A key is a label too: "tpr_at_0.1pct_fpr" is printed "TPR at 0.1% FPR".
            allowed.add_text(re.sub(r"(\d)pct\b", r"\1%", str(k).replace("_", " ")), into_words=True)
            _walk(v, str(k), allowed, min_cells)
    elif isinstance(value, list):
        if len(value) == 2 and all(f.is_number(v) for v in value):
            for decimals in range(5):  # an interval with no value beside it
                allowed.add_text(f.format_interval(value, decimals))
                allowed.add_text(f.format_gap_interval(value, decimals))
            allowed.add_text(f.format_signed_percent_interval(value))
            return  # a bound is never printed as a value of its own
        for item in value:
            _walk(item, key, allowed, min_cells)
    elif isinstance(value, str):
        allowed.add_text(value, into_words=key not in PROSE)
    elif f.is_number(value):
        for text in _renderings(value):
            allowed.add_text(text)


def _mapping(mapping: Mapping[str, Any], allowed: Printable, min_cells: set[int]) -> None:
    """What the siblings of one mapping give together: a value with its interval
    (`x`, `x_ci` or `x_low`, `x_high`), members / non-members pairs, and counts of
    its list items (probes failed, strata at risk)."""
    for key, value in mapping.items():
        if not f.is_number(value):
            if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                allowed.add_text(f.format_count(len(value)))
                for field_name in {k for v in value for k in v}:
                    seen = [v.get(field_name) for v in value]
                    for distinct in {s for s in seen if isinstance(s, (str, bool))}:
                        allowed.add_text(f.format_count(seen.count(distinct)))
            continue
        interval = mapping.get(f"{key}_ci")
        if not (isinstance(interval, list) and len(interval) == 2):
            low, high = mapping.get(f"{key}_low"), mapping.get(f"{key}_high")
            interval = [low, high] if f.is_number(low) and f.is_number(high) else None
        if interval is not None and all(f.is_number(b) for b in interval):
            for text in _with_interval(value, interval):
                allowed.add_text(text)
    hidden = mapping.get("hidden_counts") if isinstance(mapping.get("hidden_counts"), Mapping) else {}
    if "suppressed" not in mapping:  # only small-cell strata print "<11"
        min_cells = set()
    for key in mapping:
        if key.endswith(_MEMBERS) and not key.endswith(_NON_MEMBERS):
            other = key[: -len(_MEMBERS)] + _NON_MEMBERS
            if other in mapping:
                for text in _pair_renderings(mapping[key], mapping[other], hidden, (key, other), min_cells):
                    allowed.pairs.add(text)


# Columns that number the report's own items (the required actions a result points to).
NUMBERING_COLUMNS = frozenset({"Actions"})


def report_labels(report: Mapping[str, Any]) -> list[str]:
    """Strings of the report built from `report` whose numbers are not figures: what its
    charts draw (axis ticks, legends, operating-point marks), read from the very drawings
    the PDF embeds, and the cells that number its required actions."""
    from reportlab.graphics.shapes import Group, String

    from audit_core.report.pdf.figures import chart_drawing
    from audit_core.report.sections.definitions import glossary
    from audit_core.report.sections.document import build_report
    from audit_core.report.sections.elements import Figure, Table

    def blocks(value: Any, kind: type) -> Iterator[Any]:
        if isinstance(value, kind):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                yield from blocks(item, kind)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for item in dataclasses.fields(value):
                yield from blocks(getattr(value, item.name), kind)

    def texts(shape: Any) -> Iterator[str]:
        if isinstance(shape, String):
            yield shape.text
        elif isinstance(shape, Group):  # a Drawing is a Group too
            for child in shape.contents:
                yield from texts(child)

    sections = build_report(report).sections
    labels = [text for figure in blocks(sections, Figure) for chart in figure.charts
              for text in texts(chart_drawing(chart, 240.0, "Helvetica"))]
    # The glossary's definitions are the tool's own words, the same in every report ("a 1%
    # FPR is one false alarm per 100 patients"): their numbers are not the audit's figures.
    labels += [definition for _term, definition in glossary()]
    for table in blocks(sections, Table):
        columns = [i for i, title in enumerate(table.header or ()) if title in NUMBERING_COLUMNS]
        labels += [row[i] for row in table.rows for i in columns if isinstance(row[i], str)]
    return labels


# --- the check --------------------------------------------------------------------------

@dataclass(frozen=True)
class Misprint:
    token: str
    line: str

    def __str__(self) -> str:
        return f"{self.token!r} in: {self.line.strip()}"


def unexplained(text: str, allowed: Printable, headings: Iterable[str] = ()) -> list[Misprint]:
    """The printed numbers that the result does not explain, each with its line."""
    text = normalized(text)
    found: dict[str, Misprint] = {}
    for token in figures_in(text, headings):
        if allowed.allows(token):
            continue
        start = text.rfind("\n", 0, token.start) + 1
        end = text.find("\n", token.start + len(token.text))
        found.setdefault(token.text, Misprint(token.text, text[start:end if end >= 0 else None]))
    return list(found.values())


def assert_printed_from(text: str, *documents: Mapping[str, Any], where: str,
                        at_least: int = 1, headings: Iterable[str] = (),
                        labels: Iterable[str] = ()) -> None:
    """Every number in `text` comes from `documents`; and the text holds figures at all
    (a check of an empty or unreadable text would pass vacuously). `headings`: section
    titles (report_headings); `labels`: chart texts and numbering (report_labels)."""
    headings = tuple(headings)
    read = figures_in(text, headings)
    assert len(read) >= at_least, f"{where}: only {len(read)} numbers read; is the text extracted?"
    allowed = printable(*documents)
    for label in labels:
        allowed.scale |= {token.text for token in tokens(normalized(label))}
    wrong = unexplained(text, allowed, headings)
    assert not wrong, (f"{where} prints {len(wrong)} number(s) that results.json does not "
                       "explain:\n  " + "\n  ".join(map(str, wrong)))


def report_headings(report: Mapping[str, Any]) -> list[str]:
    """The section titles of the report built from `report` (results with run facts)."""
    from audit_core.report.sections.document import build_report

    return [section.title for section in build_report(report).sections]


def widget_texts(widget: Any) -> str:
    """Every text a Qt widget and its children show: labels, buttons, tabs, tooltips, as
    plain text (rich-text markup and entities removed), one per line."""
    from html import unescape

    from PySide6.QtWidgets import QTabWidget, QWidget

    texts = []
    for child in [widget, *widget.findChildren(QWidget)]:
        if not child.isVisibleTo(widget) and child is not widget:
            continue
        for read in ("text", "toolTip", "accessibleName"):
            value = getattr(child, read, None)
            if callable(value) and isinstance(value(), str):
                texts.append(value())
        if isinstance(child, QTabWidget):
            texts += [child.tabText(i) for i in range(child.count())]
    plain = (unescape(re.sub(r"<[^>]+>", " ", t.replace("<br>", "\n"))) for t in texts if t)
    return "\n".join(plain)
