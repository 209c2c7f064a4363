"""Text out of file formats: bytes to str, HTML to article text, PDF to text.

HTML is parsed with a real parser (BeautifulSoup over the standard library's
``html.parser``); scripts, styles, navigation, forms and other page furniture
are dropped, and block elements become paragraphs.
"""

from __future__ import annotations

import codecs
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


_DECLARED_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def decode(data: bytes, html: bool = False) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or the charset an HTML page declares in a
    ``<meta>`` tag of its first 4 kB; anything else is refused, not guessed."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
        declared = _DECLARED_CHARSET.search(data[:4096]) if html else None
        if declared:
            encoding = _html_encoding(declared.group(1).decode("ascii"))
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BadInput("undecodable", f"text is not valid {encoding.upper().removesuffix('-SIG')} "
                                      f"(byte {exc.start}): save the file as UTF-8 and try again") from None
    return check_text(text, "text")


def _html_encoding(label: str) -> str:
    """The codec for a page's declared charset, read as browsers do (WHATWG Encoding): Latin-1 and
    ASCII labels mean Windows-1252, a UTF-16/32 label on a page without a byte-order mark means
    UTF-8, and an unknown label or a codec that is not a text encoding ("hex") means UTF-8."""
    try:
        info = codecs.lookup(label)
    except LookupError:
        return "utf-8-sig"
    if not getattr(info, "_is_text_encoding", True) or info.name.startswith(("utf-16", "utf-32", "utf-8")):
        return "utf-8-sig"
    return {"iso8859-1": "cp1252", "ascii": "cp1252"}.get(info.name, info.name)


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
    paragraphs_on_page = len(soup.find_all("p"))
    for tag in soup.find_all(True):
        if vars(tag).get("_decomposed"):  # inside furniture dropped already; read directly, because
            continue                      # bs4's `decomposed` on a live tag searches its whole subtree
        marks = " ".join(tag.get("class") or []) + " " + (tag.get("id") or "")
        if tag.name not in ("html", "body", "article", "main") and _CHROME_CLASS.search(marks) \
                and not _holds_the_article(tag, paragraphs_on_page):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    h1 = root.find("h1")
    if h1 and not meta["title"]:
        meta["title"] = h1.get_text(" ", strip=True)
    paragraphs = _paragraphs(root)
    return "\n\n".join(paragraphs), meta


def _holds_the_article(tag, paragraphs_on_page: int) -> bool:
    """A wrapper whose class merely mentions furniture ("content has-sidebar") but holds the story."""
    if tag.find(["article", "main"]):
        return True
    return paragraphs_on_page > 0 and 2 * len(tag.find_all("p")) > paragraphs_on_page


def _paragraphs(root) -> list[str]:
    """The text of ``root`` in document order, a paragraph per block element; text sitting between
    blocks ("<div><h2>..</h2>loose text<p>..</p></div>") is a paragraph of its own, ``<br>`` a line break."""
    from bs4 import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction

    paragraphs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        lines = (line.strip() for line in "".join(current).split("\n"))
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
        current.clear()

    stack = [(iter(root.children), False)]  # (children still to read, inside a block?); no recursion,
    while stack:                             # so no nesting depth can overflow it
        children, in_block = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if in_block:
                flush()
        elif isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
            continue
        elif isinstance(child, NavigableString):
            current.append(re.sub(r"\s+", " ", str(child)))
        elif child.name == "br":
            current.append("\n")
        else:
            block = child.name in _BLOCK_TAGS
            if block:
                flush()
            stack.append((iter(child.children), block))
    flush()
    return paragraphs


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
