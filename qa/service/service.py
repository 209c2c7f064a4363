"""The one service object: ask, add, remove, articles, stats, sync.

The web routes, the CLI, the evaluation and the benchmark all call this class, so every path
exercises the same code. Data flows one way: article -> passages -> vectors + lexical index
(the engine) -> ranked passages -> answer.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import replace
from typing import Iterable, Iterator

from qa.config import GROUPS, LIST_ORDERS, SORTS, Settings
from qa.embeddings import Embedder, Encoder
from qa.engines import open_engine, open_feeds, open_jobs
from qa.engines.contracts import ArticleRecord, Filter
from qa.errors import BadInput, Conflict, NotFound
from qa.ingest import Article, check_id, free_id, slugify
from qa.passages import ModelInput
from qa.passages.sentences import split_lines, split_sentences
from qa.search import Hit, Searcher
from qa.service.corpus import CorpusFolder, SyncReport
from qa.sources import PAGE_TYPES, Fetcher, check_url
from qa.sources.feeds import Feeds
from qa.sources.pages import read_page
from qa.service.inputs import check_choice, check_filter, check_k, check_question
from qa.service.jobs import Jobs
from qa.service.writer import Item, Progress, WriteResult, Writer

log = logging.getLogger("qa.writes")
ARTICLE_FIELDS = ("id", "title", "author", "date", "source", "origin", "added_at", "passages", "text", "body_start",
                  "copy_of", "url")


class QAService:
    """Articles in, best passages out."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None, allow_rebuild: bool = False):
        """``allow_rebuild`` opens an index built with another model or passage settings, for
        :meth:`rebuild` (every other write is refused until it has run)."""
        self.settings = settings
        self.encoder = encoder or Embedder.of(settings)
        self.model_input = ModelInput(self.encoder, settings.chunking, settings.model_input)
        self.build_id = self.model_input.build_id(self.encoder.identity)
        self.engine = open_engine(settings, self.encoder.dim, self.build_id, allow_rebuild)
        self.searcher = Searcher(self.engine, self.encoder, settings.ranking)
        self.corpus = CorpusFolder(settings.corpus_dir, self.engine, settings.corpus_name)
        self.writer = Writer(self.engine, self.encoder, self.model_input, settings, self.corpus.file_of)
        # Run only where started (the server); two request threads are always left for reads.
        self.jobs = Jobs(self, open_jobs(settings), max_waiting=max(1, settings.threads - 2))
        self.fetcher = Fetcher(settings.fetch)
        self.feeds = Feeds(self, open_feeds(settings))  # polled only where started (the server)

    # --- ask ------------------------------------------------------------------------

    def ask(self, question: object, k: object = 5, filters: object = None, group: object = None,
            sort: object = None, facets: bool = False) -> dict:
        """Ranked passages for a question, each with its answering sentence and confidence, and the
        answer: the most confident answer sentence, or None when no result is confident enough.

        ``filters`` (see :func:`~qa.service.inputs.check_filter`) restricts the articles searched
        before anything is ranked; ``group="article"`` keeps each article's best passage, with the
        number of its passages among the ranked ones (``matches``); ``sort="date"`` orders the
        results newest first; ``facets`` adds the counts of the allowed articles by source and month.
        """
        question = check_question(question, self.settings.max_question_chars)
        k = check_k(k, self.settings.max_k)
        where = check_filter(filters)
        group = check_choice(group, "group", GROUPS)
        sort = check_choice(sort, "sort", SORTS)
        started = time.perf_counter()
        if group == "article":
            ranked = self.search(question, max(k, self.settings.ranking.rerank_depth), where)
            matches = Counter(hit.passage.article_id for hit in ranked)
            best: dict[str, Hit] = {}
            for hit in ranked:  # in rank order: each article's first is its best
                best.setdefault(hit.passage.article_id, hit)
            hits = list(best.values())[:k]
            results = [{**_result(0, hit), "matches": matches[hit.passage.article_id]} for hit in hits]
        else:
            hits = self.search(question, k, where)
            results = [_result(0, hit) for hit in hits]
        copies = self.copies(hit.passage.article_id for hit in hits)
        for result in results:
            result["copies"] = copies.get(result["article"]["id"], [])
        if sort == "date":  # newest first; undated last; relevance breaks ties (a stable sort)
            results.sort(key=lambda r: r["article"]["date"] or "", reverse=True)
        for rank, result in enumerate(results, 1):
            result["rank"] = rank
        reply = {"question": question, "took_ms": round((time.perf_counter() - started) * 1000, 1),
                 "answer": self._answer(results), "results": results}
        if facets:
            reply["facets"] = self.facets(where)
        return reply

    def facets(self, filters: object = None) -> dict:
        """How many of the articles the filter allows come from each source and each month (each
        counted as if that field were not filtered, so the other choices show their counts)."""
        counts = self.engine.store.facets(check_filter(filters))
        return {name: [{"value": value, "count": n} for value, n in rows] for name, rows in counts.items()}

    def _answer(self, results: list[dict]) -> dict | None:
        threshold = self.settings.min_confidence
        if threshold is None:
            threshold = self.searcher.models.min_confidence
        best = max(results, key=lambda r: r["confidence"], default=None)
        if best is None or best["confidence"] < threshold:
            return None
        return {"text": best["answer"], "confidence": best["confidence"], "article": best["article"],
                "copies": best["copies"], "start": best["answer_start"], "end": best["answer_end"],
                "rank": best["rank"]}

    def search(self, question: str, k: int, where: Filter = Filter()) -> list[Hit]:
        """The ranked passages behind :meth:`ask`, without its limits (evaluation asks for hundreds),
        among the passages of the articles ``where`` allows."""
        return self.searcher.search(question, k, where)

    def copies(self, article_ids: Iterable[str]) -> dict[str, list[dict]]:
        """The republished copies of each article that has any: they carry its passages too."""
        return self.engine.store.copies_of(article_ids)

    def warm(self, questions: list[str]) -> None:
        """Encode many questions in large batches ahead of asking them one by one."""
        self.encoder.warm(questions)

    # --- add, remove, sync ------------------------------------------------------------

    def add(self, article: Article, progress: Progress | None = None) -> WriteResult:
        """Add an article, or replace the one with the same id; identical content is a no-op.

        An article without an id gets a free one made from its title, and is a no-op if the
        same content is already stored under any id.
        """
        store = self.engine.store
        started = time.perf_counter()
        with self.writer.lock:
            if not article.id:
                same = store.article_by_hash(article.content_hash)
                if same is not None:
                    return WriteResult(same, "unchanged", self.writer.passage_count(same), article.title)
                taken = lambda candidate: store.article_hash(candidate) is not None  # noqa: E731
                article = replace(article, id=free_id(slugify(article.title), taken))
            result = self.writer.write([Item(article)], progress)[0]
        if result.status == "conflict":
            raise Conflict("corpus_article", f"article {article.id!r} is the file "
                                             f"{self.corpus.file_of(article.id)}: edit the file (the index "
                                             "follows at the next start or `run.py index`), or send this "
                                             "text under another id")
        if result.status == "empty":
            raise _no_sentences(article)
        _log_write(result.id, result.status, result.passages, started)
        return result

    def from_url(self, url: object, article_id: str | None = None) -> Article:
        """The article at ``url``, fetched and read; it keeps the id of the article already fetched
        from that URL, so that adding it again refreshes it (a no-op when unchanged)."""
        fetched = self.fetcher.fetch(url, PAGE_TYPES)
        store = self.engine.store
        known = article_id or store.article_by_url(fetched.url) or store.article_by_url(check_url(url))
        return read_page(fetched, known)

    def accept(self, article: Article) -> Article:
        """What can be refused before the model runs, refused now: a job is then refused when it is
        sent, not failed once it has been queued."""
        if not (split_sentences(article.text, article.body_start) or split_lines(article.text, 0, article.body_start)):
            raise _no_sentences(article)
        return article

    def add_many(self, articles: Iterable[Article], progress: Progress | None = None) -> list[WriteResult]:
        """Add or replace many articles in large batches. One with no sentences is reported ``empty``,
        one that would change the article of a file in ``corpus/`` ``conflict``; neither is stored."""
        started = time.perf_counter()
        results = self.writer.write([Item(a) for a in articles], progress)
        for result in results:
            _log_write(result.id, result.status, result.passages, started, logging.DEBUG)
        if results:
            log.info("wrote %d articles (%d passages) in %.0f ms", len(results), sum(r.passages for r in results),
                     1000 * (time.perf_counter() - started))
        return results

    def remove(self, article_id: str, force: bool = False) -> int:
        """Remove an article everywhere; returns how many passages went with it.

        An article whose file is still in ``corpus/`` goes with its file: removed here, it would
        come back at the next sync. ``force`` removes it all the same (the evaluation's own index)."""
        check_id(article_id)
        started = time.perf_counter()
        with self.writer.lock:
            path = None if force else self.corpus.file_of(article_id)
            if path is not None:
                raise Conflict("corpus_article", f"article {article_id!r} is the file {path}: delete the "
                                                 "file and the index follows at the next start or `run.py index`")
            removed = self.writer.delete(article_id)
        if removed is None:
            raise NotFound("article_not_found", f"no article with id {article_id!r}")
        _log_write(article_id, "removed", removed, started)
        return removed

    def sync(self, progress: Progress | None = None) -> SyncReport:
        """Make the index mirror ``corpus/``: new and changed files indexed, deleted files removed."""
        return self.corpus.sync(self.writer, progress)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Re-embed every stored article with this service's model and settings; how many there were."""
        return self.writer.rebuild(self.build_id, progress)

    def export(self) -> Iterator[ArticleRecord]:
        """Every article with its passages and vectors, to copy an index without re-embedding."""
        return self.engine.store.export()

    def import_records(self, records: Iterable[ArticleRecord], batch: int = 200) -> int:
        """Store articles exported by a service with the same build id, re-embedding nothing."""
        count, pending = 0, []
        with self.writer.lock:
            for record in records:
                pending.append(record)
                if len(pending) == batch:
                    self.engine.put(pending)
                    count, pending = count + len(pending), []
            if pending:
                self.engine.put(pending)
        return count + len(pending)

    # --- reads ----------------------------------------------------------------------

    def article(self, article_id: str) -> dict:
        check_id(article_id)
        row = self.engine.store.article(article_id)
        if row is None:
            raise NotFound("article_not_found", f"no article with id {article_id!r}")
        return {**{key: row[key] for key in ARTICLE_FIELDS}, "headings": json.loads(row["headings"]),
                "copies": self.copies([article_id]).get(article_id, [])}

    def articles(self, offset: int = 0, limit: int = 20, title: str = "", sort: object = None) -> dict:
        """A page of the articles whose titles hold ``title``, in ``sort`` order: ``added`` (the
        default), ``date`` (newest first, undated last) or ``title``."""
        sort = check_choice(sort, "sort", LIST_ORDERS)
        return {"total": self.engine.store.count_articles(title), "offset": offset, "limit": limit,
                "title": title, "sort": sort, "articles": self.engine.store.articles(offset, limit, title, sort)}

    def stats(self) -> dict:
        n_articles, n_passages = self.engine.store.counts()
        return {"status": "ok", "articles": n_articles, "passages": n_passages, "vectors": len(self.engine.vectors),
                "lexical": len(self.engine.lexical), "model": self.encoder.spec, "engine": self.engine.name,
                "vector_index": self.engine.vectors.kind}

    def claim(self) -> None:
        """Hold the index's writer from now on: while serving, no other process writes to it."""
        self.engine.claim()

    def close(self) -> None:
        self.feeds.close()
        self.jobs.close()
        self.fetcher.close()
        self.engine.close()


def _no_sentences(article: Article) -> BadInput:
    return BadInput("no_sentences", f"article {article.id or article.title!r} has no sentences to index")


def _log_write(article_id: str, status: str, passages: int, started: float, level: int = logging.INFO) -> None:
    took = round(1000 * (time.perf_counter() - started))
    log.log(level, "%s article %s (%d passages) in %d ms", status, article_id, passages, took,
            extra={"article": article_id, "outcome": status, "passages": passages, "ms": took})


def _result(rank: int, hit: Hit) -> dict:
    """One ranked passage as the API returns it; offsets are into the article text."""
    p = hit.passage
    a, b = hit.answer
    return {"rank": rank, "score": round(hit.score, 4), "confidence": round(hit.confidence, 3),
            "text": p.text, "answer": p.text[a:b],
            "answer_start": p.start + a, "answer_end": p.start + b, "start": p.start, "end": p.end,
            "article": p.article}
