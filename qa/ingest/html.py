"""HTML to article text and metadata.

The page is parsed with a real parser (BeautifulSoup over the standard
library's ``html.parser``); scripts, styles, navigation, forms and other page
furniture are dropped, and block elements become paragraphs.
"""

from __future__ import annotations

import re

_DROP_TAGS = ["script", "style", "noscript", "template", "svg", "canvas", "iframe", "nav", "footer",
              "aside", "form", "button", "input", "select", "textarea", "menu", "dialog", "object", "embed"]
_BLOCK_TAGS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption",
               "td", "th", "dt", "dd", "address", "div", "section", "article", "main", "header"]
_CHROME_CLASS = re.compile(r"(^|[-_ ])(nav|navbar|menu|breadcrumb|cookie|banner|share|social|"
                           r"newsletter|subscribe|related|comments?|sidebar|footer|advert|ads?|promo)([-_ ]|$)",
                           re.IGNORECASE)


def html_text(html: str) -> tuple[str, dict[str, str | None], list[str]]:
    """Article text (paragraphs separated by blank lines), metadata, and the section headings
    (``h2``-``h6``) of an HTML page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    meta = {
        "title": _meta(soup, "og:title"),
        "author": _meta(soup, "author") or _meta(soup, "article:author"),
        "date": _meta(soup, "article:published_time") or _meta(soup, "date")
        or (soup.find("time").get("datetime") if soup.find("time") else None),
        "source": _meta(soup, "og:site_name"),
    }
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": ["navigation", "banner", "contentinfo", "complementary"]}):
        tag.decompose()
    tags = soup.find_all(True)
    inside = _contents(tags)
    paragraphs_on_page = sum(tag.name == "p" for tag in tags)
    for tag in tags:
        if vars(tag).get("_decomposed"):  # inside furniture dropped already; read directly, because
            continue                      # bs4's `decomposed` on a live tag searches its whole subtree
        marks = " ".join(tag.get("class") or []) + " " + (tag.get("id") or "")
        if tag.name not in ("html", "body", "article", "main") and _CHROME_CLASS.search(marks) \
                and not _holds_the_article(inside[id(tag)], paragraphs_on_page):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    h1 = root.find("h1")
    headline, site = _split_site(page_title)
    if h1 is not None and headline:  # "headline | Site" beside the page's own headline: the site is its source
        meta["source"] = meta["source"] or site
    meta["title"] = meta["title"] or (h1.get_text(" ", strip=True) if h1 else None) or page_title or None
    paragraphs = _paragraphs(root)
    headings = [" ".join(h.get_text(" ", strip=True).split()) for h in root.find_all(["h2", "h3", "h4", "h5", "h6"])]
    return "\n\n".join(paragraphs), meta, [h for h in headings if h]


_SITE_SEPARATOR = re.compile(r"\s+[|\u2013\u2014-]\s+")


def _split_site(title: str) -> tuple[str, str | None]:
    """A ``<title>`` as "headline | Site" (or "headline - Site"): the headline, and the site's name
    when a short last part follows the separator."""
    parts = _SITE_SEPARATOR.split(title.strip())
    if len(parts) > 1 and len(parts[-1].split()) <= 4:
        return " - ".join(parts[:-1]), parts[-1]
    return title.strip(), None


def _contents(tags: list) -> dict[int, tuple[int, bool]]:
    """For each tag (by ``id``): the ``<p>`` elements inside it, and whether an ``<article>`` or
    ``<main>`` is, counted in one pass from the last tag back (children before their parents), so
    that checking every nested wrapper is linear in the page, not quadratic in its depth. Dropping
    a wrapper later never changes these for the tags still to be checked: they come after it in
    document order, so none of them holds it."""
    from bs4 import Tag

    inside: dict[int, tuple[int, bool]] = {}
    for tag in reversed(tags):
        paragraphs, story = 0, False
        for child in tag.contents:
            if isinstance(child, Tag):
                count, holds = inside[id(child)]
                paragraphs += count + (child.name == "p")
                story = story or holds or child.name in ("article", "main")
        inside[id(tag)] = (paragraphs, story)
    return inside


def _holds_the_article(contents: tuple[int, bool], paragraphs_on_page: int) -> bool:
    """A wrapper whose class merely mentions furniture ("content has-sidebar") but holds the story."""
    paragraphs, story = contents
    return story or (paragraphs_on_page > 0 and 2 * paragraphs > paragraphs_on_page)


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
