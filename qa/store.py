"""SQLite: the source of truth for articles, passages and their vectors.

One transaction adds or removes an article with all its passages and
vectors: a crash leaves the article wholly there or wholly gone. The vector
and BM25 indexes are derived from these tables and reconciled with them at
start. WAL mode lets searches read while a write is under way;
``synchronous=FULL`` makes an acknowledged write survive a crash.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from qa.articles import Article
from qa.chunking import Passage

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    author TEXT,
    date TEXT,
    source TEXT,
    text TEXT NOT NULL,
    body_start INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,
    origin TEXT NOT NULL,            -- 'corpus' (a file in corpus/) or 'api'
    path TEXT UNIQUE,                -- corpus-relative path for 'corpus' articles
    mtime_ns INTEGER,
    size INTEGER,
    added_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_hash ON articles(content_hash);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    sentences TEXT NOT NULL,         -- JSON [[start, end], ...], offsets into the article text
    vector BLOB NOT NULL,            -- float32 unit vector
    sentence_vectors BLOB NOT NULL   -- float16 unit vectors, one per sentence
);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article_id);
"""


@dataclass(frozen=True)
class StoredPassage:
    """A passage as the search returns it, with its article's metadata."""

    id: int
    article_id: str
    start: int
    end: int
    text: str
    sentences: list[tuple[int, int]]  # offsets into ``text``
    sentence_vectors: np.ndarray
    article: dict


@dataclass(frozen=True)
class CorpusFile:
    article_id: str
    mtime_ns: int
    size: int


class Store:
    """Thread-safe access to the database: one connection per thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.conn.executescript(f"BEGIN IMMEDIATE; {SCHEMA} COMMIT;")

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception rolls everything back."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # --- metadata ---------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    # --- writes -------------------------------------------------------------------

    def put_article(self, conn: sqlite3.Connection, article: Article, passages: list[Passage],
                    vectors: np.ndarray, sentence_vectors: list[np.ndarray], origin: str,
                    file: CorpusFile | None = None, path: str | None = None) -> tuple[list[int], list[int]]:
        """Insert or replace an article with its passages; returns ``(new ids, removed ids)``.

        Call inside :meth:`transaction`.
        """
        removed = self._delete(conn, article.id)
        if path is not None:  # a file renamed onto another article's path takes the path over
            removed += self._delete_path(conn, path)
        conn.execute(
            "INSERT INTO articles(id, title, author, date, source, text, body_start, content_hash, origin,"
            " path, mtime_ns, size, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.title, article.author, article.date, article.source, article.text,
             article.body_start, article.content_hash, origin, path,
             file.mtime_ns if file else None, file.size if file else None,
             datetime.now(timezone.utc).isoformat(timespec="seconds")),
        )
        new_ids = []
        for passage, vector, sent_vecs in zip(passages, vectors, sentence_vectors):
            cursor = conn.execute(
                'INSERT INTO passages(article_id, ord, start, "end", sentences, vector, sentence_vectors)'
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (article.id, passage.ord, passage.start, passage.end, json.dumps(passage.sentences),
                 np.asarray(vector, np.float32).tobytes(), np.asarray(sent_vecs, np.float16).tobytes()),
            )
            new_ids.append(cursor.lastrowid)
        return new_ids, removed

    def delete_article(self, conn: sqlite3.Connection, article_id: str) -> list[int] | None:
        """Remove an article; returns its passage ids, or None if there was no such article."""
        if conn.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is None:
            return None
        return self._delete(conn, article_id)

    def touch_file(self, conn: sqlite3.Connection, article_id: str, path: str, file: CorpusFile) -> None:
        """Record a corpus file's new stat when its content did not change (the file now owns the article)."""
        conn.execute("UPDATE articles SET origin = 'corpus', path = ?, mtime_ns = ?, size = ? WHERE id = ?",
                     (path, file.mtime_ns, file.size, article_id))

    def _delete(self, conn: sqlite3.Connection, article_id: str) -> list[int]:
        ids = [r[0] for r in conn.execute("SELECT id FROM passages WHERE article_id = ?", (article_id,))]
        conn.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
        conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return ids

    def _delete_path(self, conn: sqlite3.Connection, path: str) -> list[int]:
        row = conn.execute("SELECT id FROM articles WHERE path = ?", (path,)).fetchone()
        return self._delete(conn, row[0]) if row else []

    # --- reads --------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        articles = self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        passages = self.conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        return articles, passages

    def article(self, article_id: str) -> dict | None:
        row = self.conn.execute(
            "SELECT a.*, (SELECT COUNT(*) FROM passages p WHERE p.article_id = a.id) AS passages"
            " FROM articles a WHERE a.id = ?", (article_id,)).fetchone()
        return dict(row) if row else None

    def articles(self, offset: int = 0, limit: int = 50) -> list[dict]:
        rows = self.conn.execute(
            "SELECT a.id, a.title, a.author, a.date, a.source, a.origin, a.added_at,"
            " (SELECT COUNT(*) FROM passages p WHERE p.article_id = a.id) AS passages"
            " FROM articles a ORDER BY a.added_at, a.id LIMIT ? OFFSET ?", (limit, offset))
        return [dict(r) for r in rows]

    def article_by_hash(self, content_hash: str) -> str | None:
        row = self.conn.execute("SELECT id FROM articles WHERE content_hash = ?", (content_hash,)).fetchone()
        return row[0] if row else None

    def article_hash(self, article_id: str) -> str | None:
        row = self.conn.execute("SELECT content_hash FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def corpus_path(self, article_id: str) -> str | None:
        """The ``corpus/``-relative file an article comes from; None for API and CLI articles."""
        row = self.conn.execute("SELECT path FROM articles WHERE id = ? AND origin = 'corpus'",
                                (article_id,)).fetchone()
        return row[0] if row else None

    def article_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM articles")]

    def corpus_files(self) -> dict[str, CorpusFile]:
        rows = self.conn.execute("SELECT path, id, mtime_ns, size FROM articles WHERE origin = 'corpus'")
        return {r["path"]: CorpusFile(r["id"], r["mtime_ns"] or 0, r["size"] or 0) for r in rows}

    def passage_ids(self) -> np.ndarray:
        return np.fromiter((r[0] for r in self.conn.execute("SELECT id FROM passages")), dtype=np.int64)

    def vectors(self, ids: list[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(ids found, vectors)`` for the given passage ids, in batches of SQLite's parameter limit."""
        found, vecs = [], []
        ids = [int(i) for i in ids]
        for lo in range(0, len(ids), 500):
            part = ids[lo:lo + 500]
            sql = f"SELECT id, vector FROM passages WHERE id IN ({','.join('?' * len(part))})"
            for row in self.conn.execute(sql, part):
                found.append(row[0])
                vecs.append(np.frombuffer(row[1], dtype=np.float32))
        if not vecs:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return np.asarray(found, np.int64), np.stack(vecs)

    def passage_texts(self, ids: Sequence[int]) -> Iterator[tuple[int, str, str]]:
        """``(passage id, article title, passage text)`` rows, for (re)building the BM25 index."""
        ids = [int(i) for i in ids]
        for lo in range(0, len(ids), 500):
            part = ids[lo:lo + 500]
            yield from self.conn.execute(
                'SELECT p.id, a.title, substr(a.text, p.start + 1, p."end" - p.start) FROM passages p'
                f" JOIN articles a ON a.id = p.article_id WHERE p.id IN ({','.join('?' * len(part))})", part)

    def passages(self, ids: list[int]) -> dict[int, StoredPassage]:
        """Passages with their text, sentences, sentence vectors and article metadata."""
        if not ids:
            return {}
        sql = ('SELECT p.id, p.article_id, p.start, p."end", p.sentences, p.sentence_vectors,'
               " substr(a.text, p.start + 1, p.\"end\" - p.start) AS text,"
               " a.title, a.author, a.date, a.source"
               f" FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.id IN ({','.join('?' * len(ids))})")
        out = {}
        for r in self.conn.execute(sql, [int(i) for i in ids]):
            start = r["start"]
            sentences = [(a - start, b - start) for a, b in json.loads(r["sentences"])]
            vecs = np.frombuffer(r["sentence_vectors"], dtype=np.float16).reshape(len(sentences), -1)
            out[r["id"]] = StoredPassage(
                id=r["id"], article_id=r["article_id"], start=start, end=r["end"], text=r["text"],
                sentences=sentences, sentence_vectors=vecs.astype(np.float32),
                article={"id": r["article_id"], "title": r["title"], "author": r["author"],
                         "date": r["date"], "source": r["source"]},
            )
        return out
