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


def split_front_matter(raw: str) -> tuple[dict[str, str], str]:
    """Markdown-style front matter (``---`` lines around ``key: value`` lines) and the text after it."""
    front: dict[str, str] = {}
    raw = raw.replace("\r\n", "\n").lstrip("\ufeff")
    match = _FRONT_MATTER.match(raw)
    if not match:
        return front, raw
    for line in match.group(1).splitlines():
        key_match = _KEY_LINE.match(line)
        if key_match:
            front[_canonical_key(key_match.group(1))] = key_match.group(2).strip().strip("\"'")
    return front, raw[match.end():]


def parse_text(raw: str) -> Draft:
    """Split an article's raw text into header metadata and body."""
    front, raw = split_front_matter(raw)
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


# The last word of a publication's name: "Harbour Times", "The Valley Courier", "Crescent International".
_PUBLICATION = re.compile(
    r"\b(Times|Post|Courier|Ledger|Tribune|Observer|Star|Journal|Gazette|News|Herald|Chronicle|Review|Daily|"
    r"Weekly|Monthly|Monitor|Wire|Today|Press|Express|Mail|Telegraph|Record|Standard|Examiner|Guardian|"
    r"Independent|Globe|Sun|Mirror|Bulletin|Dispatch|Enquirer|Inquirer|Register|Sentinel|Digest|Magazine|"
    r"International|Insider|Week|Beacon|Echo|Argus|Advertiser|Citizen|Voice|Messenger|Mercury|Almanac|Books)$")
# A desk, section or role in a byline: "City Desk", "Political Correspondent", "Staff and agencies".
_DESK = re.compile(r"\b(desk|correspondent|reporter|editor|bureau|staff|writer|contributor|columnist|section|"
                   r"affairs|agencies|team|analyst|critic|producer|chief|department|newsroom)s?\b", re.IGNORECASE)
_DATE_WORDS = re.compile(
    r"\b(published|posted|updated|last updated|first published|on|at|local|time|am|pm|a\.m\.|p\.m\.|gmt|utc|bst|cet|"
    r"cest|est|edt|pst|pdt|ist|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|"
    r"sun|jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|august|"
    r"september|october|november|december|st|nd|rd|th)\b|[\d:.,/|\-\u2013\u2014]", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*(?:,|\||\s[-\u2013\u2014]\s|\u2014|\u2013)\s*")
_WIRE_PREFIX = re.compile(r"^(?:UPDATE\s*\d*|CORRECTED|REFILE|EXCLUSIVE|BREAKING|ANALYSIS)\s*[-:\u2013\u2014]\s*")


def _is_title_case(text: str, max_words: int = 6) -> bool:
    words = text.split()
    return 0 < len(words) <= max_words and not any(c.isdigit() for c in text) and all(
        w[:1].isupper() or w.lower() in ("of", "and", "the", "for", "in", "on", "&") for w in words)


def _is_publication(text: str) -> bool:
    """A publication's name: a few capitalized words, the last a newspaper's ("Harbour Times")."""
    return _is_title_case(text) and bool(_PUBLICATION.search(text))


def _is_desk(text: str) -> bool:
    """A desk, section or role ("City Desk", "Political Correspondent"), not a publication."""
    return len(text.split()) <= 5 and bool(_DESK.search(text)) and not _PUBLICATION.search(text)


def _is_date_line(line: str) -> bool:
    """A line that is nothing but a date and a time ("Published 7 January 2025, 09:30")."""
    return find_date(line) is not None and not _DATE_WORDS.sub(" ", line).strip()


def _publication_and_date(line: str) -> tuple[str, str] | None:
    """``(publication, date)`` from "Harbour Times, 2025-06-02" or "The Valley Courier - March 3, 2024"."""
    parts = [p for p in _SEPARATOR.split(line, maxsplit=1) if p]
    if len(parts) == 2:
        for name, when in (parts, parts[::-1]):
            if _is_title_case(name) and not find_date(name) and _is_date_line(when):
                return name, find_date(when) or ""
    return None


def _name_and_role(line: str) -> str | None:
    """The name in "Kirsten Vale, Science Desk" (a name, then a desk or role)."""
    parts = [p for p in _SEPARATOR.split(line, maxsplit=1) if p]
    if len(parts) == 2 and _NAME_LINE.match(parts[0]) and _is_desk(parts[1]):
        return parts[0]
    return None


def _is_section(line: str) -> bool:
    """A section label such as "Health | Research" or "News & Analysis": short, no sentence."""
    return bool(re.fullmatch(r"[A-Z][\w&' -]{0,30}(\s*[|/>\u203a\u00bb]\s*[A-Z][\w&' -]{0,30})+", line)) or (
        _is_title_case(line, 3) and "&" in line)


def _header_meta(lines: list[str]) -> dict[str, str]:
    """Title, author, date and source from the header lines. Each line is read for what it is: a
    key line ("Author: ..."), a byline, a "Publication, date" line, a date line ("Published ...",
    "Updated ..."), a name with its desk, a publication, a desk or section label; the title is
    the first line that is none of these (a wire prefix such as "UPDATE 2-" dropped)."""
    meta: dict[str, str] = {}
    candidates, names = [], []
    updated = None
    for i, line in enumerate(lines):
        key = _KEY_LINE.match(line)
        by = _byline(line) if i > 0 else None
        dated = _publication_and_date(line)
        if key:
            meta.setdefault(_canonical_key(key.group(1)), key.group(2).strip())
        elif by:
            meta.setdefault("author", by.group("name"))
            source = _source_from(by.group("paren") or by.group("rest") or "", lines)
            if source:
                meta.setdefault("source", source)
        elif dated:
            meta.setdefault("source", dated[0])
            meta.setdefault("date", dated[1])
        elif _is_date_line(line):
            if re.match(r"\s*(last\s+)?updated\b", line, re.IGNORECASE):
                updated = updated or find_date(line)
            else:
                meta.setdefault("date", find_date(line) or "")
        elif _name_and_role(line):
            meta.setdefault("author", _name_and_role(line))
        elif _is_publication(line):
            meta.setdefault("source", line)
        elif _is_desk(line) or _is_section(line):
            continue
        else:
            if find_date(line) and "date" not in meta:  # a date inside another line ("Rabi' al-Awwal 15, 1442 2020-11-01")
                meta["date"] = find_date(line) or ""
                continue
            candidates.append(line)
            if _NAME_LINE.match(line) and len(line) <= 40:
                names.append(line)
    if updated and "date" not in meta:
        meta["date"] = updated
    if candidates:
        meta["title"] = _WIRE_PREFIX.sub("", candidates[0].lstrip("#").strip())
    elif lines:
        meta["title"] = lines[0].lstrip("#").strip()
    if "author" not in meta and len(candidates) > 1:  # a name on a line of its own, under the title
        author = next((n for n in names if n != candidates[0]), None)
        if author:
            meta["author"] = author
    return meta


def _source_from(extra: str, header_lines: list[str]) -> str | None:
    """The publication named in a byline's trailer, e.g. '(Section, Paper Vol. 4, No. 9, ...)'."""
    candidates = []
    for part in (p.strip() for p in extra.split(",") if p.strip()):
        name = re.split(r"\s+(?:Vol\.?|Volume|No\.?|Issue|Edition)\b", part)[0].strip()
        if not WORD.search(name) or find_date(part) or name in header_lines or _is_desk(name):
            continue
        candidates.append((name != part, name))  # (a periodical's name, the name)
    if not candidates:
        return None
    periodicals = [name for is_periodical, name in candidates if is_periodical]
    return periodicals[0] if periodicals else candidates[0][1]
