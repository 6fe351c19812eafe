"""How Mnemoscope writes a number: one function per kind of quantity.

The PDF report, the desktop app, the CLI summary and the probes' own headlines and
findings all print figures through these functions, so one quantity reads the same
everywhere and every printed number can be re-derived from results.json
(tests/printed_numbers.py does, for every audit the test suite runs). A figure that is
not in the result is computed where the result is assembled, never while printing.

Plain strings only: no Qt, no reportlab, so every front end can use it.
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

DASH = "–"  # en dash: the range separator in intervals
MISSING = "—"  # em dash: no value
TO = " to "  # the separator of intervals whose bounds carry a sign (-0.297 to -0.096)
PAIR = " / "  # members / non-members


def is_number(value: Any) -> TypeGuard[float]:
    # bool is an int in Python but never a measurement. A TypeGuard: after the check the type
    # checker knows a result's field (read as Any or None) is a number (int is a float to it).
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def as_text(value: Any, default: str = MISSING) -> str:
    """A value that is not a number, shown as it is: None as the default, booleans in words."""
    if value is None:
        return default
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip()
    return text if text else default


# --- counts -----------------------------------------------------------------------------

def format_count(value: Any) -> str:
    """Records, patients, generations: "1,000"."""
    if not is_number(value):
        return as_text(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return format_general(value)


def format_count_pair(members: Any, non_members: Any) -> str:
    """The two cohorts' counts behind a figure: "1,000 / 1,000"."""
    return f"{format_count(members)}{PAIR}{format_count(non_members)}"


def format_share(part: Any, whole: Any) -> str:
    """A count out of a count: "10 of 491"."""
    return f"{format_count(part)} of {format_count(whole)}"


def format_small_cell(min_cell: Any) -> str:
    """A count below the smallest cell a report may show (CMS cell-size rule): "<11"."""
    return f"<{format_count(min_cell)}"


def format_withheld_cell(min_cell: Any) -> str:
    """A count of at least `min_cell`, withheld so that a small one beside it cannot be
    recovered by subtraction from the cohort total: "≥11"."""
    return f"≥{format_count(min_cell)}"


# --- rates and percentages --------------------------------------------------------------

def percent_decimals(*fractions: Any) -> int:
    """One number of decimals for a value and its interval, enough for the smallest
    non-zero part to keep two significant digits (0.55%, 38.1%), at most three."""
    smallest = min((abs(f) for f in fractions if is_number(f) and f != 0), default=1.0)
    if smallest >= 0.01:
        return 1
    if smallest >= 0.001:
        return 2
    return 3


def format_percent(value: Any, decimals: int | None = None) -> str:
    """A rate or share (a fraction of 1) as a percentage: "55.0%", "0.55%"."""
    if not is_number(value):
        return as_text(value)
    if decimals is None:
        decimals = percent_decimals(value)
    return f"{100 * value:.{decimals}f}%"


def format_rate(value: Any, interval: Any = None) -> str:
    """A rate with its 95% interval, the three with one number of decimals:
    "55.0% (51.9–58.1%)"."""
    if not is_number(value):
        return as_text(value)
    bounds = interval_bounds(interval)
    decimals = percent_decimals(value, *(bounds or ()))
    shown = format_percent(value, decimals)
    if bounds:
        low, high = (format_percent(b, decimals).rstrip("%") for b in bounds)
        shown += f" ({low}{DASH}{high}%)"
    return shown


def format_fpr(value: Any) -> str:
    """A false-positive rate an attack is run or judged at: "1.0%", "0.10%"."""
    return format_percent(value)


def format_signed_percent(value: Any, decimals: int = 1) -> str:
    """A difference of rates or a relative change, with its sign: "+21.5%", "-3.0%"."""
    if not is_number(value):
        return as_text(value)
    return f"{100 * value:+.{decimals}f}%"


def format_signed_percent_interval(interval: Any, decimals: int = 1) -> str:
    """The interval of a difference of rates: "+14.0% to +29.0%"."""
    bounds = interval_bounds(interval)
    if bounds is None:
        return MISSING
    return f"{format_signed_percent(bounds[0], decimals)}{TO}{format_signed_percent(bounds[1], decimals)}"


# --- scores, differences, p-values ------------------------------------------------------

def format_decimal(value: Any, decimals: int) -> str:
    """A measurement at a fixed number of decimals (AUC 3, epsilon 2, bits 1)."""
    if not is_number(value):
        return as_text(value)
    return f"{value:,.{decimals}f}"


def format_auc(value: Any, interval: Any = None) -> str:
    """AUC, AUROC, AUPRC and other scores on [0, 1]: "0.967 (0.959–0.973)"."""
    return format_estimate(value, interval, 3)


def format_epsilon(value: Any, interval: Any = None) -> str:
    """A differential-privacy epsilon (lower bound): "3.15"."""
    return format_estimate(value, interval, 2)


def format_ratio(value: Any) -> str:
    """How many times more likely (a likelihood ratio): "42.3"."""
    return format_decimal(value, 1)


def format_bits(value: Any) -> str:
    """Canary exposure and other information amounts, in bits: "12.4"."""
    return format_decimal(value, 1)


def format_gap(value: Any, interval: Any = None, decimals: int = 3) -> str:
    """A difference (members minus non-members, a stratum minus the cohort), with its
    sign and its interval: "+0.305 (+0.102 to +0.508)"."""
    if not is_number(value):
        return as_text(value)
    shown = f"{value:+.{decimals}f}"
    if interval_bounds(interval):
        shown += f" ({format_gap_interval(interval, decimals)})"
    return shown


def format_gap_interval(interval: Any, decimals: int = 3) -> str:
    """The interval of a difference alone: "-0.297 to -0.096"."""
    bounds = interval_bounds(interval)
    if bounds is None:
        return MISSING
    return f"{bounds[0]:+.{decimals}f}{TO}{bounds[1]:+.{decimals}f}"


def format_p_value(value: Any) -> str:
    """p- and q-values: "0.012", "4.5e-9"."""
    if not is_number(value):
        return as_text(value)
    if value == 0:
        return "0"
    if value < 1e-3:
        return format_scientific(value)
    return f"{value:.3f}"


def format_interval(interval: Any, decimals: int = 3) -> str:
    """An interval alone, at fixed decimals: "0.959–0.973"."""
    bounds = interval_bounds(interval)
    if bounds is None:
        return MISSING
    return f"{bounds[0]:,.{decimals}f}{DASH}{bounds[1]:,.{decimals}f}"


def format_estimate(value: Any, interval: Any, decimals: int) -> str:
    """A value and its interval at the same decimals: "0.123 (0.050–0.200)"."""
    if not is_number(value):
        return as_text(value)
    shown = f"{value:,.{decimals}f}"
    if interval_bounds(interval):
        shown += f" ({format_interval(interval, decimals)})"
    return shown


def format_measure(value: Any, interval: Any = None, digits: int = 3) -> str:
    """A measurement of no more specific kind: `digits` significant digits, its interval at
    the same decimals so the three line up; scientific when fixed decimals cannot show it."""
    if not is_number(value):
        return as_text(value)
    decimals = 0 if isinstance(value, int) else significant_decimals(value, digits)
    bounds = interval_bounds(interval)
    if decimals is None:  # too large or too small for fixed decimals
        shown = format_general(value)
        if bounds:
            shown += f" ({format_general(bounds[0])}{DASH}{format_general(bounds[1])})"
        return shown
    return format_estimate(value, bounds, decimals)


def significant_decimals(value: float, digits: int = 3) -> int | None:
    """Decimals that show `digits` significant digits of value; None when it needs
    scientific notation (below 0.001 or from a million)."""
    if value == 0:
        return digits
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -3 or magnitude >= 6:
        return None
    return max(0, digits - 1 - magnitude)


def interval_bounds(interval: Any) -> tuple[float, float] | None:
    bounds = [b for b in interval if is_number(b)] if isinstance(interval, (list, tuple)) else []
    return (float(bounds[0]), float(bounds[1])) if len(bounds) == 2 else None


def format_score(value: Any) -> str:
    """One record's attack score (records.csv, the desktop's records table): 4 significant
    digits, enough to rank by."""
    if not is_number(value):
        return as_text(value, "")
    return f"{value:.4g}"


def format_rank(value: Any) -> str:
    """A code's rank among the model's next-code predictions (1: its first choice): "1", "48"."""
    if not is_number(value):
        return as_text(value)
    return f"{int(value):,}"


def format_probability(value: Any) -> str:
    """A model's probability of one token: 3 significant digits, scientific when tiny
    ("0.412", "3.1e-5")."""
    if not is_number(value):
        return as_text(value)
    if value != 0 and abs(value) < 1e-3:
        return format_scientific(value)
    return f"{value:.3g}"


# --- settings, sizes, durations ---------------------------------------------------------

def format_general(value: Any) -> str:
    """Thresholds and settings: as short as is exact enough (0.55, 10, 0.001)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if is_number(value):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return format_scientific(value)
        return f"{value:.4g}"
    if isinstance(value, float):  # nan or inf: say so rather than hide it
        return str(value)
    return as_text(value)


def format_scientific(value: float, digits: int = 1) -> str:
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"  # "4.0e-4", not "4.0e-04"


def format_bytes(value: Any) -> str:
    if not is_number(value):
        return as_text(value)
    size = float(value)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    if unit == "bytes":
        return f"{int(value):,} bytes"
    return f"{size:.1f} {unit} ({int(value):,} bytes)"


def format_seconds(value: Any) -> str:
    """A duration: "35.2 s", "4 min 05 s", "1 h 02 min"."""
    if not is_number(value):
        return as_text(value)
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds:02d} s"
