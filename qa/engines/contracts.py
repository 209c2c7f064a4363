"""The engine contracts: a document store, a vector index and a lexical index, each small, and the
engine that keeps the three in step.

They are shaped for a remote engine as well as the local one: everything
goes by batches of passage ids, the store counts and a write of an article is one call that is all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol, TypeAlias

import numpy as np

from qa.ingest.article import Article
from qa.passages.sentences import Span


@dataclass(frozen=True)
class FileStamp:
    """The ``corpus/`` file an article comes from, as last read: its path and stat."""

    path: str
    mtime_ns: int
    size: int


@dataclass(frozen=True)
class PassageRecord:
    """A passage on its way into the store, with the vectors the model gave it."""

    start: int
    end: int
    sentences: tuple[Span, ...]
    vector: np.ndarray            # unit vector
    sentence_vectors: np.ndarray  # one unit vector per sentence


@dataclass(frozen=True)
class ArticleRecord:
    """An article with its passages, as one write puts it (or an export yields it)."""

    article: Article
    passages: list[PassageRecord]
    origin: str = "api"            # 'corpus' (a file in corpus/) or 'api'
    file: FileStamp | None = None  # for 'corpus' articles
    copy_of: str | None = None     # a republished copy (no passages of its own): the article it repeats
    signature: bytes | None = None  # the body's near-duplicate signature


@dataclass(frozen=True)
class StoredPassage:
    """A passage as the search returns it, with its article's metadata."""

    id: int
    article_id: str
    start: int
    end: int
    text: str
    sentences: list[Span]          # offsets into ``text``
    sentence_vectors: np.ndarray
    article: dict
    header: bool = False           # the header card (headline, byline, date lines), not the body


@dataclass(frozen=True)
class Filter:
    """Which articles a question is asked over: any of the sources, any of the authors, any of the
    article ids (each empty: no restriction), dated within ``date_from``..``date_to`` (inclusive,
    ``YYYY-MM-DD``; with either bound set, an undated article is left out). Engine-neutral: each
    engine resolves it its own way, before it ranks anything."""

    sources: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def __bool__(self) -> bool:
        return bool(self.sources or self.authors or self.articles or self.date_from or self.date_to)


# The passages a filter allows, in the form the engine's own vector index searches among: the sorted
# passage ids (local) or a filter expression (Milvus). Made by :meth:`Engine.scope`.
Scope: TypeAlias = "np.ndarray | str"


class DocumentStore(Protocol):
    """The source of truth: articles, their passages and the passages' vectors."""

    def meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def counts(self) -> tuple[int, int]:
        """``(articles, passages)``."""
        ...

    def article(self, article_id: str) -> dict | None:
        """The article's metadata, text, origin, file and passage count."""
        ...

    def articles(self, offset: int = 0, limit: int = 50, title: str = "", sort: str = "added") -> list[dict]:
        """A page of article summaries, titles holding ``title`` only, in ``sort`` order
        (``added``, ``date``: newest first, ``title``)."""
        ...

    def count_articles(self, title: str = "") -> int: ...

    def facets(self, where: Filter) -> dict[str, list[tuple[str, int]]]:
        """Counts of the articles ``where`` allows: ``{"source": [(source, n)], "month":
        [("YYYY-MM", n)]}``, each facet counted as if its own field were not filtered."""
        ...

    def article_hash(self, article_id: str) -> str | None: ...

    def article_by_hash(self, content_hash: str) -> str | None: ...

    def article_by_url(self, url: str) -> str | None:
        """The article fetched from ``url``, if any (re-adding a URL refreshes it)."""
        ...

    def corpus_files(self) -> dict[str, tuple[str, FileStamp]]:
        """Every ``corpus/`` article by its path: ``{path: (article id, stamp)}``."""
        ...

    def article_ids(self) -> list[str]: ...

    def copies_of(self, article_ids: Iterable[str]) -> dict[str, list[dict]]:
        """``{article id: [{"id", "title", "source", "date"}, ...]}`` for the articles that have copies."""
        ...

    def repoint_copies(self, old: str, new: str) -> None:
        """Make the copies of ``old`` copies of ``new``."""
        ...

    def signatures(self) -> dict[str, bytes | None]:
        """The near-duplicate signature of every original (an article that is not a copy); None where
        an index made before copies were recognised has none yet."""
        ...

    def set_signatures(self, signatures: dict[str, bytes]) -> None: ...

    def stored(self, article_id: str) -> Article | None:
        """The article as it was written."""
        ...

    def set_file(self, article_id: str, file: FileStamp) -> None:
        """Record that a ``corpus/`` file (unchanged in content) now owns an article."""
        ...

    def passages(self, ids: list[int]) -> dict[int, StoredPassage]: ...

    def articles_of(self, ids: Iterable[int]) -> dict[int, str]:
        """The article id of each passage found (cheap: no text, no vectors)."""
        ...

    def vectors(self, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids found, vectors)``."""
        ...

    def export(self) -> Iterator[ArticleRecord]:
        """Every article with its passages and vectors (copies an index without re-embedding)."""
        ...


class VectorIndex(Protocol):
    """Dense search over passage vectors."""

    kind: str  # "flat" (exact) or an approximate method

    def search(self, query: np.ndarray, k: int, allowed: Scope | None = None) -> list[tuple[int, float]]:
        """The ``k`` best ``(passage id, cosine)``, best first, among the passages ``allowed``
        (None: every passage)."""
        ...

    def scores(self, query: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(ids found, cosine of each with query)``: the dense score of candidates the other index
        found (computed where the vectors are, so no vector travels)."""
        ...

    def __len__(self) -> int: ...


class LexicalIndex(Protocol):
    """BM25 over each passage with its article's title, and the analyser behind it."""

    def terms(self, text: str) -> tuple[str, ...]:
        """The distinct index terms of ``text``, in order, as the index analyses it."""
        ...

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """BM25's idf of each term over the passages held."""
        ...

    def search(self, terms: tuple[str, ...], k: int, where: Filter | None = None) -> list[tuple[int, float]]:
        """The ``k`` best ``(passage id, BM25 score)`` for passages holding any of ``terms``, among
        the passages of the articles ``where`` allows (None: every passage)."""
        ...

    def __len__(self) -> int: ...


class JobQueue(Protocol):
    """Background jobs, stored durably before they are acknowledged."""

    def submit(self, kind: str, payload: dict, resume: bool = True) -> str: ...

    def get(self, job_id: str) -> dict | None: ...

    def abandon_waited(self, error: dict) -> int:
        """Fail the unfinished jobs a caller was waiting for (the last stop ended them); how many."""
        ...

    def unfinished(self) -> list[dict]: ...

    def recent(self, limit: int = 20) -> list[dict]: ...

    def start(self, job_id: str) -> None: ...

    def finish(self, job_id: str, done: int, total: int, result: object) -> None: ...

    def fail(self, job_id: str, done: int, total: int, error: dict) -> None: ...

    def close(self) -> None: ...


class FeedList(Protocol):
    """The feeds a server follows, with what each poll found."""

    def add(self, url: str, every_minutes: int) -> dict: ...

    def get(self, feed_id: str) -> dict | None: ...

    def all(self) -> list[dict]: ...

    def due(self) -> list[dict]: ...

    def remove(self, feed_id: str) -> bool: ...

    def seen(self, feed_id: str, item: str) -> bool: ...

    def polled(self, feed_id: str, etag: str | None, last_modified: str | None, items: list[str], added: int,
               error: str | None) -> None: ...

    def close(self) -> None: ...


class Engine(Protocol):
    """A store and its two indexes, kept in step: what the service writes through and searches."""

    name: str
    store: DocumentStore
    vectors: VectorIndex
    lexical: LexicalIndex
    needs_rebuild: bool  # the stored vectors were made another way (see qa.engines.build)

    def mark_built(self, build: str) -> None:
        """Every stored article has been re-embedded as ``build``."""
        ...

    def put(self, records: list[ArticleRecord]) -> None:
        """Add or replace articles (each with all its passages, or not at all), durably."""
        ...

    def delete(self, article_id: str) -> int | None:
        """Remove an article everywhere; its passage count, or None if there was none."""
        ...

    def scope(self, where: Filter) -> Scope:
        """The passages ``where`` allows, as :meth:`VectorIndex.search` takes them (made while the
        question is encoded)."""
        ...

    def claim(self) -> None:
        """Take the right to write now (``Busy`` if another process holds it)."""
        ...

    def close(self) -> None: ...
