"""Articles: clean text plus the metadata a reader wants (title, author, date, source).

Everything that turns raw input (a file, an upload, API fields) into an
:class:`Article` lives here, so the corpus folder, the API and the CLI read
articles the same way. Page chrome ("Privacy Policy | Terms of Use",
"Sign In", ...) is dropped so it can never come back as an answer.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from qa import extract
from qa.errors import BadInput

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
SUFFIXES = TEXT_SUFFIXES | {".html", ".htm", ".pdf"}
MAX_HEADER_LINES = 8


@dataclass(frozen=True)
class Article:
    """One article as stored: ``text`` is what passage offsets point into."""

    id: str
    title: str
    text: str
    author: str | None = None
    date: str | None = None
    source: str | None = None
    body_start: int = 0

    @property
    def content_hash(self) -> str:
        """Identity of everything that is indexed, to make re-adding a no-op."""
        digest = hashlib.sha256()
        for part in (self.title, self.author, self.date, self.source, self.text):
            digest.update((part or "").encode("utf-8") + b"\x00")
        return digest.hexdigest()


# --- identifiers -------------------------------------------------------------

def slugify(text: str, max_len: int = 80) -> str:
    """A readable, path-safe id: lower case ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "article"


def check_id(article_id: str) -> str:
    """Refuse ids that could escape a folder or break a URL."""
    if not isinstance(article_id, str) or not ID_PATTERN.match(article_id) or ".." in article_id:
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


# --- building articles -------------------------------------------------------

def from_fields(text: str, title: str | None = None, author: str | None = None,
                date_: str | None = None, source: str | None = None,
                article_id: str | None = None) -> Article:
    """An article from API fields; metadata missing from the fields is read from the text's header.

    Without ``article_id`` the id is left empty for the service to choose.
    """
    if not isinstance(text, str) or not text.strip():
        raise BadInput("empty_text", "article text is empty")
    for name, value in (("title", title), ("author", author), ("date", date_),
                        ("source", source), ("id", article_id)):
        if value is not None and not isinstance(value, str):
            raise BadInput("invalid_field", f"'{name}' must be a string")
        if value is not None:
            extract.check_text(value, f"'{name}'")
    draft = parse_text(extract.check_text(text, "article text"))
    final_title = _clean_field(title) or draft.title
    return Article(
        id=check_id(article_id) if article_id else "",  # the service picks a free id from the title
        title=final_title,
        text=draft.text,
        author=_clean_field(author) or draft.author,
        date=(normalize_date(date_) or _clean_field(date_)) if date_ else draft.date,
        source=_clean_field(source) or draft.source,
        body_start=draft.body_start,
    )


def from_bytes(data: bytes, filename: str, article_id: str | None = None,
               **fields: str | None) -> Article:
    """An article from an uploaded or read file, by its suffix."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInput("unsupported_type",
                       f"unsupported file type {suffix or '(none)'!r}; use one of "
                       + ", ".join(sorted(SUFFIXES)), status=415)
    meta: dict[str, str | None] = {}
    if suffix == ".pdf":
        text = extract.pdf_text(data)
    else:
        decoded = extract.decode(data, html=suffix in (".html", ".htm"))
        if suffix in (".html", ".htm"):
            text, meta = extract.html_text(decoded)
        else:
            text = decoded
    merged = {k: fields.get(k) or meta.get(k) for k in ("title", "author", "date", "source")}
    if not merged["title"] and not _header_title(text):
        merged["title"] = Path(filename).stem.replace("_", " ").replace("-", " ").strip()
    article = from_fields(text, merged["title"], merged["author"], merged["date"],
                          merged["source"], article_id)
    return article


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


# --- text analysis -----------------------------------------------------------

@dataclass(frozen=True)
class Draft:
    title: str
    text: str
    author: str | None
    date: str | None
    source: str | None
    body_start: int


_CHROME = re.compile(
    r"privacy policy|terms (?:of|and) (?:use|service|conditions)|cookie (?:policy|settings|preferences)"
    r"|sign(?:ed)? ?in|sign ?up|log ?in|log ?out|forgot(?: your)? password|not a member|create an account"
    r"|subscribe(?: now)?|newsletter|all rights reserved|copyrights?|\u00a9|share (?:this|on)|follow us"
    r"|advertisement|skip to (?:main )?content|related (?:articles|posts|stories)|read more|click here"
    r"|back to top|print this|email this|contact us|about us|site ?map|accessibility",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_KEY_LINE = re.compile(r"^\s*(title|author|by|date|published|source|publication|publisher)\s*:\s*(.+)$",
                       re.IGNORECASE)
_BYLINE = re.compile(r"^\s*by\s+(?P<name>[^(|\n,]+?)\s*(?:[,|\u2013\u2014-]\s*(?P<rest>.*)|\((?P<paren>[^)]*)\)?.*)?$",
                     re.IGNORECASE)
_NAME_LINE = re.compile(r"^(?:[A-Z][\w.'\u2019-]*)(?:\s+(?:[A-Z][\w.'\u2019-]*|de|van|von|al|bin|la|le)){1,3}$")
_SENTENCE_END = re.compile(r"[.!?:;\"'\u201d\u2019)\]]$")


def is_chrome(line: str) -> bool:
    """A short line made of site furniture (navigation, legal, account links)."""
    stripped = line.strip()
    if not stripped or len(stripped) > 80 or not _CHROME.search(stripped):
        return False
    if re.match(r"(?:copyrights?\b|\u00a9|\(c\)\s)", stripped, re.IGNORECASE):
        return True
    return len(_WORD.findall(_CHROME.sub(" ", stripped))) <= 2


def clean_text(raw: str) -> str:
    """Normalize line breaks and spaces, re-flow hard-wrapped lines, drop chrome lines."""
    text = raw.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\t", " ")
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    lines = [line for line in _reflow(lines) if not is_chrome(line)]
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return cleaned


def _reflow(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines: a line that does not end a sentence followed by one starting in lower case.

    Each joined line is kept as its pieces and their separators and joined once, so a long
    hard-wrapped text costs linear time (joining as it went made a 5 MB file take minutes)."""
    out: list[list[str]] = []
    for line in lines:
        last = out[-1][-1] if out else ""
        if last and line and line[0].islower() and not _SENTENCE_END.search(last):
            if last.endswith("-") and last[-2:-1].isalpha():  # a word hyphenated across lines
                out[-1][-1] = last[:-1]
                out[-1] += ["", line]
            else:
                out[-1] += [" ", line]
        else:
            out.append([line])
    return ["".join(pieces) for pieces in out]


def parse_text(raw: str) -> Draft:
    """Split a cleaned article into header metadata and body."""
    front: dict[str, str] = {}
    match = _FRONT_MATTER.match(raw.replace("\r\n", "\n").lstrip("\ufeff"))
    if match:
        for line in match.group(1).splitlines():
            key_match = _KEY_LINE.match(line)
            if key_match:
                front[_canonical_key(key_match.group(1))] = key_match.group(2).strip().strip("\"'")
        raw = raw.replace("\r\n", "\n").lstrip("\ufeff")[match.end():]
    text = clean_text(raw)
    if not text:
        raise BadInput("empty_text", "article has no text once page furniture is removed")
    header_lines, body_start = _header(text)
    meta = _header_meta(header_lines)
    meta.update({k: v for k, v in front.items() if v})
    title = _clean_field(meta.get("title")) or _header_title(text) or text[:80]
    return Draft(
        title=title,
        text=text,
        author=_clean_field(meta.get("author")),
        date=normalize_date(meta.get("date")) or _clean_field(meta.get("date")),
        source=_clean_field(meta.get("source")),
        body_start=body_start,
    )


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
    # No body paragraph at all: the whole text is body.
    return [], 0


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
    words = line.split()
    if _byline(line):
        return False
    return len(line) >= 150 or (len(words) >= 8 and bool(re.search(r"[.!?][\"'\u201d]?$", line)))


def _header_title(text: str) -> str | None:
    for line in text.split("\n"):
        stripped = line.strip().lstrip("#").strip()
        if stripped:
            key = _KEY_LINE.match(stripped)
            if key and _canonical_key(key.group(1)) == "title":
                return key.group(2).strip()
            return stripped[:200] if len(stripped) <= 200 else None
    return None


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
            extra = by.group("paren") or by.group("rest") or ""
            source = _source_from(extra, lines)
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
    parts = [p.strip() for p in extra.split(",") if p.strip()]
    candidates = []
    for part in parts:
        name = re.split(r"\s+(?:Vol\.?|Volume|No\.?|Issue|Edition)\b", part)[0].strip()
        if not _WORD.search(name) or find_date(part) or name in header_lines:
            continue
        periodical = name != part
        candidates.append((periodical, name))
    if not candidates:
        return None
    periodicals = [name for is_periodical, name in candidates if is_periodical]
    return periodicals[0] if periodicals else candidates[0][1]


def field_label(article: Article, line: str) -> str:
    """What a header line holds, as a label for the model to read before it: ``"Headline: "``,
    ``"Author: "``, ``"Source: "``, ``"Byline: "`` (author and publication), ``"Date: "`` or ``""``
    (also for a line that names its field itself, such as ``"Author: Jane Doe"``)."""
    text = line.strip().lstrip("#").strip()
    if _KEY_LINE.match(text):
        return ""
    if text == article.title:
        return "Headline: "
    held = [name for name, value in (("Author", article.author), ("Source", article.source))
            if value and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text)]
    if held:
        return "Byline: " if len(held) == 2 else f"{held[0]}: "
    return "Date: " if find_date(text) else ""


_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][A-Za-z-]{2,}(?:\s[A-Z][A-Za-z-]{2,})?)", re.MULTILINE)


def topics(text: str) -> list[str]:
    """Names the text mentions most (capitalized words not opening a sentence), most frequent first."""
    counts: dict[str, int] = {}
    for match in _PROPER.finditer(text):
        name = match.group(1)
        if name.lower() not in _COMMON_CAPITALS:
            counts[name] = counts.get(name, 0) + 1
    return [name for name, count in sorted(counts.items(), key=lambda kv: -kv[1]) if count >= 2]


_COMMON_CAPITALS = {"the", "this", "that", "these", "those", "but", "and", "however", "while", "after", "before",
                    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
                    "february", "march", "april", "may", "june", "july", "august", "september", "october",
                    "november", "december", "news", "analysis", "privacy", "policy"}


# --- dates -------------------------------------------------------------------

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTH_ABBR = r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_DATE_PATTERNS = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "ymd"),
    (re.compile(r"\b(\d{4})/(\d{1,2})/(\d{1,2})\b"), "ymd"),
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


def _clean_field(value: str | None) -> str | None:
    if value is None:
        return None
    value = re.sub(r"\s+", " ", value).strip()
    return value[:300] or None
