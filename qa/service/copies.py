"""Republished copies: wire copy carried by several outlets, or a story re-sent under another id.

An article whose body is the same as a stored article's, or a light edit of it (a new headline, a
sentence added, dropped or reworded), is a *copy*: it is stored and listed with its own title, source
and date, but not indexed again, so answers show its passages once and name the copies beside them.

Recognised with MinHash over word 3-shingles of the body and an LSH index of the originals
(``datasketch``): the estimated Jaccard similarity of two bodies must reach :data:`THRESHOLD`.
Measured (``python benchmarks/copies.py``): edited copies of real articles score 0.6-1.0, different
stories on the same subject at most about 0.13.
"""

from __future__ import annotations

import re

import numpy as np
from datasketch import MinHash, MinHashLSH

from qa.ingest.article import Article

THRESHOLD = 0.5  # estimated Jaccard of the bodies' word 3-shingles
NUM_PERM = 128
_SEED = 1
_SCHEME = "affine32"  # stored signatures are only comparable under the scheme that made them
_WORD = re.compile(r"\w+")


def signature(article: Article) -> np.ndarray:
    """The MinHash of the article's body (the header lines, the headline among them, left out)."""
    words = _WORD.findall(article.text[article.body_start:].lower()) or _WORD.findall(article.text.lower())
    shingles = {" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2))}
    minhash = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME)
    minhash.update_batch([s.encode("utf-8") for s in shingles])
    return minhash.hashvalues.astype(np.uint32)  # 32-bit values under this scheme


def as_bytes(values: np.ndarray) -> bytes:
    return np.asarray(values, np.uint32).tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, np.uint32)


class Originals:
    """The signatures of the stored originals (articles that are not copies), searchable by LSH."""

    def __init__(self, signatures: dict[str, np.ndarray]):
        self._lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        self._minhashes: dict[str, MinHash] = {}
        for article_id, values in signatures.items():
            self.put(article_id, values)

    def original_of(self, values: np.ndarray, exclude: str = "") -> str | None:
        """The stored original most like this body, if it is a copy of one (never ``exclude``)."""
        minhash = _minhash(values)
        best, best_score = None, THRESHOLD
        for candidate in self._lsh.query(minhash):
            score = minhash.jaccard(self._minhashes[candidate])
            if candidate != exclude and (score > best_score or (score == best_score and best is None)):
                best, best_score = candidate, score
        return best

    def put(self, article_id: str, values: np.ndarray) -> None:
        self.forget(article_id)
        minhash = _minhash(values)
        self._lsh.insert(article_id, minhash)
        self._minhashes[article_id] = minhash

    def forget(self, article_id: str) -> None:
        if self._minhashes.pop(article_id, None) is not None:
            self._lsh.remove(article_id)


def _minhash(values: np.ndarray) -> MinHash:
    return MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME, hashvalues=np.asarray(values, np.uint64))
