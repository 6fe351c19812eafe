"""Masked examples of detected identifiers: what the report may show instead of a value.

A masked example names the category, the length and the class of the first character
(`PHONE(12 chars, digit)`), enough for a reviewer to see what kind of string came out
without learning the identifier itself (compliance.md 6: category-masked examples,
never raw text).
"""

from __future__ import annotations


def first_class(value: str) -> str:
    if not value:
        return "empty"
    ch = value[0]
    if ch.isdigit():
        return "digit"
    if ch.isalpha():
        return "upper-case letter" if ch.isupper() else "lower-case letter"
    return "symbol"


def masked(category: str, value: str) -> str:
    return f"{category.upper()}({len(value)} chars, {first_class(value)})"
