"""Calendar dates in free text, normalized to ``YYYY-MM-DD``."""

from __future__ import annotations

import re
from datetime import date, datetime

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTH_ABBR = r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_DATE_PATTERNS = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "ymd"),
    (re.compile(r"\b(\d{4})/(\d{1,2})/(\d{1,2})\b"), "ymd"),
    (re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b"), "dmy-numeric"),
    (re.compile(rf"\b({_MONTHS}|{_MONTH_ABBR})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE), "mdy"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS}|{_MONTH_ABBR})\.?,?\s+(\d{{4}})\b", re.IGNORECASE), "dmy"),
]


def _month_number(name: str) -> int:
    return [m[:3] for m in _MONTHS.split("|")].index(name[:3].lower()) + 1


def find_date(text: str) -> str | None:
    """The first calendar date in ``text`` as ``YYYY-MM-DD`` (None if none is valid)."""
    found: list[tuple[int, str]] = []
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            a, b, c = match.groups()
            try:
                if order == "ymd":
                    value = date(int(a), int(b), int(c))
                elif order == "mdy":
                    value = date(int(c), _month_number(a), int(b))
                elif order == "dmy-numeric":  # 12.03.2025, as written in most of Europe
                    value = date(int(c), int(b), int(a))
                else:
                    value = date(int(c), _month_number(b), int(a))
            except ValueError:
                continue
            found.append((match.start(), value.isoformat()))
            break
    return min(found)[1] if found else None


def normalize_date(value: str | None) -> str | None:
    """ISO date from a free-form date string (or an ISO timestamp), else None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return find_date(value)
