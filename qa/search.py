"""Hybrid retrieval: dense (FAISS) + lexical (FTS5 BM25), fused, re-ranked, with the answer sentence.

question -> [question vector | BM25 query] -> candidates from each -> every
candidate scored by both -> fused score -> best-sentence re-ranking -> the
answering sentence of each passage -> overlapping windows de-duplicated.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from qa import answer_types, lexical
from qa.ann import VectorIndex
from qa.embeddings import Embedder
from qa.store import Store, StoredPassage

FUSIONS = ("convex", "rrf", "dense", "lexical")
LEXICAL_NORMS = ("idf", "max")


@dataclass(frozen=True)
class RankingConfig:
    """The knobs of the ranking; the defaults are the measured best (see README, Evaluation)."""

    fusion: str = "convex"        # convex | rrf | dense | lexical
    alpha: float = 0.6            # weight of the dense score in convex fusion
    rrf_k: int = 60
    lexical_norm: str = "idf"     # idf: BM25 / the question's idf sum; max: BM25 / the best BM25
    candidates: int = 100         # taken from each retriever
    rerank_depth: int = 30        # fused candidates re-ranked by their best sentence
    sentence_weight: float = 0.5  # weight of the best sentence's similarity in re-ranking
    title_weight: float = 1.0     # BM25 weight of the title column (the body's is 1)
    answer_overlap: float = 0.3   # weight of shared words when picking the answer sentence
    answer_type_weight: float = 0.2  # bonus for a sentence holding the kind of answer asked for
    dedupe: bool = True           # drop passages whose answer is already shown by a better one

    def __post_init__(self):
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}")
        if self.lexical_norm not in LEXICAL_NORMS:
            raise ValueError(f"lexical_norm must be one of {', '.join(LEXICAL_NORMS)}")


@dataclass(frozen=True)
class Hit:
    passage: StoredPassage
    score: float
    answer: tuple[int, int]  # offsets of the answer sentence in ``passage.text``


class Searcher:
    """Ranks stored passages for a question."""

    def __init__(self, store: Store, index: VectorIndex, embedder: Embedder,
                 config: RankingConfig = RankingConfig()):
        self.store = store
        self.index = index
        self.embedder = embedder
        self.config = config
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lexical")

    def search(self, question: str, k: int) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first."""
        cfg = self.config
        depth = max(cfg.candidates, 2 * k)
        lexical_job = self._pool.submit(self._lexical, question, depth)
        qvec = self.embedder.encode_query(question)
        dense = self._dense(qvec, depth) if cfg.fusion != "lexical" else {}
        bm25, idf = lexical_job.result()
        fused = self._fuse(qvec, dense, bm25)
        if not fused:
            return []
        order = sorted(fused, key=fused.get, reverse=True)[:max(cfg.rerank_depth, 2 * k)]
        passages = self.store.passages(order)
        kind = answer_types.question_type(question)
        hits = []
        for pid in order:
            passage = passages.get(pid)
            if passage is None:  # removed since the index was searched
                continue
            sims = passage.sentence_vectors @ qvec + cfg.answer_type_weight * np.array(
                [answer_types.has_answer(kind, passage.text[a:b]) for a, b in passage.sentences], np.float32)
            best = int(np.argmax(sims + cfg.answer_overlap * _coverage(passage, idf)))
            score = fused[pid] + cfg.sentence_weight * float(sims.max())
            hits.append(Hit(passage, score, passage.sentences[best]))
        hits.sort(key=lambda h: h.score, reverse=True)
        return _dedupe(hits, k) if cfg.dedupe else hits[:k]

    def _lexical(self, question: str, depth: int) -> tuple[dict[int, float], dict[str, float]]:
        """Normalized BM25 candidates and the question terms' idf (in a worker, while the question is encoded)."""
        idf = self.store.idf(lexical.terms(question))
        match = lexical.fts_query(question)
        if not match or self.config.fusion == "dense":
            return {}, idf
        scores = dict(self.store.lexical(match, depth, (self.config.title_weight, 1.0)))
        if self.config.lexical_norm == "max" or self.config.fusion != "convex":
            return _max_normalized(scores), idf
        scale = sum(idf.values())
        return ({pid: s / scale for pid, s in scores.items()} if scale > 0 else {}), idf

    def _dense(self, qvec: np.ndarray, depth: int) -> dict[int, float]:
        scores, ids = self.index.search(qvec, depth)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    def _fuse(self, qvec: np.ndarray, dense: dict[int, float], bm25: dict[int, float]) -> dict[int, float]:
        cfg = self.config
        if cfg.fusion == "dense":
            return dense
        if cfg.fusion == "lexical":
            return bm25
        if cfg.fusion == "rrf":
            fused: dict[int, float] = {}
            for ranking in (dense, bm25):
                for rank, pid in enumerate(sorted(ranking, key=ranking.get, reverse=True)):
                    fused[pid] = fused.get(pid, 0.0) + 1.0 / (cfg.rrf_k + rank + 1)
            return fused
        # Convex combination: every candidate gets its exact dense score.
        missing = [pid for pid in bm25 if pid not in dense]
        if missing:
            found, vectors = self.store.vectors(missing)
            dense = {**dense, **dict(zip(found.tolist(), (vectors @ qvec).tolist()))}
        return {pid: cfg.alpha * sim + (1 - cfg.alpha) * bm25.get(pid, 0.0) for pid, sim in dense.items()}


def _max_normalized(scores: dict[int, float]) -> dict[int, float]:
    top = max(scores.values(), default=0.0)
    return {pid: s / top for pid, s in scores.items()} if top > 0 else {}


def _coverage(passage: StoredPassage, idf: dict[str, float]) -> np.ndarray:
    """Share of the question's idf mass that each sentence contains: rare shared words count most."""
    total = sum(idf.values())
    if total <= 0:
        return np.zeros(len(passage.sentences), np.float32)
    return np.array([sum(idf.get(t, 0.0) for t in lexical.terms(passage.text[a:b])) / total
                     for a, b in passage.sentences], dtype=np.float32)


def _dedupe(hits: list[Hit], k: int) -> list[Hit]:
    """Keep a passage only if its answer sentence is not already inside a better passage."""
    kept: list[Hit] = []
    for hit in hits:
        p = hit.passage
        a, b = p.start + hit.answer[0], p.start + hit.answer[1]
        if any(q.passage.article_id == p.article_id and q.passage.start <= a and b <= q.passage.end
               for q in kept):
            continue
        kept.append(hit)
        if len(kept) == k:
            break
    return kept
