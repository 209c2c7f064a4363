"""Raw input to an :class:`Article`: a file, an upload, or API fields.

The corpus folder, the API and the CLI all read articles through these
functions, so an article reads the same however it arrives. Whatever a file's parser raises on a
hostile or broken file is a 400 ``unreadable_<kind>`` from this one place, never a 500.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Sequence

from qa.errors import BadInput, QAError, Unsupported
from qa.ingest.article import Article, check_id, slugify
from qa.ingest.dates import normalize_date
from qa.ingest.decode import check_text, decode
from qa.ingest.header import clean_field, header_title, parse_text, split_front_matter
from qa.ingest.html import html_text
from qa.ingest.markdown import markdown_text
from qa.ingest.pdf import pdf_text
from qa.ingest.prose import check_prose

MARKDOWN_SUFFIXES = {".md", ".markdown"}
TEXT_SUFFIXES = {".txt", ".text"} | MARKDOWN_SUFFIXES
log = logging.getLogger("qa.ingest")
SUFFIXES = TEXT_SUFFIXES | {".html", ".htm", ".pdf"}
FIELDS = ("title", "author", "date", "source")


def from_fields(text: object, title: object = None, author: object = None, date: object = None,
                source: object = None, article_id: object = None, headings: Sequence[str] | None = None) -> Article:
    """An article from API fields; metadata missing from the fields is read from the text's header.

    ``headings`` are the section headings a format marks (Markdown, HTML); for plain text (None)
    a short line standing alone between paragraphs is taken for one. Without ``article_id`` the id
    is left empty for the service to choose.
    """
    if not isinstance(text, str) or not text.strip():
        raise BadInput("empty_text", "article text is empty")
    for name, value in (("title", title), ("author", author), ("date", date), ("source", source),
                        ("id", article_id)):
        if value is not None and not isinstance(value, str):
            raise BadInput("invalid_field", f"'{name}' must be a string")
        if value is not None:
            check_text(value, f"'{name}'")
    draft = parse_text(check_prose(check_text(text, "article text")))
    return Article(
        id=check_id(article_id) if article_id else "",  # the service picks a free id from the title
        title=clean_field(title) or draft.title,
        text=draft.text,
        author=clean_field(author) or draft.author,
        date=(normalize_date(date) or clean_field(date)) if date else draft.date,
        source=clean_field(source) or draft.source,
        body_start=draft.body_start,
        headings=find_headings(draft.text, draft.body_start, headings),
    )


def from_bytes(data: bytes, filename: str, article_id: str | None = None, **fields: str | None) -> Article:
    """An article from an uploaded or read file, by its suffix; ``fields`` override what the file says."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise Unsupported("unsupported_type", f"unsupported file type {suffix or '(none)'!r}; use one of "
                                              + ", ".join(sorted(SUFFIXES)))
    try:
        text, meta, headings = _read(data, suffix)
    except QAError:
        raise
    except Exception as exc:  # noqa: BLE001 -- any parser's failure on a hostile file is that file's fault
        kind = "pdf" if suffix == ".pdf" else "html" if suffix in (".html", ".htm") else "text"
        log.info("unreadable %s upload %r: %r", kind, filename, exc)
        raise BadInput(f"unreadable_{kind}", f"could not read the {kind.upper()} file "
                                             f"({type(exc).__name__}: {str(exc)[:200]})") from None
    merged = {k: fields.get(k) or meta.get(k) for k in FIELDS}
    if not merged["title"] and not header_title(text):
        merged["title"] = Path(filename).stem.replace("_", " ").replace("-", " ").strip()
    return from_fields(text, merged["title"], merged["author"], merged["date"], merged["source"], article_id,
                       headings)


def _read(data: bytes, suffix: str) -> tuple[str, dict[str, str | None], list[str] | None]:
    """Text, metadata and headings of a file, by its suffix."""
    if suffix == ".pdf":
        return pdf_text(data), {}, None
    if suffix in (".html", ".htm"):
        return html_text(decode(data, html=True))
    if suffix in MARKDOWN_SUFFIXES:
        front, source = split_front_matter(decode(data))
        text, headings = markdown_text(source)
        return text, dict(front), headings
    return decode(data), {}, None


def read_file(path: Path, article_id: str | None = None) -> Article:
    """Read an article file; its id defaults to the file name's slug."""
    path = Path(path)
    return from_bytes(path.read_bytes(), path.name, article_id or slugify(path.stem))


def article_files(folder: Path) -> list[Path]:
    """Article files under ``folder`` by supported suffix, skipping hidden files and folders."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix.lower() in SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)]


_HEADING_LIKE = re.compile(r"[A-Z0-9\u00c0-\u024f][^\n]*[^\s.!?:;,\"'\u201d\u2019)\]]")


def find_headings(text: str, body_start: int, headings: Sequence[str] | None) -> tuple[tuple[int, int], ...]:
    """Offsets of the body's heading lines: lines that are one of the given headings, or (``None``)
    lines that look like one: a paragraph of its own of at most 10 words, capitalized, without
    closing punctuation, with more paragraphs after it."""
    spans = []
    lines, at = [], 0
    for line in text.split("\n"):
        lines.append((at, line))
        at += len(line) + 1
    wanted = list(headings or [])
    for n, (start, line) in enumerate(lines):
        stripped = line.strip()
        if start < body_start or not stripped:
            continue
        if headings is not None:
            if stripped in wanted:
                wanted.remove(stripped)
                spans.append((start + line.index(stripped), start + line.index(stripped) + len(stripped)))
            continue
        alone = (n == 0 or not lines[n - 1][1].strip()) and n + 2 < len(lines) and not lines[n + 1][1].strip()
        if alone and len(stripped.split()) <= 10 and _HEADING_LIKE.fullmatch(stripped):
            spans.append((start + line.index(stripped), start + line.index(stripped) + len(stripped)))
    return tuple(spans)
