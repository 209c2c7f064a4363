"""Stage 0, sources: articles fetched from the web by their URL, and RSS/Atom feeds followed in the
background. What is fetched is read by the same readers as an upload (stage 1, ingest)."""

from qa.sources.fetch import FEED_TYPES, PAGE_TYPES, Fetched, Fetcher, check_url

__all__ = ["FEED_TYPES", "Fetched", "Fetcher", "PAGE_TYPES", "check_url"]
