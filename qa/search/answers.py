"""Answers inside ranked passages: which sentence answers, and which passages add nothing new.

In each passage the answer is the sentence with the best similarity to the
question (plus a small bonus for holding the kind of answer asked for) plus
idf-weighted word overlap; a short line whose words all recur in a longer
line of the passage (a repeated section label) is passed over for the longer
one. A passage whose answer is already inside a better passage of the same
article is not shown again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from qa.engines.contracts import StoredPassage
from qa.passages.sentences import Span


@dataclass(frozen=True)
class Hit:
    passage: StoredPassage
    score: float
    answer: Span  # offsets of the answer sentence in ``passage.text``


def answer_sentence(passage: StoredPassage, sims: np.ndarray, idf: dict[str, float],
                    terms: Callable[[str], tuple[str, ...]], overlap_weight: float) -> Span:
    """The sentence of ``passage`` that best answers, given each sentence's similarity ``sims``."""
    words = [terms(passage.text[a:b]) for a, b in passage.sentences]
    best = int(np.argmax(sims + overlap_weight * _coverage(words, idf) - _repeated(words)))
    return passage.sentences[best]


def already_shown(hit: Hit, shown: list[Hit]) -> bool:
    """Whether the hit's answer sentence is already inside a better passage of the same article."""
    p = hit.passage
    a, b = p.start + hit.answer[0], p.start + hit.answer[1]
    return any(q.passage.article_id == p.article_id and q.passage.start <= a and b <= q.passage.end
               for q in shown)


def _coverage(words: list[tuple[str, ...]], idf: dict[str, float]) -> np.ndarray:
    """Share of the question's idf mass in each sentence's terms: rare shared words count most."""
    total = sum(idf.values())
    if total <= 0:
        return np.zeros(len(words), np.float32)
    return np.array([sum(idf.get(t, 0.0) for t in terms) / total for terms in words], dtype=np.float32)


def _repeated(words: list[tuple[str, ...]]) -> np.ndarray:
    """1 for a sentence whose terms all recur in a longer sentence of the passage (a repeated
    section label, say): the longer sentence says the same and more, so it is the better answer."""
    return np.array([any(len(other) > len(mine) and set(mine) <= set(other) for other in words)
                     for mine in words], dtype=np.float32)
