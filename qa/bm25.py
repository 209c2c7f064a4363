"""The lexical index: BM25 over each passage with its article's title, by tantivy.

Like the FAISS file, this index under ``index/lexical/`` is derived from the
SQLite store and reconciled with it at start, so a crash between the SQLite
commit and this one loses nothing. Tantivy answers a BM25 query in about a
millisecond at 100,000 passages (it skips passages that cannot reach the top
k); SQLite FTS5, used before, scored every matching passage and took 15-60 ms.
"""

from __future__ import annotations

import math
import shutil
import threading
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import tantivy

from qa import lexical
from qa.errors import QAError

def _schema() -> tantivy.Schema:
    # One text field, title then passage: on SciFact this beat separate title and body fields
    # (BM25 alone, nDCG@10 0.688 against 0.649; README, Evaluation).
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pid", indexed=True, fast=True)
    builder.add_text_field("text", tokenizer_name=lexical.ANALYZER_NAME, index_option="freq")
    return builder.build()


def idf(total: int, df: int) -> float:
    """Tantivy's (Lucene's) BM25 idf; a term in no passage counts as rarest."""
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


class Bm25Index:
    """Passages by id, searchable by analysed terms (see :mod:`qa.lexical`)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._index = tantivy.Index(_schema(), path=str(self.path), reuse=True)
        except ValueError as exc:
            raise ValueError(f"unreadable lexical index {self.path}: {exc}") from None
        self._index.register_tokenizer(lexical.ANALYZER_NAME, lexical.analyzer())
        self._writer: tantivy.IndexWriter | None = None
        self._writer_lock = threading.Lock()
        self._searcher = self._index.searcher()  # kept between commits: making one costs ~0.8 ms

    @classmethod
    def recreate(cls, path: Path) -> "Bm25Index":
        shutil.rmtree(path, ignore_errors=True)
        return cls(path)

    # --- writes (the service serializes them) ---------------------------------------------

    def add(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Add ``(passage id, title, body)`` rows; they are searchable after :meth:`commit`."""
        writer = self._writable()
        for pid, title, body in rows:
            writer.add_document(tantivy.Document(pid=int(pid), text=f"{title}\n{body}"))

    def remove(self, ids: Sequence[int]) -> None:
        if len(ids):
            query = tantivy.Query.term_set_query(self._index.schema, "pid", [int(i) for i in ids])
            self._writable().delete_documents_by_query(query)

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._index.reload()
            self._searcher = self._index.searcher()

    def claim_writer(self) -> None:
        """Take this index's single writer now (``index_busy`` if another process holds it), so a
        write fails before anything is stored, and a server keeps other processes from writing."""
        self._writable()

    def _writable(self) -> tantivy.IndexWriter:
        with self._writer_lock:
            if self._writer is None:
                try:
                    self._writer = self._index.writer(heap_size=64_000_000, num_threads=1)
                except ValueError as exc:
                    raise QAError("index_busy", f"another process is writing to {self.path}: stop it first "
                                                f"({exc})", status=503) from None
            return self._writer

    def close(self) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.commit()
                self._writer.wait_merging_threads()
                self._writer = None

    # --- reads ----------------------------------------------------------------------------

    def search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Top ``k`` ``(passage id, BM25 score)`` for analysed ``terms``, any of which may match."""
        if not terms:
            return []
        schema = self._index.schema
        clauses = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "text", term)) for term in terms]
        searcher = self._searcher
        hits = searcher.search(tantivy.Query.boolean_query(clauses), k, count=False).hits
        ids = searcher.fast_field_values("pid", [address for _, address in hits])
        return [(pid, score) for (score, _), pid in zip(hits, ids)]

    def doc_freqs(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many passages there are, and how many hold each term."""
        searcher = self._searcher
        return searcher.num_docs, {t: searcher.doc_freq("text", t) for t in terms}

    def ids(self) -> np.ndarray:
        searcher = self._searcher
        if searcher.num_docs == 0:
            return np.zeros(0, np.int64)
        hits = searcher.search(tantivy.Query.all_query(), searcher.num_docs, count=False).hits
        return np.asarray(searcher.fast_field_values("pid", [a for _, a in hits]), dtype=np.int64)

    def __len__(self) -> int:
        return self._searcher.num_docs
