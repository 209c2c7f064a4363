"""Ranked passages with their answer sentence, and which of them add nothing new: a passage
whose answer is already inside a better passage of the same article is not shown again."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.engines.contracts import StoredPassage
from qa.passages.sentences import Span


@dataclass(frozen=True)
class Hit:
    passage: StoredPassage
    score: float
    answer: Span  # offsets of the answer sentence in ``passage.text``
    confidence: float = 0.0  # the estimated probability that the passage holds the answer


def already_shown(hit: Hit, shown: list[Hit]) -> bool:
    """Whether the hit's answer sentence is already inside a better passage of the same article."""
    p = hit.passage
    a, b = p.start + hit.answer[0], p.start + hit.answer[1]
    return any(q.passage.article_id == p.article_id and q.passage.start <= a and b <= q.passage.end
               for q in shown)


def coverage(words: list[tuple[str, ...]], idf: dict[str, float]) -> np.ndarray:
    """Share of the question's idf mass in each sentence's terms: rare shared words count most."""
    total = sum(idf.values())
    if total <= 0:
        return np.zeros(len(words), np.float32)
    return np.array([sum(idf.get(t, 0.0) for t in terms) / total for terms in words], dtype=np.float32)


