"""Hybrid retrieval: dense + lexical candidates, fused, re-ranked by their best sentence.

question -> question vector and lexical terms -> candidates from each engine
index -> every candidate scored by both -> fused score -> best-sentence
re-ranking -> the answering sentence of each passage -> passages whose answer
is already shown dropped.
"""

from __future__ import annotations

import numpy as np

from qa.config import RankingConfig
from qa.embeddings import Encoder
from qa.engines.contracts import Engine
from qa.search import answer_types
from qa.search.answers import Hit, already_shown, answer_sentence


class Searcher:
    """Ranks an engine's passages for a question."""

    def __init__(self, engine: Engine, encoder: Encoder, config: RankingConfig = RankingConfig()):
        self.engine = engine
        self.encoder = encoder
        self.config = config

    def search(self, question: str, k: int) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first."""
        cfg = self.config
        depth = max(cfg.candidates, 2 * k)
        vector = self.encoder.start_query(question)
        lexical, idf = self._lexical(question, depth)  # while the model thread encodes
        qvec = vector()
        dense = self._dense(qvec, depth) if cfg.fusion != "lexical" else {}
        fused = self._fuse(qvec, dense, lexical)
        if cfg.feedback > 0 and fused and cfg.fusion != "lexical":
            fvec = self._feedback(qvec, sorted(fused, key=fused.get, reverse=True)[:cfg.feedback_depth])
            fused = self._fuse(fvec, self._dense(fvec, depth), lexical)
        if not fused:
            return []
        order = sorted(fused, key=fused.get, reverse=True)[:max(cfg.rerank_depth, 2 * k)]
        passages = self.engine.store.passages(order)
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
            answer = answer_sentence(passage, sims, idf, self.engine.lexical.terms, cfg.answer_overlap)
            hit = Hit(passage, score, answer)
            if not (cfg.dedupe and already_shown(hit, hits)):
                hits.append(hit)
                if len(hits) == k:
                    break
        return hits

    def _lexical(self, question: str, depth: int) -> tuple[dict[int, float], dict[str, float]]:
        """Normalized lexical candidates, and the idf of the question's terms."""
        cfg = self.config
        lexical = self.engine.lexical
        terms = lexical.terms(question)
        idf = lexical.idf(terms)
        if cfg.fusion == "dense" or not terms:
            return {}, idf
        scores = dict(lexical.search(terms, depth))
        if cfg.lexical_norm == "max" or cfg.fusion != "convex":
            return _max_normalized(scores), idf
        scale = sum(idf.values())
        return ({pid: s / scale for pid, s in scores.items()} if scale > 0 else {}), idf

    def _feedback(self, qvec: np.ndarray, top: list[int]) -> np.ndarray:
        """Rocchio on the question vector: moved towards the mean of the best passages found."""
        _, vectors = self.engine.store.vectors(top)
        if not len(vectors):
            return qvec
        moved = qvec + self.config.feedback * vectors.mean(axis=0)
        return (moved / np.linalg.norm(moved)).astype(np.float32)

    def _dense(self, qvec: np.ndarray, depth: int) -> dict[int, float]:
        return dict(self.engine.vectors.search(qvec, depth))

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
                found, vectors = missing, self.engine.vectors.vectors(np.asarray(missing, np.int64))
            except KeyError:  # added to (or removed from) the vector index a moment apart from the lexical one
                found, vectors = self.engine.store.vectors(missing)
            if len(found):  # passages removed since the lexical index found them are simply dropped
                dense = {**dense, **dict(zip(list(found), (vectors @ qvec).tolist()))}
        return {pid: cfg.alpha * sim + (1 - cfg.alpha) * lex.get(pid, 0.0) for pid, sim in dense.items()}


def _max_normalized(scores: dict[int, float]) -> dict[int, float]:
    top = max(scores.values(), default=0.0)
    return {pid: s / top for pid, s in scores.items()} if top > 0 else {}
