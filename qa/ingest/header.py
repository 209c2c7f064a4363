"""The header block of an article: the short lines before the body (headline, byline, date,
publication), and the metadata they hold. Markdown front matter is read here too."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.errors import BadInput
from qa.ingest.dates import find_date, normalize_date
from qa.ingest.text import WORD, clean_text

MAX_HEADER_LINES = 8

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_KEY_LINE = re.compile(r"^\s*(title|author|by|date|published|source|publication|publisher)\s*:\s*(.+)$",
                       re.IGNORECASE)
_BYLINE = re.compile(r"^\s*by\s+(?P<name>[^(|\n,]+?)\s*(?:[,|\u2013\u2014-]\s*(?P<rest>.*)|\((?P<paren>[^)]*)\)?.*)?$",
                     re.IGNORECASE)
_NAME_LINE = re.compile(r"^(?:[A-Z][\w.'\u2019-]*)(?:\s+(?:[A-Z][\w.'\u2019-]*|de|van|von|al|bin|la|le)){1,3}$")


@dataclass(frozen=True)
class Draft:
    """A cleaned text split into header metadata and body."""

    title: str
    text: str
    author: str | None
    date: str | None
    source: str | None
    body_start: int


def parse_text(raw: str) -> Draft:
    """Split an article's raw text into header metadata and body."""
    front: dict[str, str] = {}
    raw = raw.replace("\r\n", "\n").lstrip("\ufeff")
    match = _FRONT_MATTER.match(raw)
    if match:
        for line in match.group(1).splitlines():
            key_match = _KEY_LINE.match(line)
            if key_match:
                front[_canonical_key(key_match.group(1))] = key_match.group(2).strip().strip("\"'")
        raw = raw[match.end():]
    text = clean_text(raw)
    if not text:
        raise BadInput("empty_text", "article has no text once page furniture is removed")
    header_lines, body_start = _header(text)
    meta = _header_meta(header_lines)
    meta.update({k: v for k, v in front.items() if v})
    return Draft(
        title=clean_field(meta.get("title")) or header_title(text) or text[:80],
        text=text,
        author=clean_field(meta.get("author")),
        date=normalize_date(meta.get("date")) or clean_field(meta.get("date")),
        source=clean_field(meta.get("source")),
        body_start=body_start,
    )


def header_title(text: str) -> str | None:
    """The first line, as a title (a ``Title: ...`` line gives its value), if it is short enough."""
    for line in text.split("\n"):
        stripped = line.strip().lstrip("#").strip()
        if stripped:
            key = _KEY_LINE.match(stripped)
            if key and _canonical_key(key.group(1)) == "title":
                return key.group(2).strip()
            return stripped[:200] if len(stripped) <= 200 else None
    return None


def names_its_field(line: str) -> bool:
    """A line such as ``Author: Jane Doe`` that says what it holds."""
    return bool(_KEY_LINE.match(line))


def clean_field(value: str | None) -> str | None:
    """A metadata value on one line, at most 300 characters; None when empty."""
    if value is None:
        return None
    value = re.sub(r"\s+", " ", value).strip()
    return value[:300] or None


def _header(text: str) -> tuple[list[str], int]:
    """The short lines before the first body paragraph, and where the body starts."""
    header: list[str] = []
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            if len(header) >= MAX_HEADER_LINES or _looks_like_body(stripped):
                return header, offset
            header.append(stripped)
        offset += len(line) + 1
    return [], 0  # no body paragraph at all: the whole text is body


def _byline(line: str) -> re.Match | None:
    """A "By Jane Doe, The Times" line: short, and what follows "By" is a name (capitalized, or in a
    script without case, "the Associated Press" too) without digits, so a sentence such as
    "By 2030, the country ..." or "By the end of the week, ..." is not one."""
    if len(line) >= 200:
        return None
    match = _BYLINE.match(line)
    if match is None:
        return None
    name = match.group("name")
    bare = name[4:] if name.lower().startswith("the ") else name
    if bare[:1].islower() or any(c.isdigit() for c in name) or len(name.split()) > 5 \
            or re.search(r"[.!?]$", name):  # "By Tuesday the storm had passed."
        return None
    rest = match.group("rest") or ""
    if rest[:1].islower() and re.search(r"[.!?]$", rest) and len(rest.split()) >= 3:  # "By Monday, officials had left."
        return None
    return match


def _looks_like_body(line: str) -> bool:
    if _byline(line):
        return False
    return len(line) >= 150 or (len(line.split()) >= 8 and bool(re.search(r"[.!?][\"'\u201d]?$", line)))


def _canonical_key(key: str) -> str:
    key = key.lower()
    return {"by": "author", "published": "date", "publication": "source", "publisher": "source"}.get(key, key)


def _header_meta(lines: list[str]) -> dict[str, str]:
    meta: dict[str, str] = {}
    if lines:
        meta["title"] = lines[0].lstrip("#").strip()
    date_index = None
    for i, line in enumerate(lines):
        key = _KEY_LINE.match(line)
        if key:
            meta.setdefault(_canonical_key(key.group(1)), key.group(2).strip())
            continue
        by = _byline(line)
        if by and i > 0:
            meta.setdefault("author", by.group("name"))
            source = _source_from(by.group("paren") or by.group("rest") or "", lines)
            if source:
                meta.setdefault("source", source)
        if date_index is None and find_date(line):
            date_index = i
            meta.setdefault("date", find_date(line) or "")
    if "author" not in meta and date_index is not None:
        for j in (date_index - 1, date_index + 1):
            if 0 < j < len(lines) and _NAME_LINE.match(lines[j]) and len(lines[j]) <= 40:
                meta["author"] = lines[j]
                break
    return meta


def _source_from(extra: str, header_lines: list[str]) -> str | None:
    """The publication named in a byline's trailer, e.g. '(Section, Paper Vol. 4, No. 9, ...)'."""
    candidates = []
    for part in (p.strip() for p in extra.split(",") if p.strip()):
        name = re.split(r"\s+(?:Vol\.?|Volume|No\.?|Issue|Edition)\b", part)[0].strip()
        if not WORD.search(name) or find_date(part) or name in header_lines:
            continue
        candidates.append((name != part, name))  # (a periodical's name, the name)
    if not candidates:
        return None
    periodicals = [name for is_periodical, name in candidates if is_periodical]
    return periodicals[0] if periodicals else candidates[0][1]
