"""A fetched page read as an article, by the same readers as an upload of that type."""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from qa.ingest import Article, from_bytes
from qa.sources.fetch import PAGE_TYPES, Fetched


def read_page(fetched: Fetched, article_id: str | None = None) -> Article:
    """The article a fetched page holds, linked to the URL it came from; the title falls back on the
    last part of the URL's path (a page without a headline)."""
    stem = PurePosixPath(unquote(urlsplit(fetched.url).path)).stem or urlsplit(fetched.url).hostname or "page"
    article = from_bytes(fetched.body, stem + PAGE_TYPES[fetched.content_type], article_id)
    return replace(article, url=fetched.url)
