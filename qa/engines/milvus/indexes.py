"""Dense and lexical search in Milvus, behind the same contracts as FAISS and tantivy.

Lexical search is Milvus's own BM25 (its function turns the analysed text into a sparse vector;
k1 and b are tantivy's) over terms analysed by :mod:`qa.engines.analysis`, so both engines count
the same terms. Milvus does not expose a term's idf, which the ranking needs: the passage count of
each term is kept in the ``terms`` collection by the writer, and read a few seconds stale at most.
"""

from __future__ import annotations

import threading
import time
from typing import Iterable

import numpy as np

from qa.engines import analysis
from qa.engines.contracts import Filter
from qa.engines.milvus.collections import Names, expression, one_of
from qa.engines.milvus.store import MilvusStore

STATS_TTL_S = 5.0  # how long a term's count and the passage total are reused (other servers write too)


class MilvusVectors:
    """Dense search over the passages' vectors (FLAT in Milvus Lite, HNSW on a server)."""

    def __init__(self, client, names: Names, store: MilvusStore, embedded: bool):
        self._client = client
        self._names = names
        self._store = store
        self.kind = "flat" if embedded else "hnsw"
        self._params = {"metric_type": "IP"} if embedded else {"metric_type": "IP", "params": {"ef": 128}}

    def search(self, query: np.ndarray, k: int, allowed: str | None = None) -> list[tuple[int, float]]:
        hits = self._client.search(self._names.passages, data=[np.asarray(query, np.float32).tolist()],
                                   anns_field="dense", limit=k, filter=allowed or "", search_params=self._params)
        return [(hit["id"], float(hit["distance"])) for hit in hits[0]]

    def scores(self, query: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One search among exactly ``ids``: Milvus computes the scores (a passage deleted since is
        simply not found)."""
        hits = self.search(query, len(ids), one_of("id", ids))
        return np.asarray([pid for pid, _ in hits], np.int64), np.asarray([s for _, s in hits], np.float32)

    def __len__(self) -> int:
        return self._store.passage_count()


class MilvusLexical:
    """BM25 over each passage with its article's title, by Milvus."""

    def __init__(self, client, names: Names, store: MilvusStore):
        self._client = client
        self._names = names
        self._store = store
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}  # term -> (when read, passages holding it)
        self._total: tuple[float, int] = (0.0, 0)

    def terms(self, text: str) -> tuple[str, ...]:
        return analysis.terms(text)

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        terms = list(terms)
        now = time.monotonic()
        with self._lock:
            fresh = {t: c for t, (at, c) in self._counts.items() if now - at < STATS_TTL_S}
            total = self._total[1] if now - self._total[0] < STATS_TTL_S else None
        missing = [t for t in terms if t not in fresh]
        if missing:
            found = self._store.term_counts(missing)
            fresh.update({t: found.get(t, 0) for t in missing})
        if total is None:
            total = self._store.passage_count()
        with self._lock:
            if len(self._counts) > 100_000:
                self._counts.clear()
            self._counts.update({t: (now, fresh[t]) for t in missing})
            self._total = (now, total)
        return {t: analysis.idf(total, fresh[t]) for t in terms}

    def forget(self) -> None:
        """Drop the counts read before a write of this process (its own writes show at once)."""
        with self._lock:
            self._counts.clear()
            self._total = (0.0, 0)

    def search(self, terms: tuple[str, ...], k: int, where: Filter | None = None) -> list[tuple[int, float]]:
        if not terms:
            return []
        hits = self._client.search(self._names.passages, data=[" ".join(terms)], anns_field="sparse", limit=k,
                                   filter=expression(where, "article_id") if where else "",
                                   search_params={"metric_type": "BM25"})
        return [(hit["id"], float(hit["distance"])) for hit in hits[0]]

    def __len__(self) -> int:
        return self._store.passage_count()
