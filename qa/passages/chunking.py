"""Passages: overlapping windows of whole sentences.

A passage is a few consecutive sentences of one article, cut only at sentence
boundaries and kept under the embedding model's token limit. Windows overlap
so that an answer that straddles two sentences is whole in at least one
passage. The header block (title, byline, date) is one passage of its own, a
line to a "sentence": it never blurs into the first paragraph, a byline such
as "Vol. 49, No. 9" is not cut at its full stops, and a question about the
article itself (its headline, author, date) finds one card holding all of it
rather than overlapping fragments competing with each other. Section headings
end a section: no window crosses one, and a heading is never a sentence (the
model reads it before each passage of its section, like the title).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

from qa.config import ChunkingConfig
from qa.passages.sentences import Span, split_lines, split_sentences


@dataclass(frozen=True)
class Passage:
    """Sentences ``sentences`` of an article; ``start``/``end`` are offsets into its text."""

    ord: int
    start: int
    end: int
    sentences: tuple[Span, ...]


def _approx_tokens(text: str) -> int:
    """A safe over-estimate of word pieces when no tokenizer is given."""
    return len(text) // 3 + 1


def chunk(text: str, body_start: int = 0, config: ChunkingConfig = ChunkingConfig(),
          token_len: Callable[[str], int] = _approx_tokens, header_max_tokens: int | None = None,
          headings: Sequence[Span] = (), section_max_tokens: Callable[[int], int] | None = None) -> list[Passage]:
    """Split ``text`` into passages; an article with no sentences gives an empty list.

    ``header_max_tokens`` bounds the header card instead of ``config.max_tokens`` (the model may
    read other things before it than before the body's passages). The body is cut section by
    section: each heading closes the section before it, and its line is no sentence of any
    passage. ``section_max_tokens(n)`` bounds the windows of section ``n`` (0 comes before the
    first heading) instead of ``config.max_tokens``: the model reads a section's heading first.
    """
    passages: list[Passage] = []

    def add(windows: list[list[Span]]) -> None:
        for window in windows:
            passages.append(Passage(len(passages), window[0][0], window[-1][1], tuple(window)))

    if body_start > 0:
        header_tokens = header_max_tokens or config.max_tokens
        lines = [piece for span in split_lines(text, 0, body_start)
                 for piece in _fit(text, span, header_tokens, token_len)]
        if lines:  # the header: as few passages as the size limits allow, without overlap
            add(_windows(text, lines, replace(config, size=len(lines), stride=len(lines), max_tokens=header_tokens),
                         token_len))
    bounds = [body_start, *(offset for span in headings for offset in span), len(text)]
    for n, (lo, hi) in enumerate(zip(bounds[::2], bounds[1::2])):
        if hi <= lo:
            continue
        section = replace(config, max_tokens=section_max_tokens(n)) if section_max_tokens else config
        sentences = [piece for span in split_sentences(text, lo, hi)
                     for piece in _fit(text, span, section.max_tokens, token_len)]
        add(_windows(text, sentences, section, token_len))
    return passages


def _windows(text: str, sentences: list[Span], config: ChunkingConfig,
             token_len: Callable[[str], int]) -> list[list[Span]]:
    windows = []
    i, n = 0, len(sentences)
    while i < n:
        j = i + 1
        while j < n and j - i < config.size:
            candidate = text[sentences[i][0]:sentences[j][1]]
            if len(candidate) > config.max_chars or token_len(candidate) > config.max_tokens:
                break
            j += 1
        windows.append(sentences[i:j])
        if j == n:
            break
        i = max(i + 1, min(i + config.stride, j))
    return windows


def _fit(text: str, span: Span, max_tokens: int, token_len: Callable[[str], int]) -> list[Span]:
    """A sentence too long for the model is cut at word boundaries (the only cut inside a sentence)."""
    start, end = span
    if token_len(text[start:end]) <= max_tokens:
        return [span]
    pieces: list[Span] = []
    while start < end:
        # A word piece covers at most 100 characters (longer words are one unknown token), so no
        # prefix longer than this can fit: the search never re-reads the whole rest of a huge sentence.
        lo, hi = start + 1, min(end, start + 101 * max_tokens)
        while lo < hi:  # longest prefix that fits
            mid = (lo + hi + 1) // 2
            if token_len(text[start:mid]) <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        cut = lo
        if cut < end:
            space = text.rfind(" ", start, cut)
            cut = space if space > start else cut
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    return pieces
