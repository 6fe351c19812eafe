"""The building blocks of a report: plain frozen data, no rendering.

The report is a function of the audit result (DESIGN.md, "Shape"): `build_report` turns
results into these blocks and `pdf.writer.write_pdf` lays them out. Keeping the blocks free of
reportlab means the content (what is said, what is never said) is tested without
drawing anything, and another writer (HTML, DOCX) can reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TextStyle(StrEnum):
    """The kinds of running text; the writer decides how each looks."""

    TITLE = "title"
    KICKER = "kicker"  # the small caps line above a title
    BODY = "body"
    LEAD = "lead"  # the one-line question a section answers
    SMALL = "small"
    NOTE = "note"  # secondary, greyed
    ALERT = "alert"  # must not be overlooked (an incomplete audit, a probe not assessed)
    DISCLAIMER = "disclaimer"


class Align(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    CENTER = "center"


@dataclass(frozen=True)
class Code:
    """Text shown in the monospace font: hashes, ids of settings, file names."""

    text: str


@dataclass(frozen=True)
class Badge:
    """A verdict shown as a coloured word. `verdict` is the lower-case verdict value
    (pass, warn, fail, inconclusive, error, ...); `label` is the word printed."""

    verdict: str
    label: str


Cell = str | Code | Badge

# The share of the text width that holds a whole SHA-256 on one line in the writer's
# code font (64 characters at 6.5 pt plus cell padding), so a hash is never broken.
HASH_WIDTH = 0.56


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2  # 1 is the section title itself; blocks use 2 and 3


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: TextStyle = TextStyle.BODY


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table whose column widths are fractions of the text width, so that it can never
    be wider than the page; every cell wraps."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[float, ...]
    align: tuple[Align, ...] = ()
    caption: str | None = None
    # A key-value table has no header row and a shaded first column.
    key_value: bool = False
    # Reference material (the appendix's settings, thresholds, metrics): smaller type and
    # tighter rows.
    dense: bool = False

    def __post_init__(self) -> None:
        # A malformed table is a programming error in a section builder: fail loudly here
        # rather than as an unreadable layout error deep inside the PDF writer.
        n = len(self.widths)
        if self.header and len(self.header) != n:
            raise ValueError(f"table header has {len(self.header)} cells for {n} columns")
        for row in self.rows:
            if len(row) != n:
                raise ValueError(f"table row has {len(row)} cells for {n} columns")
        if self.align and len(self.align) != n:
            raise ValueError(f"table align has {len(self.align)} entries for {n} columns")
        if abs(sum(self.widths) - 1.0) > 1e-6:
            raise ValueError(f"table widths sum to {sum(self.widths)}, not 1")


@dataclass(frozen=True)
class VerdictBanner:
    """The overall verdict in large type, with the sentence that justifies it."""

    verdict: str
    label: str
    rationale: str


@dataclass(frozen=True)
class RocSeries:
    label: str
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]


@dataclass(frozen=True)
class OperatingPoint:
    """A decision threshold marked on a ROC curve: TPR at a fixed FPR, with the TPR's
    95% interval drawn as a bar."""

    label: str
    fpr: float
    tpr: float
    tpr_low: float | None = None
    tpr_high: float | None = None


@dataclass(frozen=True)
class RocChart:
    """A ROC curve on log-log axes (compliance.md 2.1: the low-FPR region is what matters,
    and a linear plot hides it)."""

    title: str
    series: tuple[RocSeries, ...]
    caption: str
    floor: float = 1e-3  # the lowest FPR/TPR shown; smaller values (zeros) sit on the axis
    points: tuple[OperatingPoint, ...] = ()


@dataclass(frozen=True)
class HistogramChart:
    """Members' and non-members' score distributions over the same bins, as shares of
    each cohort (so cohorts of different sizes compare)."""

    title: str
    edges: tuple[float, ...]
    members: tuple[float, ...]
    non_members: tuple[float, ...]
    caption: str
    x_label: str = "Score (higher = more member-like)"


@dataclass(frozen=True)
class Interval:
    """One row of an interval chart: a point estimate with its 95% interval."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    flagged: bool = False  # drawn in the alert colour (a significant or failing row)


@dataclass(frozen=True)
class IntervalChart:
    """Point estimates with their 95% intervals, one row each, against a reference line
    (0 for a gap, the whole cohort's AUC for a subgroup): a forest plot (compliance.md
    6.9). The reader sees at a glance which intervals clear the line."""

    title: str
    rows: tuple[Interval, ...]
    caption: str
    x_label: str
    reference: float | None = None
    reference_label: str = ""


@dataclass(frozen=True)
class StackedBar:
    """One cohort's bar: how many of its cases fall in each part, in the chart's order."""

    label: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class StackedBarChart:
    """Each cohort's cases split into outcomes, end to end on a common count axis (T5: a
    sensitive signal that is a memory of one patient, a population pattern, or below the
    threshold), members against the non-member control. `tones` says how each part is
    drawn: "alert" (the finding), "main" or "quiet" (nothing to explain)."""

    title: str
    parts: tuple[str, ...]
    tones: tuple[str, ...]
    bars: tuple[StackedBar, ...]
    caption: str
    x_label: str

    def __post_init__(self) -> None:
        if len(self.tones) != len(self.parts) or any(len(b.counts) != len(self.parts) for b in self.bars):
            raise ValueError("a stacked bar chart needs one tone and one count per part")


Chart = RocChart | HistogramChart | IntervalChart | StackedBarChart


@dataclass(frozen=True)
class Figure:
    """One or two charts side by side, kept together on one page."""

    charts: tuple[Chart, ...]


@dataclass(frozen=True)
class Preformatted:
    """Monospace text kept line by line (the plan as JSON); the writer wraps long lines."""

    text: str


@dataclass(frozen=True)
class SignatureLines:
    """Blank lines to sign on paper: one box per signer, each with labelled fields."""

    signers: tuple[tuple[str, tuple[str, ...]], ...]  # (role, field labels)


Block = (
    Heading | Paragraph | BulletList | Table | VerdictBanner | RocChart | HistogramChart | IntervalChart
    | StackedBarChart | Figure | Preformatted | SignatureLines
)


@dataclass(frozen=True)
class Section:
    """A top-level part of the report: a bookmark, and (usually) a new page."""

    key: str  # stable id for tests and bookmarks: "cover", "probe:loss", "model-and-data"
    title: str
    blocks: tuple[Block, ...]
    show_title: bool = True  # the cover draws its own title
    new_page: bool = True  # short sections follow the previous one on the same page
    # A section that fits on one page is kept on one (a probe's table beside its chart):
    # it starts on the next page rather than break across two.
    keep_together: bool = False


@dataclass(frozen=True)
class ReportDocument:
    report_id: str
    title: str
    verdict: str  # the overall verdict value, lower case
    sections: tuple[Section, ...]
    # Printed on every page, beside the report id and the page number.
    footer_notes: tuple[str, ...] = ("Confidential: contains no patient data",)
    author: str = ""
    subject: str = ""
    results_digest: str = ""  # its first 16 hex digits are printed on every page
    keywords: str = ""

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)
