"""The lexical index: BM25 over each passage with its article's title, by tantivy.

Text is analysed by :mod:`qa.engines.analysis` (tantivy's own analyser), so a
question's terms are exactly the terms the index holds.

Like the vector file, this index under ``index/lexical/`` is derived from the
SQLite store: it records the store generation it reflects (in ``generation``
beside it, written after each commit) and catches up from the store's change
log when it is behind. Tantivy answers a BM25 query in about a millisecond at
100,000 passages (it skips passages that cannot reach the top k); SQLite FTS5,
used before, scored every matching passage and took 15-60 ms.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import tantivy

from qa.engines.analysis import ANALYZER_NAME, analyzer, day, fold, idf, terms
from qa.engines.contracts import Filter
from qa.engines.local.vectors import write_atomically
from qa.errors import Busy

_FILTERED = {"article": "articles", "source": "sources", "author": "authors"}  # field -> Filter attribute


def _schema() -> tantivy.Schema:
    # One text field, title then passage: on SciFact this beat separate title and body fields
    # (BM25 alone, nDCG@10 0.688 against 0.649; docs/evaluation.md). The article's id, source and
    # author (whole, ASCII case folded as SQLite's NOCASE) and its date (YYYYMMDD) are for filters.
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pid", indexed=True, fast=True)
    builder.add_text_field("text", tokenizer_name=ANALYZER_NAME, index_option="freq")
    for field in _FILTERED:
        builder.add_text_field(field, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("date", indexed=True, fast=True)
    return builder.build()


class _Snapshot:
    """A searcher over the index as last committed, with the passage counts of the terms already
    looked up in it. Each ``doc_freq`` call crosses into tantivy and back, and made while the model
    thread encodes the question it waits for the GIL: over a millisecond of each question's idf in a
    profile. The counts change only with a commit, which makes a new snapshot."""

    _MAX_TERMS = 100_000  # past this many remembered counts, start again (questions of random words)

    def __init__(self, searcher: tantivy.Searcher):
        self.searcher = searcher
        self._counts: dict[str, int] = {}

    def doc_freq(self, term: str) -> int:
        count = self._counts.get(term)
        if count is None:
            if len(self._counts) >= self._MAX_TERMS:
                self._counts = {}
            count = self._counts[term] = self.searcher.doc_freq("text", term)
        return count


class Bm25Index:
    """Passages by id, searchable by analysed terms."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._index = tantivy.Index(_schema(), path=str(self.path), reuse=True)
        except ValueError as exc:
            raise ValueError(f"unreadable lexical index {self.path}: {exc}") from None
        self._index.register_tokenizer(ANALYZER_NAME, analyzer())
        self._writer: tantivy.IndexWriter | None = None
        self._writer_lock = threading.Lock()
        self._snapshot = _Snapshot(self._index.searcher())  # kept between commits: making one costs ~0.8 ms

    @classmethod
    def recreate(cls, path: Path) -> "Bm25Index":
        shutil.rmtree(path, ignore_errors=True)
        return cls(path)

    @property
    def generation(self) -> int | None:
        """The store generation this index was last committed at (None: unknown)."""
        try:
            return int((self.path / "generation").read_text())
        except (OSError, ValueError):
            return None

    # --- writes (the engine serializes them) ----------------------------------------------

    def add(self, rows: Iterable[tuple]) -> None:
        """Add ``(passage id, title, body, article id, source, author, date)`` rows; they are
        searchable after :meth:`commit`."""
        writer = self._writable()
        for pid, title, body, article, source, author, date in rows:
            fields = {"pid": int(pid), "text": f"{title}\n{body}", "article": article}
            fields.update({name: fold(value) for name, value in (("source", source), ("author", author)) if value})
            if date:
                fields["date"] = day(date)
            writer.add_document(tantivy.Document(**fields))

    def remove(self, ids: Sequence[int]) -> None:
        if len(ids):
            query = tantivy.Query.term_set_query(self._index.schema, "pid", [int(i) for i in ids])
            self._writable().delete_documents_by_query(query)

    def commit(self, generation: int) -> None:
        """Make the changes searchable and durable, as of store ``generation``."""
        if self._writer is not None:
            self._writer.commit()
            self._index.reload()
            self._snapshot = _Snapshot(self._index.searcher())
        write_atomically(self.path / "generation", str(generation).encode())

    def claim_writer(self) -> None:
        """Take this index's single writer now (``index_busy`` if another process holds it), so a
        write fails before anything is stored, and a server keeps other processes from writing."""
        self._writable()

    def _writable(self) -> tantivy.IndexWriter:
        with self._writer_lock:
            if self._writer is None:
                try:
                    self._writer = self._index.writer(heap_size=64_000_000, num_threads=1)
                except ValueError:
                    raise Busy("index_busy", f"another process (a running server?) is writing to the index in "
                                             f"{self.path.parent}: stop it first, or send the change through "
                                             "its API") from None
            return self._writer

    def close(self) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.commit()
                self._writer.wait_merging_threads()
                self._writer = None

    # --- reads ----------------------------------------------------------------------------

    def terms(self, text: str) -> tuple[str, ...]:
        return terms(text)

    def idf(self, query_terms: Iterable[str]) -> dict[str, float]:
        snapshot = self._snapshot
        total = snapshot.searcher.num_docs
        return {t: idf(total, snapshot.doc_freq(t)) for t in query_terms}

    def search(self, query_terms: tuple[str, ...], k: int, where: Filter | None = None) -> list[tuple[int, float]]:
        if not query_terms:
            return []
        schema = self._index.schema
        clauses = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "text", term)) for term in query_terms]
        query = tantivy.Query.boolean_query(clauses)
        if where:  # a filter inside the query, scoring nothing: BM25 ranks only the passages it allows
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query),
                                                 (tantivy.Occur.Must, self._filter(where))])
        searcher = self._snapshot.searcher
        hits = searcher.search(query, k, count=False).hits
        ids = searcher.fast_field_values("pid", [address for _, address in hits])
        return [(pid, score) for (score, _), pid in zip(hits, ids)]

    def _filter(self, where: Filter) -> tantivy.Query:
        schema = self._index.schema
        musts = []
        for field, attribute in _FILTERED.items():
            values = getattr(where, attribute)
            if values:
                musts.append(tantivy.Query.term_set_query(
                    schema, field, [v if field == "article" else fold(v) for v in values]))
        if where.date_from or where.date_to:
            musts.append(tantivy.Query.range_query(schema, "date", tantivy.FieldType.Integer,
                                                   day(where.date_from) if where.date_from else None,
                                                   day(where.date_to) if where.date_to else None))
        return tantivy.Query.const_score_query(tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, query) for query in musts]), 0.0)

    def ids(self) -> np.ndarray:
        searcher = self._snapshot.searcher
        if searcher.num_docs == 0:
            return np.zeros(0, np.int64)
        hits = searcher.search(tantivy.Query.all_query(), searcher.num_docs, count=False).hits
        return np.asarray(searcher.fast_field_values("pid", [a for _, a in hits]), dtype=np.int64)

    def __len__(self) -> int:
        return self._snapshot.searcher.num_docs
