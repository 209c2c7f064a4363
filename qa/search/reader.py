"""The reader: which sentence of a passage answers the question.

The sentence most similar to the question is often the one that repeats it
("Two firefighters were hurt when the roof collapsed"), while the answer
stands beside it ("One, Lieutenant Carla Mendes, broke her collarbone"). So
each sentence is described by a few signals (its similarity to the question,
relative to the passage's best; how much of the question's idf mass it holds;
how much of it merely echoes the question; whether it holds the kind of answer
asked for; how similar its neighbours are; its length; whether it is a label
rather than a sentence) and a logistic model, fitted on our own dev question
sets (``run.py calibrate``), gives the probability that it holds the answer.
A short line whose words all recur in a longer line of the passage (a section
label repeated in a byline, say) is never the answer: the longer line says the
same and more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from qa.engines.contracts import StoredPassage
from qa.search import answer_types

KINDS = ("quantity", "time", "person", "place", "reason")
FEATURES = ("similarity", "relative", "coverage", "echo", *KINDS, "neighbour", "neighbour_coverage",
            "repeated", "length", "unfinished")


@dataclass(frozen=True)
class Question:
    """What the reader knows of a question."""

    text: str
    vector: np.ndarray
    terms: frozenset[str]
    idf: dict[str, float]
    kind: str | None

    @classmethod
    def of(cls, text: str, vector: np.ndarray, terms: tuple[str, ...], idf: dict[str, float]) -> "Question":
        return cls(text, vector, frozenset(terms), idf, answer_types.question_type(text))


def sentence_features(passage: StoredPassage, similarity: np.ndarray, question: Question,
                      terms: Callable[[str], tuple[str, ...]]) -> np.ndarray:
    """One row of :data:`FEATURES` per sentence of ``passage``; ``similarity`` is each sentence's
    cosine with the question."""
    texts = [passage.text[a:b] for a, b in passage.sentences]
    words = [terms(t) for t in texts]
    sets = [frozenset(w) for w in words]
    total_idf = sum(question.idf.values())
    n = len(texts)
    rows = np.zeros((n, len(FEATURES)), np.float64)
    rows[:, 0] = similarity
    rows[:, 1] = similarity - similarity.max()
    for i, (text, mine) in enumerate(zip(texts, words)):
        if total_idf > 0:
            rows[i, 2] = sum(question.idf.get(t, 0.0) for t in mine) / total_idf
        rows[i, 3] = len(question.terms.intersection(mine)) / len(mine) if mine else 0.0
        if question.kind:
            rows[i, 4 + KINDS.index(question.kind)] = 1.0 if answer_types.has_answer(question.kind, text) else -1.0
        rows[i, 11] = float(any(len(other) > len(mine) and sets[i] <= other_set
                                for other, other_set in zip(words, sets)))
        rows[i, 12] = math.log1p(len(text.split()))
        rows[i, 13] = float(not text.rstrip().endswith((".", "!", "?", '"', "\u201d", "'", "\u2019", ")")))
    for i in range(n):
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < n]
        if neighbours:
            rows[i, 9] = max(similarity[j] for j in neighbours)
            rows[i, 10] = max(rows[j, 2] for j in neighbours)
    return rows
