"""Text out of file formats: bytes to str, HTML to article text, PDF to text.

HTML is parsed with a real parser (BeautifulSoup over the standard library's
``html.parser``); scripts, styles, navigation, forms and other page furniture
are dropped, and block elements become paragraphs.
"""

from __future__ import annotations

import io
import re

from qa.errors import BadInput

_DROP_TAGS = ["script", "style", "noscript", "template", "svg", "canvas", "iframe", "nav", "footer",
              "aside", "form", "button", "input", "select", "textarea", "menu", "dialog", "object", "embed"]
_BLOCK_TAGS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption",
               "td", "th", "dt", "dd", "address", "div", "section", "article", "main", "header"]
_CHROME_CLASS = re.compile(r"(^|[-_ ])(nav|navbar|menu|breadcrumb|cookie|banner|share|social|"
                           r"newsletter|subscribe|related|comments?|sidebar|footer|advert|ads?|promo)([-_ ]|$)",
                           re.IGNORECASE)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused, not guessed."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BadInput("undecodable", f"text is not valid UTF-8 (byte {exc.start}): "
                                      "save the file as UTF-8 and try again") from None
    return check_text(text, "text")


def check_text(text: str, what: str) -> str:
    """Refuse text that cannot be stored and searched intact: NUL characters (SQLite's text
    functions stop at them) and unpaired surrogates (not Unicode at all; JSON can carry them)."""
    if "\x00" in text:
        raise BadInput("undecodable", f"{what} contains NUL characters; is this a binary file?")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadInput("undecodable", f"{what} is not valid Unicode (an unpaired surrogate at {exc.start})") from None
    return text


def html_text(html: str) -> tuple[str, dict[str, str | None]]:
    """Article text (paragraphs separated by blank lines) and metadata from an HTML page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    meta = {
        "title": _meta(soup, "og:title") or (soup.title.get_text(" ", strip=True) if soup.title else None),
        "author": _meta(soup, "author") or _meta(soup, "article:author"),
        "date": _meta(soup, "article:published_time") or _meta(soup, "date")
        or (soup.find("time").get("datetime") if soup.find("time") else None),
        "source": _meta(soup, "og:site_name"),
    }
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": ["navigation", "banner", "contentinfo", "complementary"]}):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        marks = " ".join(tag.get("class") or []) + " " + (tag.get("id") or "")
        if tag.name not in ("html", "body", "article", "main") and _CHROME_CLASS.search(marks):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    h1 = root.find("h1")
    if h1 and not meta["title"]:
        meta["title"] = h1.get_text(" ", strip=True)
    paragraphs = []
    for block in root.find_all(_BLOCK_TAGS):
        if block.find(_BLOCK_TAGS):
            continue  # only innermost blocks, so text is taken once
        text = re.sub(r"\s+", " ", block.get_text(" ")).strip()
        if text:
            paragraphs.append(text)
    if not paragraphs:
        loose = re.sub(r"[ \t]+", " ", root.get_text("\n")).strip()
        paragraphs = [line.strip() for line in loose.split("\n") if line.strip()]
    return "\n\n".join(paragraphs), meta


def _meta(soup, name: str) -> str | None:
    tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    content = tag.get("content") if tag else None
    return content.strip() if content and content.strip() else None


def pdf_text(data: bytes) -> str:
    """Text of a PDF's pages, pages separated by blank lines."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise BadInput("unreadable_pdf", f"could not read the PDF: {exc}") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())
