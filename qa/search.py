"""Hybrid retrieval: dense (FAISS) + lexical (tantivy BM25), fused, re-ranked, with the answer sentence.

question -> question vector, BM25 terms -> candidates from each -> every
candidate scored by both -> fused score -> best-sentence re-ranking -> the
answering sentence of each passage -> overlapping windows de-duplicated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa import answer_types, bm25, lexical
from qa.ann import VectorIndex
from qa.bm25 import Bm25Index
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
    rerank_depth: int = 20        # fused candidates re-ranked by their best sentence
    sentence_weight: float = 0.5  # weight of the best sentence's similarity in re-ranking
    answer_overlap: float = 0.3   # weight of shared words when picking the answer sentence
    answer_type_weight: float = 0.2  # bonus for a sentence holding the kind of answer asked for
    dedupe: bool = True           # drop passages whose answer is already shown by a better one
    feedback: float = 0.0         # pseudo-relevance feedback: weight of the top passages' mean vector
                                  # (off: at 0.3, +0.006 nDCG@10 on SciFact test but -0.0002 on train)
    feedback_depth: int = 3

    def __post_init__(self):
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}")
        if self.lexical_norm not in LEXICAL_NORMS:
            raise ValueError(f"lexical_norm must be one of {', '.join(LEXICAL_NORMS)}")
        if self.rrf_k < 1:
            raise ValueError("rrf_k must be 1 or more")
        if not 0 <= self.alpha <= 1:
            raise ValueError("alpha must be between 0 and 1")
        for name in ("sentence_weight", "answer_overlap", "answer_type_weight", "feedback"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name.replace('_', ' ')} must be 0 or more")


@dataclass(frozen=True)
class Hit:
    passage: StoredPassage
    score: float
    answer: tuple[int, int]  # offsets of the answer sentence in ``passage.text``


class Searcher:
    """Ranks stored passages for a question."""

    def __init__(self, store: Store, index: VectorIndex, bm25_index: Bm25Index, embedder: Embedder,
                 config: RankingConfig = RankingConfig()):
        self.store = store
        self.index = index
        self.bm25 = bm25_index
        self.embedder = embedder
        self.config = config

    def search(self, question: str, k: int) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first."""
        cfg = self.config
        depth = max(cfg.candidates, 2 * k)
        vector = self.embedder.start_query(question)
        lexical_scores, idf = self._lexical(question, depth)  # while the model thread encodes
        qvec = vector()
        dense = self._dense(qvec, depth) if cfg.fusion != "lexical" else {}
        fused = self._fuse(qvec, dense, lexical_scores)
        if cfg.feedback > 0 and fused and cfg.fusion != "lexical":
            fvec = self._feedback(qvec, sorted(fused, key=fused.get, reverse=True)[:cfg.feedback_depth])
            fused = self._fuse(fvec, self._dense(fvec, depth), lexical_scores)
        if not fused:
            return []
        order = sorted(fused, key=fused.get, reverse=True)[:max(cfg.rerank_depth, 2 * k)]
        passages = self.store.passages(order)
        kind = answer_types.question_type(question)
        scored = []
        for pid in order:
            passage = passages.get(pid)
            if passage is None:  # removed since the index was searched
                continue
            sims = passage.sentence_vectors @ qvec + cfg.answer_type_weight * np.array(
                [answer_types.has_answer(kind, passage.text[a:b]) for a, b in passage.sentences], np.float32)
            scored.append((fused[pid] + cfg.sentence_weight * float(sims.max()), passage, sims))
        scored.sort(key=lambda item: item[0], reverse=True)
        hits: list[Hit] = []
        for score, passage, sims in scored:  # answers are picked only for passages that may be shown
            words = [lexical.terms(passage.text[a:b]) for a, b in passage.sentences]
            best = int(np.argmax(sims + cfg.answer_overlap * _coverage(words, idf) - _repeated(words)))
            hit = Hit(passage, score, passage.sentences[best])
            if not (cfg.dedupe and _already_shown(hit, hits)):
                hits.append(hit)
                if len(hits) == k:
                    break
        return hits

    def _lexical(self, question: str, depth: int) -> tuple[dict[int, float], dict[str, float]]:
        """Normalized BM25 candidates, and the idf of the question's terms."""
        cfg = self.config
        terms = lexical.terms(question)
        total, df = self.bm25.doc_freqs(terms)
        idf = {t: bm25.idf(total, n) for t, n in df.items()}
        if cfg.fusion == "dense" or not terms:
            return {}, idf
        scores = dict(self.bm25.search(terms, depth))
        if cfg.lexical_norm == "max" or cfg.fusion != "convex":
            return _max_normalized(scores), idf
        scale = sum(idf.values())
        return ({pid: s / scale for pid, s in scores.items()} if scale > 0 else {}), idf

    def _feedback(self, qvec: np.ndarray, top: list[int]) -> np.ndarray:
        """Rocchio on the question vector: moved towards the mean of the best passages found."""
        _, vectors = self.store.vectors(top)
        if not len(vectors):
            return qvec
        moved = qvec + self.config.feedback * vectors.mean(axis=0)
        return (moved / np.linalg.norm(moved)).astype(np.float32)

    def _dense(self, qvec: np.ndarray, depth: int) -> dict[int, float]:
        scores, ids = self.index.search(qvec, depth)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    def _fuse(self, qvec: np.ndarray, dense: dict[int, float], lex: dict[int, float]) -> dict[int, float]:
        cfg = self.config
        if cfg.fusion == "dense":
            return dense
        if cfg.fusion == "lexical":
            return lex
        if cfg.fusion == "rrf":
            fused: dict[int, float] = {}
            for ranking in (dense, lex):
                for rank, pid in enumerate(sorted(ranking, key=ranking.get, reverse=True)):
                    fused[pid] = fused.get(pid, 0.0) + 1.0 / (cfg.rrf_k + rank + 1)
            return fused
        # Convex combination: every candidate gets its exact dense score.
        missing = [pid for pid in lex if pid not in dense]
        if missing:
            try:
                found, vectors = missing, self.index.vectors(np.asarray(missing, np.int64))
            except KeyError:  # added to (or removed from) the vector index a moment apart from BM25
                found, vectors = self.store.vectors(missing)
            if len(found):  # passages removed since BM25 found them are simply dropped
                dense = {**dense, **dict(zip(list(found), (vectors @ qvec).tolist()))}
        return {pid: cfg.alpha * sim + (1 - cfg.alpha) * lex.get(pid, 0.0) for pid, sim in dense.items()}


def _max_normalized(scores: dict[int, float]) -> dict[int, float]:
    top = max(scores.values(), default=0.0)
    return {pid: s / top for pid, s in scores.items()} if top > 0 else {}


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


def _already_shown(hit: Hit, shown: list[Hit]) -> bool:
    """Whether the hit's answer sentence is already inside a better passage of the same article."""
    p = hit.passage
    a, b = p.start + hit.answer[0], p.start + hit.answer[1]
    return any(q.passage.article_id == p.article_id and q.passage.start <= a and b <= q.passage.end
               for q in shown)
