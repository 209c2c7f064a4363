"""Passages: overlapping windows of whole sentences.

A passage is a few consecutive sentences of one article, cut only at sentence
boundaries and kept under the embedding model's token limit. Windows overlap
so that an answer that straddles two sentences is whole in at least one
passage. The header block (title, byline, date) is one passage of its own, a
line to a "sentence": it never blurs into the first paragraph, a byline such
as "Vol. 49, No. 9" is not cut at its full stops, and a question about the
article itself (its headline, author, date) finds one card holding all of it
rather than overlapping fragments competing with each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

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
          token_len: Callable[[str], int] = _approx_tokens, header_max_tokens: int | None = None
          ) -> list[Passage]:
    """Split ``text`` into passages; an article with no sentences gives an empty list.

    ``header_max_tokens`` bounds the header card instead of ``config.max_tokens`` (the model
    may read other things before it than before the body's passages).
    """
    passages: list[Passage] = []
    for lo, hi, split, whole in ((0, body_start, split_lines, True),
                                 (body_start, len(text), split_sentences, False)):
        if hi <= lo:
            continue
        sentences = [piece for span in split(text, lo, hi)
                     for piece in _fit(text, span, config.max_tokens, token_len)]
        # The header: as few passages as the size limits allow, without overlap.
        cfg = (replace(config, size=len(sentences), stride=len(sentences),
                       max_tokens=header_max_tokens or config.max_tokens) if whole and sentences else config)
        for window in _windows(text, sentences, cfg, token_len):
            passages.append(Passage(len(passages), window[0][0], window[-1][1], tuple(window)))
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
