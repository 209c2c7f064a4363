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


def examples(service: QAService, n: int = 3, articles: int = 5) -> list[str]:
    """Questions about the names the first ``articles`` articles mention most."""
    texts = []
    for row in service.articles(0, articles)["articles"]:
        try:
            texts.append(service.article(row["id"])["text"])
        except NotFound:  # removed since it was listed
            continue
    names = topics(" ".join(texts))
    return [f"What is said about {name}?" for name in names[:n]]


def topics(text: str) -> list[str]:
    """Names the text mentions most (capitalized words not opening a sentence), most frequent first."""
    counts: dict[str, int] = {}
    for match in _PROPER.finditer(text):
        name = match.group(1)
        if name.lower() not in _COMMON_CAPITALS:
            counts[name] = counts.get(name, 0) + 1
    return [name for name, count in sorted(counts.items(), key=lambda kv: -kv[1]) if count >= 2]
