"""What the pages show, shaped for people: confidence in words, results grouped by article with no
sentence shown twice, and an article's body as paragraphs and headings with a passage marked."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import urlencode

# Above each bound, the word for a confidence: the probability that the passage holds the answer.
POSSIBLE = 0.2
_WORDS = ((0.8, "very likely"), (0.5, "likely"), (POSSIBLE, "possibly"), (0.0, "unlikely"))


def in_words(confidence: float) -> str:
    """``"likely, 64%"`` for a confidence of 0.64."""
    word = next(word for bound, word in _WORDS if confidence >= bound)
    return f"{word}, {round(100 * confidence)}%"


def reader_link(article_id: str, start: int, end: int, answer: tuple[int, int] | None = None) -> str:
    """The reader page with a passage (and its answer sentence) marked."""
    params = {"start": start, "end": end}
    if answer:
        params.update(answer_start=answer[0], answer_end=answer[1])
    return f"/articles/{article_id}?{urlencode(params)}#passage"


@dataclass
class Excerpt:
    """Overlapping passages of one article merged into one run of text, with the answer sentence of
    the most confident of them marked."""

    start: int
    end: int
    text: str
    answer: tuple[int, int]  # absolute offsets
    confidence: float
    link: str = ""

    @property
    def unlikely(self) -> bool:
        """Too unlikely to hold the answer for its answer sentence to be marked as one."""
        return self.confidence < POSSIBLE

    def segments(self) -> list[tuple[str, bool]]:
        """``(text, is the answer)`` pieces, in order."""
        a, b = self.answer[0] - self.start, self.answer[1] - self.start
        return [(text, marked) for text, marked in ((self.text[:a], False), (self.text[a:b], True),
                                                    (self.text[b:], False)) if text]


@dataclass
class Group:
    """An article's results: the article once, then its excerpts."""

    article: dict
    confidence: float
    excerpts: list[Excerpt] = field(default_factory=list)
    copies: list[dict] = field(default_factory=list)  # republished copies that carry the same passages
    matches: int | None = None  # grouped by the service: the article's passages among those ranked

    @property
    def byline(self) -> str:
        return " · ".join(x for x in (self.article.get("author"), self.article.get("date"),
                                      self.article.get("source")) if x)


def grouped(results: list[dict]) -> list[Group]:
    """Results grouped by article (in the order of each article's best result); within an article,
    passages that overlap are merged, so no sentence is shown twice."""
    groups: dict[str, Group] = {}
    for r in results:
        group = groups.setdefault(r["article"]["id"], Group(r["article"], r["confidence"], copies=r["copies"],
                                                            matches=r.get("matches")))
        group.confidence = max(group.confidence, r["confidence"])
        answer = (r["answer_start"], r["answer_end"])
        for excerpt in group.excerpts:
            if r["start"] < excerpt.end and excerpt.start < r["end"]:  # overlapping: one run of text
                _merge(excerpt, r, answer)
                break
        else:
            group.excerpts.append(Excerpt(r["start"], r["end"], r["text"], answer, r["confidence"]))
    for group in groups.values():
        group.excerpts.sort(key=lambda e: -e.confidence)  # the best first
        for excerpt in group.excerpts:
            excerpt.link = reader_link(group.article["id"], excerpt.start, excerpt.end, excerpt.answer)
    return list(groups.values())


def _merge(excerpt: Excerpt, result: dict, answer: tuple[int, int]) -> None:
    if result["start"] < excerpt.start:
        excerpt.text = result["text"][:excerpt.start - result["start"]] + excerpt.text
        excerpt.start = result["start"]
    if result["end"] > excerpt.end:
        excerpt.text += result["text"][excerpt.end - result["start"]:]
        excerpt.end = result["end"]
    if result["confidence"] > excerpt.confidence:
        excerpt.answer, excerpt.confidence = answer, result["confidence"]


@dataclass(frozen=True)
class Chip:
    """A facet value as a link that filters by it (or, when it is the filter already, drops it)."""

    label: str
    count: int
    href: str
    active: bool


def facet_links(params: Iterable[tuple[str, str]], facets: dict) -> list[tuple[str, list[Chip]]]:
    """The ask's facets as chips: each links to the same question with that source, or that month's
    dates, as the filter (``params`` are the page's query parameters)."""
    params = [(key, value) for key, value in params if value]
    chosen = {key: [v for k, v in params if k == key] for key in ("source", "from", "to")}
    sources = []
    for row in facets.get("source", []):
        active = row["value"] in chosen["source"]
        sources.append(Chip(row["value"], row["count"],
                            _link(params, ("source",), [] if active else [("source", row["value"])]), active))
    months = []
    for row in facets.get("month", []):
        year, month = (int(x) for x in row["value"].split("-"))
        bounds = [("from", f"{row['value']}-01"), ("to", f"{row['value']}-{calendar.monthrange(year, month)[1]:02d}")]
        active = [(k, v) for k, v in params if k in ("from", "to")] == bounds
        months.append(Chip(row["value"], row["count"], _link(params, ("from", "to"), [] if active else bounds), active))
    return [("Sources", sources), ("Months", months)]


def list_link(listing: dict, offset: int) -> str:
    """The page with the article list at ``offset``, searched and sorted as ``listing`` is."""
    params = {"list_title": listing["title"], "list_sort": listing["sort"], "list_offset": max(0, offset)}
    return "/?" + urlencode({k: v for k, v in params.items() if v}) + "#corpus-heading"


def _link(params: list[tuple[str, str]], replaced: tuple[str, ...], new: list[tuple[str, str]]) -> str:
    return "/?" + urlencode([(k, v) for k, v in params if k not in replaced] + new)


@dataclass
class Block:
    """A heading or a paragraph of the reader page: ``(text, mark)`` pieces, where mark is "",
    "passage" or "answer"."""

    heading: bool
    pieces: list[tuple[str, str]]


def reader_blocks(article: dict, passage: tuple[int, int] | None, answer: tuple[int, int] | None) -> list[Block]:
    """The article's body (its header is shown apart) as headings and paragraphs, with the passage
    and, inside it, its answer sentence marked."""
    text, body = article["text"], article["body_start"]
    headings = {tuple(span) for span in article["headings"]}
    blocks, at = [], body
    for paragraph in text[body:].split("\n\n"):
        start, end = at, at + len(paragraph)
        at = end + 2
        lead = len(paragraph) - len(paragraph.lstrip())
        start, end = start + lead, start + len(paragraph.rstrip())
        if end <= start:
            continue
        blocks.append(Block((start, end) in headings, _pieces(text, start, end, passage, answer)))
    return blocks


def _pieces(text: str, start: int, end: int, passage, answer) -> list[tuple[str, str]]:
    cuts = {start, end}
    for span in (passage, answer):
        if span:
            cuts |= {min(max(x, start), end) for x in span}
    bounds = sorted(cuts)
    pieces = []
    for a, b in zip(bounds, bounds[1:]):
        mark = ("answer" if answer and answer[0] <= a and b <= answer[1] else
                "passage" if passage and passage[0] <= a and b <= passage[1] else "")
        pieces.append((text[a:b], mark))
    return pieces
