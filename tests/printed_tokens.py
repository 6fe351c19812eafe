"""Reading a front end's text as numeric tokens: the PDF's text through poppler, numbers
with their intervals and pairs read whole, and the non-figures (page numbers, dates,
citations, hashes) blanked out first. tests/printed_numbers.py checks the tokens against
the audit result.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# --- reading the text -------------------------------------------------------------------


def pdf_text(path: Path, *options: str) -> str:
    """The text of a PDF as pdftotext reads it (skips the test when poppler is missing)."""
    text = pdf_text_if_readable(path, *options)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return text


def pdf_text_if_readable(path: Path, *options: str) -> str | None:
    """`pdf_text`, or None when poppler is missing: for a test whose other checks stand
    without the PDF's text."""
    if shutil.which("pdftotext") is None:
        return None
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def normalized(text: str) -> str:
    # Typographic minus, no-break and thin spaces, soft hyphens: the same number either way.
    return (text.replace("\u2212", "-").replace("\u00a0", " ").replace("\u202f", " ")
            .replace("\u2009", " ").replace("\u00ad", ""))


# --- tokens -----------------------------------------------------------------------------

_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[+-]?\d+)?%?"
_CELL = rf"(?:[<≥]\d+|{_NUMBER})"  # a count, or the small-cell marks "<11" and "≥11"
_START = r"(?<![\w.,/\-–+<≥])"  # not inside a word, a hash, a version or a longer number
_END = r"(?![\w%]|[.,]\d)"
TOKEN = re.compile(
    rf"{_START}(?:"
    rf"(?P<pair>{_CELL}\s+/\s+{_CELL})"
    rf"|(?P<interval>{_NUMBER}(?:[ \t]*[–-][ \t]*\n?[ \t]*|\s+to\s+){_NUMBER})"
    rf"|(?P<scalar>{_CELL})"
    rf"){_END}")


@dataclass(frozen=True)
class Token:
    kind: str  # "pair", "interval" or "scalar"
    text: str  # whitespace collapsed: "51.9–58.1%", "1,000 / 1,000"
    start: int


def tokens(text: str) -> Iterator[Token]:
    for match in TOKEN.finditer(text):
        kind = match.lastgroup or "scalar"
        shown = re.sub(r"\s+", " ", match.group(kind))
        if kind == "interval":  # one spelling of a range: "a–b" or "a to b"
            shown = re.sub(r"\s*([–-])\s*(?=[+-]?\d)", "–", shown, count=1) if " to " not in shown else shown
        yield Token(kind, shown, match.start())


# What a report prints that is not a figure of the audit. Each pattern is removed before
# the numbers are read; keep the list short and every entry specific.
NON_FIGURES: tuple[tuple[str, str], ...] = (
    (r"Page \d+ of \d+", "page numbers"),
    (r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?(?:Z| UTC)?)?", "dates and times"),
    (r"(?<![\d.])(?:95|97\.5)%(?!\d)", "confidence levels: every interval's, a one-sided bound's"),
    (r"\b[Ss]ections? \d+(?:\.\d+)*", "cross-references to sections"),
    (r"§\s*\d+(?:\.\d+)*(?:\([a-z0-9]+\))*|\b164\.\d+(?:\([a-z0-9]+\))*", "HIPAA sections (45 CFR 164.514)"),
    (r"\b\d+ CFR\b", "the CFR title"),
    (r"\b\d{1,4}/\d{4}\b|\b\d{4}/\d{1,4}\b", "EU acts and opinions (2024/1689, 28/2024)"),
    (r"\bArt(?:icle|\.)\s*\d+(?:\(\d+\))*|\bAnnex [IVX]+(?: \d+\([a-z]\))?", "articles and annexes"),
    (r"\bISO(?:/IEC)?\s+\d+(?:-\d+)?(?::\d{4})?(?: \d+(?:\.\d+)*)?", "ISO standards and their clauses"),
    (r"\bNIST\s+(?:AI|SP)\s+\d+(?:-\d+)*(?:\s+E\d{4})?", "NIST publications"),
    (r"\bETSI\s+(?:EN|TS)\s+\d+(?:\s+\d+)*(?:-\d+)*", "ETSI standards (PAdES)"),
    (r"\b[Aa]ctions?\s+\d+(?:\s*(?:to|–|-)\s*\d+)?", "the report's numbered required actions"),
    (r"\bet al\.,? \d{4}|\b(?:NeurIPS|ICML|ICLR|USENIX Security|CCS|ACL|EMNLP|IEEE S&P) \d{4}",
     "the year of a cited paper"),
    (r"\[S\d+\]", "bibliography keys"),
    (r"\bMEASURE\s+\d+\.\d+(?:,\s*\d+\.\d+)*", "NIST AI RMF subcategories"),
    (r"per\s+100\s+patients|[Aa]ges?\s+over\s+89|epsilon\s+of\s+1\s+to\s+10|at\s+most\s+9%\s+for\s+public|cells?\s+of\s+1\s*"
     r"(?:to|-|–)\s*10|rule\s+of\s+three[^.;)]*?\b[NM]\s*(?:=|>=|≥)\s*3,000",
     "rules and advice the report quotes (HIPAA Safe Harbor's age rule, the usual DP-SGD "
     "budget, EMA's 0.09, the CMS cell-size rule, the rule of three)"),
    (r"\b[0-9a-f]{12,}…?", "hashes (SHA-256, HMAC pseudonyms)"),
)
_NON_FIGURES = re.compile("|".join(f"(?:{pattern})" for pattern, _ in NON_FIGURES), re.MULTILINE)


def figures_in(text: str, headings: Iterable[str] = ()) -> list[Token]:
    """The numeric tokens of `text` once the non-figures are blanked out (offsets kept).
    `headings`: the document's section titles ("6.2 zlib-ratio membership inference"),
    whose numbers are not figures where a heading starts."""
    text = normalized(text)

    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group(0))

    for heading in headings:
        number, _, rest = heading.partition(" ")
        if re.fullmatch(r"\d+(?:\.\d+)*\.?", number) and rest:
            text = re.sub(rf"(?:^|(?<=\f)){re.escape(number)}[ \t]+(?={re.escape(rest.split()[0])})",
                          blank, text, flags=re.MULTILINE)
    return list(tokens(_NON_FIGURES.sub(blank, text)))
