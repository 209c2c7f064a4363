"""Sentence splitting that works with no downloaded NLTK data.

NLTK's Punkt tokenizer is used with its installed English model when there is
one; otherwise with Punkt's own algorithm seeded with common English
abbreviations (``nltk.download`` cannot work offline). Text is first cut into
paragraphs at line breaks, because news text uses lines for headings, bylines
and paragraphs that carry no final full stop.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

Span = tuple[int, int]

# Abbreviations that end with a full stop but rarely end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt",
    "sgt", "capt", "cmdr", "adm", "rev", "hon", "st", "jr", "sr", "messrs",
    "jan", "feb", "apr", "aug", "sept", "oct", "nov", "dec",
    "u.s", "u.k", "u.n", "e.u", "u.s.a", "e.g", "i.e", "vs", "cf", "al",
    "inc", "corp", "ltd", "co", "dept", "est", "approx", "fig", "vol", "ed",
    "a.m", "p.m", "ph.d", "mt", "ft", "gov't",
}

# Curly quotes confuse Punkt's look at the next word; swap them for straight
# ones of the same length so that offsets stay valid.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_LINE = re.compile(r"[^\n]+")
_WORDY = re.compile(r"[^\W_]")  # a "sentence" of punctuation alone is not one


@lru_cache(maxsize=1)
def _tokenizer() -> PunktSentenceTokenizer:
    try:
        from nltk.tokenize import PunktTokenizer

        return PunktTokenizer("english")
    except (LookupError, ImportError, OSError, ValueError):
        params = PunktParameters()
        params.abbrev_types = set(_ABBREVIATIONS)
        return PunktSentenceTokenizer(params)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Return ``(start, end)`` character spans of the sentences in ``text[start:end]``.

    Spans are absolute offsets into ``text``, trimmed of surrounding white
    space, in order, and never overlap. Line breaks always end a sentence;
    a span with no letter or digit is not a sentence.
    """
    end = len(text) if end is None else end
    tokenizer = _tokenizer()
    spans: list[Span] = []
    for line in _LINE.finditer(text, start, end):
        line_text = line.group().translate(_QUOTES)
        if not line_text.strip():
            continue
        for a, b in tokenizer.span_tokenize(line_text):
            a, b = _trim(line_text, a, b)
            if _WORDY.search(line_text, a, b):
                spans.append((line.start() + a, line.start() + b))
    return spans


def split_lines(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Spans of the non-blank lines of ``text[start:end]``, trimmed: the units of a header block."""
    spans = []
    for line in _LINE.finditer(text, start, len(text) if end is None else end):
        a, b = _trim(text, line.start(), line.end())
        if _WORDY.search(text, a, b):
            spans.append((a, b))
    return spans


def _trim(text: str, a: int, b: int) -> Span:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
