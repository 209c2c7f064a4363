"""The article as stored, and its identifiers.

``text`` is what every passage offset points into; ``body_start`` is where
the header block (title, byline, date lines) ends and the body begins.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from qa.errors import BadInput

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    author: str | None = None
    date: str | None = None
    source: str | None = None
    body_start: int = 0
    headings: tuple[tuple[int, int], ...] = ()  # section headings in the body: offsets of their lines
    url: str | None = None  # where it was fetched from (its link), for an article added by URL

    @classmethod
    def from_dict(cls, data: dict) -> "Article":
        """The inverse of :func:`dataclasses.asdict` (after a round trip through JSON)."""
        return cls(**{**data, "headings": tuple(tuple(span) for span in data.get("headings", ()))})

    @property
    def content_hash(self) -> str:
        """Identity of everything that is indexed, to make re-adding a no-op."""
        digest = hashlib.sha256()
        for part in (self.title, self.author, self.date, self.source, self.text):
            digest.update((part or "").encode("utf-8") + b"\x00")
        if self.headings:
            digest.update(repr(self.headings).encode())
        if self.url:
            digest.update(b"url\x00" + self.url.encode("utf-8"))
        return digest.hexdigest()


def slugify(text: str, max_len: int = 80) -> str:
    """A readable, path-safe id: lower case ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "article"


def check_id(article_id: object) -> str:
    """Refuse ids that could escape a folder or break a URL."""
    if not isinstance(article_id, str) or not ID_PATTERN.fullmatch(article_id) or ".." in article_id:
        raise BadInput(
            "invalid_id",
            "article id must be 1-128 characters of letters, digits, '.', '_' or '-', "
            "start with a letter or digit, and not contain '..'",
        )
    return article_id


def free_id(slug: str, taken: Callable[[str], bool]) -> str:
    """``slug``, or the first of ``slug-2``, ``slug-3``, ... that is not ``taken``."""
    candidate, n = slug, 1
    while taken(candidate):
        n += 1
        candidate = f"{slug}-{n}"
    return candidate
