"""Stage 1, ingest: bytes, HTML, PDF and Markdown become an :class:`Article` (clean text, header
metadata, dates, an id)."""

from qa.ingest.article import Article, check_id, free_id, slugify
from qa.ingest.reader import SUFFIXES, article_files, from_bytes, from_fields, read_file

__all__ = ["Article", "SUFFIXES", "article_files", "check_id", "free_id", "from_bytes", "from_fields",
           "read_file", "slugify"]
