"""Example questions for the page, about what the corpus talks about most."""

from __future__ import annotations

import re

from qa.errors import NotFound
from qa.service import QAService

_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][A-Za-z-]{2,}(?:\s[A-Z][A-Za-z-]{2,})?)", re.MULTILINE)
_COMMON_CAPITALS = {"the", "this", "that", "these", "those", "but", "and", "however", "while", "after", "before",
                    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
                    "february", "march", "april", "may", "june", "july", "august", "september", "october",
                    "november", "december", "news", "analysis", "privacy", "policy"}


def examples(service: QAService, n: int = 3) -> list[str]:
    """A question each about the name the ``n`` most recently added articles mention most (the
    most frequent names of the newest article when there are fewer)."""
    total = service.articles(0, 1)["total"]
    names: list[str] = []
    for row in reversed(service.articles(max(0, total - n), n)["articles"]):
        try:
            found = topics(service.article(row["id"])["text"])
        except NotFound:  # removed since it was listed
            continue
        names += [name for name in found if name not in names][:1 if total >= n else n]
    return [f"What is said about {name}?" for name in names[:n]]


def topics(text: str) -> list[str]:
    """Names the text mentions most (capitalized words not opening a sentence), most frequent first."""
    counts: dict[str, int] = {}
    for match in _PROPER.finditer(text):
        name = match.group(1)
        if name.lower() not in _COMMON_CAPITALS:
            counts[name] = counts.get(name, 0) + 1
    return [name for name, count in sorted(counts.items(), key=lambda kv: -kv[1]) if count >= 2]
