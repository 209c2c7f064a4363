"""Hybrid retrieval: dense + lexical candidates, fused, re-ranked by their best sentence.

question -> question vector and lexical terms -> candidates from each engine
index -> every candidate scored by both -> fused score -> the reader scores
each sentence of the best candidates -> re-ranking by the best sentence ->
the answering sentence of each passage -> passages whose answer is already
shown dropped -> a calibrated confidence for each.
"""

from __future__ import annotations

import numpy as np

from dataclasses import dataclass, replace

from qa.config import RankingConfig
from qa.embeddings import Encoder
from qa.engines.contracts import Engine, Filter, Scope, StoredPassage
from qa.search import answer_types, reader
from qa.ingest.article import Article
from qa.passages.model_input import field_label
from qa.search.answers import Hit, already_shown, coverage
from qa.search.models import PASSAGE_FEATURES, Models
from qa.search.models import load as load_models
from qa.search.reader import Question, sentence_features


# The kinds of answer whose presence re-ranks passages: a number, a date, a name. A place or a reason is
# too common in news text to tell passages apart (it costs seed questions; docs/evaluation.md); the
# reader still weighs them when it picks the sentence.
RANKED_KINDS = [reader.FEATURES.index(kind) for kind in ("quantity", "time", "person")]
REPEATED = reader.FEATURES.index("repeated")  # a label repeated inside a longer line: never the answer
NO_FOLLOWER_MARGIN = 0.1  # the margin of the last result when no other candidate follows it


@dataclass(frozen=True)
class Candidate:
    """A passage the reader has read: its fused score, its dense score, and each sentence's
    similarity to the question and signals (:data:`qa.search.reader.FEATURES`)."""

    passage: StoredPassage
    fused: float
    dense: float
    similarity: np.ndarray
    sentences: np.ndarray


class Searcher:
    """Ranks an engine's passages for a question."""

    def __init__(self, engine: Engine, encoder: Encoder, config: RankingConfig = RankingConfig(),
                 models: Models | None = None):
        self.engine = engine
        self.encoder = encoder
        self.config = config
        self.models = models or load_models()

    def search(self, question: str, k: int, where: Filter = Filter()) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first, each with its confidence; only
        passages of the articles ``where`` allows, chosen before anything is ranked."""
        hits, features = self.search_with_features(question, k, where)
        if not hits:
            return hits
        probabilities = self.models.confidence.probability(features)
        return [replace(hit, confidence=float(p)) for hit, p in zip(hits, probabilities)]

    def search_with_features(self, question: str, k: int, where: Filter = Filter()
                             ) -> tuple[list[Hit], np.ndarray]:
        """The ranked passages and, a row each, the signals their confidence is computed from
        (:data:`qa.search.models.PASSAGE_FEATURES`)."""
        cfg = self.config
        read, idf = self.read(question, k, where)
        terms = self.engine.lexical.terms
        scored = []
        field = answer_types.article_field(question)
        # The reader's model over every candidate's sentences at once, then split by candidate.
        rows = np.concatenate([c.sentences for c in read]) if read else np.zeros((0, len(reader.FEATURES)))
        every = self.models.answer.probability(rows) * (rows[:, REPEATED] == 0)
        ends = np.cumsum([len(c.sentences) for c in read])
        for c, answerness in zip(read, np.split(every, ends[:-1])):
            best = _field_line(c.passage, field) if c.passage.header and field else None
            best = int(np.argmax(answerness)) if best is None else best
            typed = c.sentences[:, RANKED_KINDS].max(axis=1)  # 1: the sentence holds the kind of answer asked for
            bonus = cfg.answer_type_weight * (typed > 0)
            score = (c.fused + cfg.sentence_weight * float((c.similarity + bonus).max())
                     + cfg.answer_weight * float(answerness[best]))
            scored.append((score, c, best, float(answerness[best])))
        scored.sort(key=lambda item: item[0], reverse=True)
        hits: list[Hit] = []
        signals = []
        last = -1
        for last, (score, c, best, answerness) in enumerate(scored):  # in rank order, skipping repeats
            passage = c.passage
            hit = Hit(passage, score, passage.sentences[best])
            if cfg.dedupe and already_shown(hit, hits):
                continue
            hits.append(hit)
            a, b = hit.answer
            covered = coverage([terms(passage.text), terms(passage.text[a:b])], idf)
            signals.append([score, c.fused, c.dense, float(c.similarity.max()), answerness, covered[0], covered[1],
                            0.0, 0.0, len(hits)])
            if len(hits) == k:
                break
        if not hits:
            return [], np.zeros((0, len(PASSAGE_FEATURES)))
        features = np.asarray(signals, np.float64)
        scores = features[:, 0]
        following = scored[last + 1][0] if last + 1 < len(scored) else scores[-1] - NO_FOLLOWER_MARGIN
        features[:, 7] = scores - np.append(scores[1:], following)  # margin to the next result
        features[:, 8] = scores[0] - scores                         # gap to the best
        return hits, features

    def read(self, question: str, k: int, where: Filter = Filter()
             ) -> tuple[list[Candidate], dict[str, float]]:
        """The candidates worth reading (the best fused, header cards only for a question about
        the article itself), each with its sentences' signals; and the question's idf."""
        cfg = self.config
        depth = max(cfg.candidates, 2 * k)
        vector = self.encoder.start_query(question)
        # The filter goes to each index as it takes one: the lexical index its own query, the vector
        # index the engine's scope (both resolved while the model thread encodes).
        lexical, idf = self._lexical(question, depth, where or None)
        allowed = self.engine.scope(where) if where else None
        qvec = vector()
        dense = self._dense(qvec, depth, allowed) if cfg.fusion != "lexical" else {}
        fused, dense = self._fuse(qvec, dense, lexical)
        if cfg.feedback > 0 and fused and cfg.fusion != "lexical":
            fvec = self._feedback(qvec, sorted(fused, key=fused.get, reverse=True)[:cfg.feedback_depth])
            fused, dense = self._fuse(fvec, self._dense(fvec, depth, allowed), lexical)
        if cfg.article_weight > 0 and fused:
            fused = self._article_prior(fused)
        order = sorted(fused, key=fused.get, reverse=True)[:max(cfg.rerank_depth, 2 * k)]
        passages = self.engine.store.passages(order)
        asked = Question.of(question, qvec, self.engine.lexical.terms(question), idf)
        about_the_article = answer_types.about_the_article(question)
        read = []
        for pid in order:
            passage = passages.get(pid)
            if passage is None:  # removed since the index was searched
                continue
            if passage.header and not about_the_article:  # a byline or a dateline answers nothing else
                continue
            similarity = passage.sentence_vectors @ qvec
            read.append(Candidate(passage, fused[pid], dense.get(pid, 0.0), similarity,
                                  sentence_features(passage, similarity, asked, self.engine.lexical.terms)))
        return read, idf

    def _lexical(self, question: str, depth: int, where: Filter | None
                 ) -> tuple[dict[int, float], dict[str, float]]:
        """Normalized lexical candidates, and the idf of the question's terms."""
        cfg = self.config
        lexical = self.engine.lexical
        terms = lexical.terms(question)
        idf = lexical.idf(terms)
        if cfg.fusion == "dense" or not terms:
            return {}, idf
        scores = dict(lexical.search(terms, depth, where))
        if cfg.lexical_norm == "max" or cfg.fusion != "convex":
            return _max_normalized(scores), idf
        scale = sum(idf.values())
        return ({pid: s / scale for pid, s in scores.items()} if scale > 0 else {}), idf

    def _article_prior(self, fused: dict[int, float]) -> dict[int, float]:
        """Each candidate's score plus its article's evidence: the mean of the article's
        ``article_depth`` best candidate scores (a missing one counts 0), so that among many
        articles a passage of an article that matches the question throughout beats a lone passage
        sharing words with it. Off by default: amid distractors it lost seed questions, because
        most misses there are the article's own passages re-ordered (docs/evaluation.md)."""
        cfg = self.config
        article_of = self.engine.store.articles_of(fused)
        best: dict[str, list[float]] = {}
        for pid, score in fused.items():
            if pid in article_of:
                best.setdefault(article_of[pid], []).append(score)
        evidence = {a: sum(sorted(s, reverse=True)[:cfg.article_depth]) / cfg.article_depth for a, s in best.items()}
        return {pid: s + cfg.article_weight * evidence.get(article_of.get(pid), 0.0) for pid, s in fused.items()}

    def _feedback(self, qvec: np.ndarray, top: list[int]) -> np.ndarray:
        """Rocchio on the question vector: moved towards the mean of the best passages found."""
        _, vectors = self.engine.store.vectors(top)
        if not len(vectors):
            return qvec
        moved = qvec + self.config.feedback * vectors.mean(axis=0)
        return (moved / np.linalg.norm(moved)).astype(np.float32)

    def _dense(self, qvec: np.ndarray, depth: int, allowed: Scope | None) -> dict[int, float]:
        return dict(self.engine.vectors.search(qvec, depth, allowed))

    def _fuse(self, qvec: np.ndarray, dense: dict[int, float], lex: dict[int, float]
              ) -> tuple[dict[int, float], dict[int, float]]:
        """The fused scores, and the dense scores (every candidate's, for convex fusion)."""
        cfg = self.config
        if cfg.fusion == "dense":
            return dense, dense
        if cfg.fusion == "lexical":
            return lex, dense
        if cfg.fusion == "rrf":
            fused: dict[int, float] = {}
            for ranking in (dense, lex):
                for rank, pid in enumerate(sorted(ranking, key=ranking.get, reverse=True)):
                    fused[pid] = fused.get(pid, 0.0) + 1.0 / (cfg.rrf_k + rank + 1)
            return fused, dense
        # Convex combination: every candidate gets its exact dense score.
        missing = [pid for pid in lex if pid not in dense]
        if missing:
            try:
                found, similarities = self.engine.vectors.scores(qvec, np.asarray(missing, np.int64))
            except KeyError:  # added to (or removed from) the vector index a moment apart from the lexical one
                found, vectors = self.engine.store.vectors(missing)
                similarities = vectors @ qvec if len(found) else np.zeros(0)
            if len(found):  # passages removed since the lexical index found them are simply dropped
                dense = {**dense, **dict(zip(list(found), similarities.tolist()))}
        return {pid: cfg.alpha * sim + (1 - cfg.alpha) * lex.get(pid, 0.0) for pid, sim in dense.items()}, dense


def _field_line(passage: StoredPassage, field: str) -> int | None:
    """The header line that holds ``field`` (the byline holds author and source), if one does."""
    meta = passage.article
    article = Article(meta["id"], meta["title"], "", meta["author"], meta["date"], meta["source"])
    labels = [field_label(article, passage.text[a:b]) for a, b in passage.sentences]
    for wanted in (f"{field}: ", "Byline: " if field in ("Author", "Source") else None):
        if wanted in labels:
            return labels.index(wanted)
    return None


def _max_normalized(scores: dict[int, float]) -> dict[int, float]:
    top = max(scores.values(), default=0.0)
    return {pid: s / top for pid, s in scores.items()} if top > 0 else {}
