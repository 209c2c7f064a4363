"""SQLite: the source of truth for articles, passages and their vectors.

One transaction adds or removes an article with all its passages and
vectors: a crash leaves the article wholly there or wholly gone. WAL mode
lets searches read while a write is under way; ``synchronous=FULL`` makes an
acknowledged write survive a crash. Every passage added or removed is also
logged with a growing sequence number (the generation), so that the vector
and lexical indexes derived from these tables catch up with what changed
since they were saved instead of comparing every id at start.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from qa.engines.local.database import Database
from qa.engines.contracts import ArticleRecord, FileStamp, Filter, PassageRecord, StoredPassage
from qa.ingest.article import Article

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
    headings TEXT NOT NULL DEFAULT '[]', -- JSON [[start, end], ...]: section headings in the body
    content_hash TEXT NOT NULL,
    origin TEXT NOT NULL,            -- 'corpus' (a file in corpus/) or 'api'
    path TEXT UNIQUE,                -- corpus-relative path for 'corpus' articles
    mtime_ns INTEGER,
    size INTEGER,
    added_at TEXT NOT NULL,
    url TEXT,                        -- the page it was fetched from (an article added by URL)
    copy_of TEXT,                    -- a republished copy: the id of the article whose passages it shares
    signature BLOB,                  -- the MinHash of its body that copies are recognised by
    first_passage INTEGER,           -- its passages are ids first_passage .. + passage_count - 1
    passage_count INTEGER            -- (NULL: not one run of ids; read them one by one)
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
CREATE TABLE IF NOT EXISTS changes (  -- passages added (1) or removed (0), in order
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    passage INTEGER NOT NULL,
    added INTEGER NOT NULL
);
"""
_ADDED_COLUMNS = {"headings": "TEXT NOT NULL DEFAULT '[]'", "copy_of": "TEXT", "signature": "BLOB", "url": "TEXT"}
_BATCH = 500  # ids per query, under SQLite's parameter limit
# "added": the order of writing (rowid breaks ties within one second of added_at).
_ORDER = {"added": "a.added_at, a.rowid", "date": "a.date IS NULL, a.date DESC, a.id",
          "title": "a.title COLLATE NOCASE, a.id"}


@dataclass(frozen=True)
class Changes:
    """Passages added and removed since a generation, as they stand now."""

    added: np.ndarray
    removed: np.ndarray


class Store(Database):
    """Articles, passages and the change log."""

    def __init__(self, path: Path):
        super().__init__(path, SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(articles)")}
        for column, definition in _ADDED_COLUMNS.items():  # a database made before the column existed
            if column not in columns:
                self._conn.execute(f"ALTER TABLE articles ADD COLUMN {column} {definition}")
        self._conn.execute("CREATE INDEX IF NOT EXISTS articles_copy_of ON articles(copy_of)")
        self._conn.execute("CREATE INDEX IF NOT EXISTS articles_url ON articles(url)")
        if "first_passage" not in columns:  # made before filters: each article's run of passage ids, if it is one
            with self._transaction() as conn:
                conn.execute("ALTER TABLE articles ADD COLUMN first_passage INTEGER")
                conn.execute("ALTER TABLE articles ADD COLUMN passage_count INTEGER")
                conn.execute("UPDATE articles SET (first_passage, passage_count) = (SELECT MIN(id), COUNT(*) FROM"
                             " passages p WHERE p.article_id = articles.id HAVING MAX(id) - MIN(id) + 1 = COUNT(*))")
        # For filters; each holds the passage runs, so a filter never reads the rows (their text).
        self._conn.executescript("""
            CREATE INDEX IF NOT EXISTS articles_source ON articles(source COLLATE NOCASE, first_passage, passage_count);
            CREATE INDEX IF NOT EXISTS articles_author ON articles(author COLLATE NOCASE, first_passage, passage_count);
            CREATE INDEX IF NOT EXISTS articles_date ON articles(date, first_passage, passage_count);""")

    # --- metadata ---------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        return _meta(self._conn, key)

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction() as conn:
            _set_meta(conn, key, value)

    # --- writes -------------------------------------------------------------------

    def put(self, records: list[ArticleRecord]) -> tuple[list[list[int]], list[int], int]:
        """Insert or replace articles with their passages, in one transaction.

        Returns the new passage ids of each record, the ids of the passages replaced, and the
        generation after the write.
        """
        added_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        new_ids: list[list[int]] = []
        removed: list[int] = []
        with self._transaction() as conn:
            for record in records:
                a, file = record.article, record.file
                removed += _delete(conn, a.id)
                if file is not None:  # a file renamed onto another article's path takes the path over
                    row = conn.execute("SELECT id FROM articles WHERE path = ?", (file.path,)).fetchone()
                    removed += _delete(conn, row[0]) if row else []
                conn.execute(
                    "INSERT INTO articles(id, title, author, date, source, text, body_start, headings, content_hash,"
                    " origin, path, mtime_ns, size, added_at, copy_of, signature, url)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (a.id, a.title, a.author, a.date, a.source, a.text, a.body_start, json.dumps(a.headings),
                     a.content_hash, record.origin, file.path if file else None, file.mtime_ns if file else None,
                     file.size if file else None, added_at, record.copy_of, record.signature, a.url))
                ids = []
                for ord_, p in enumerate(record.passages):
                    cursor = conn.execute(
                        'INSERT INTO passages(article_id, ord, start, "end", sentences, vector, sentence_vectors)'
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (a.id, ord_, p.start, p.end, json.dumps(p.sentences),
                         np.asarray(p.vector, np.float32).tobytes(),
                         np.asarray(p.sentence_vectors, np.float16).tobytes()))
                    ids.append(cursor.lastrowid)
                run = bool(ids) and ids == list(range(ids[0], ids[0] + len(ids)))
                conn.execute("UPDATE articles SET first_passage = ?, passage_count = ? WHERE id = ?",
                             (ids[0] if run else None, len(ids) if run else None, a.id))
                new_ids.append(ids)
            _log(conn, removed, added=False)
            _log(conn, [i for ids in new_ids for i in ids], added=True)
            generation = _generation(conn)
        return new_ids, removed, generation

    def delete(self, article_id: str) -> tuple[list[int], int] | None:
        """Remove an article; its passage ids and the generation after, or None if there was none."""
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is None:
                return None
            removed = _delete(conn, article_id)
            _log(conn, removed, added=False)
            return removed, _generation(conn)

    def repoint_copies(self, old: str, new: str) -> None:
        """The copies of ``old`` become copies of ``new`` (``old`` was removed, or became a copy of ``new``)."""
        with self._transaction() as conn:
            conn.execute("UPDATE articles SET copy_of = ? WHERE copy_of = ? AND id != ?", (new, old, new))

    def set_file(self, article_id: str, file: FileStamp) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE articles SET origin = 'corpus', path = ?, mtime_ns = ?, size = ? WHERE id = ?",
                         (file.path, file.mtime_ns, file.size, article_id))

    # --- the change log -----------------------------------------------------------

    def generation(self) -> int:
        return _generation(self._conn)

    def changes_since(self, generation: int) -> Changes | None:
        known_from = int(self.meta("changes_from") or 0)
        if not known_from <= generation <= self.generation():
            return None
        added, removed = set(), set()
        for passage, was_added in self._conn.execute(
                "SELECT passage, added FROM changes WHERE seq > ? ORDER BY seq", (generation,)):
            (added if was_added else removed).add(passage)
        return Changes(np.array(sorted(added - removed), np.int64), np.array(sorted(removed), np.int64))

    def forget_changes(self, upto: int) -> None:
        """Drop the log up to ``upto``: every derived index has saved what came before."""
        with self._transaction() as conn:
            if upto > int(_meta(conn, "changes_from") or 0):
                conn.execute("DELETE FROM changes WHERE seq <= ?", (upto,))
                _set_meta(conn, "changes_from", str(upto))

    # --- reads --------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        articles = self._conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        passages = self._conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        return articles, passages

    def article(self, article_id: str) -> dict | None:
        row = self._conn.execute(
            "SELECT a.*, (SELECT COUNT(*) FROM passages p WHERE p.article_id = a.id) AS passages"
            " FROM articles a WHERE a.id = ?", (article_id,)).fetchone()
        return dict(row) if row else None

    def articles(self, offset: int = 0, limit: int = 50, title: str = "", sort: str = "added") -> list[dict]:
        rows = self._conn.execute(
            "SELECT a.id, a.title, a.author, a.date, a.source, a.origin, a.added_at, a.copy_of, a.url,"
            " (SELECT COUNT(*) FROM passages p WHERE p.article_id = a.id) AS passages"
            f" FROM articles a WHERE a.title LIKE ? ESCAPE '\\' ORDER BY {_ORDER[sort]} LIMIT ? OFFSET ?",
            (_like(title), limit, offset))
        return [dict(r) for r in rows]

    def count_articles(self, title: str = "") -> int:
        return self._conn.execute("SELECT COUNT(*) FROM articles a WHERE a.title LIKE ? ESCAPE '\\'",
                                  (_like(title),)).fetchone()[0]

    def allowed(self, where: Filter) -> np.ndarray:
        # An article's passages are inserted one after another, so their ids are one run, kept with the
        # article: only the articles table is read, and only the runs cross into Python (20,000 ids of
        # 5,000 articles in a few ms, where reading the ids took 40). An article without a run (made
        # otherwise, before runs were kept) has its ids read one by one.
        sql, params = _where(where)
        rows = self._conn.execute(f"SELECT a.first_passage, a.passage_count, a.rowid FROM articles a WHERE {sql}",
                                  params).fetchall()
        runs = np.array([(r[0], r[1]) for r in rows if r[0] is not None], np.int64).reshape(-1, 2)
        ids = runs[:, 0].repeat(runs[:, 1]) + _offsets(runs[:, 1])
        others = [p[0] for r in rows if r[0] is None for p in self._conn.execute(
            "SELECT id FROM passages WHERE article_id = (SELECT id FROM articles WHERE rowid = ?)", (r[2],))]
        return np.sort(np.concatenate([ids, np.asarray(others, np.int64)]))

    def facets(self, where: Filter) -> dict[str, list[tuple[str, int]]]:
        facets = {}
        for name, column, unfiltered in (("source", "a.source", replace(where, sources=())),
                                         ("month", "substr(a.date, 1, 7)", replace(where, date_from=None, date_to=None))):
            sql, params = _where(unfiltered)
            rows = self._conn.execute(f"SELECT {column} AS value, COUNT(*) AS n FROM articles a WHERE {sql}"
                                      f" AND {column} IS NOT NULL GROUP BY value ORDER BY n DESC, value", params)
            facets[name] = [(r[0], r[1]) for r in rows]
        return facets

    def article_by_hash(self, content_hash: str) -> str | None:
        row = self._conn.execute("SELECT id FROM articles WHERE content_hash = ?", (content_hash,)).fetchone()
        return row[0] if row else None

    def article_hash(self, article_id: str) -> str | None:
        row = self._conn.execute("SELECT content_hash FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def article_by_url(self, url: str) -> str | None:
        row = self._conn.execute("SELECT id FROM articles WHERE url = ? ORDER BY rowid LIMIT 1", (url,)).fetchone()
        return row[0] if row else None

    def stored(self, article_id: str) -> Article | None:
        row = self._conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return article_of(row) if row else None

    def set_signatures(self, signatures: dict[str, bytes]) -> None:
        with self._transaction() as conn:
            conn.executemany("UPDATE articles SET signature = ? WHERE id = ?",
                             [(blob, article_id) for article_id, blob in signatures.items()])

    def copies_of(self, article_ids: Iterable[str]) -> dict[str, list[dict]]:
        """The copies of each article that has any, oldest first."""
        ids, out = list(dict.fromkeys(article_ids)), {}
        for lo in range(0, len(ids), _BATCH):
            part = ids[lo:lo + _BATCH]
            for r in self._conn.execute(
                    "SELECT copy_of, id, title, source, date FROM articles"
                    f" WHERE copy_of IN ({','.join('?' * len(part))}) ORDER BY added_at, rowid", part):
                out.setdefault(r["copy_of"], []).append(
                    {"id": r["id"], "title": r["title"], "source": r["source"], "date": r["date"]})
        return out

    def signatures(self) -> dict[str, bytes]:
        """The body signature of every original (an article that is not a copy); None where not yet made."""
        return {r[0]: r[1] for r in self._conn.execute("SELECT id, signature FROM articles WHERE copy_of IS NULL")}

    def article_ids(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT id FROM articles")]

    def corpus_files(self) -> dict[str, tuple[str, FileStamp]]:
        rows = self._conn.execute("SELECT path, id, mtime_ns, size FROM articles WHERE origin = 'corpus'")
        return {r["path"]: (r["id"], FileStamp(r["path"], r["mtime_ns"] or 0, r["size"] or 0)) for r in rows}

    def passage_ids(self) -> np.ndarray:
        return np.fromiter((r[0] for r in self._conn.execute("SELECT id FROM passages")), dtype=np.int64)

    def vectors(self, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        found, vecs = [], []
        ids = [int(i) for i in ids]
        for lo in range(0, len(ids), _BATCH):
            part = ids[lo:lo + _BATCH]
            sql = f"SELECT id, vector FROM passages WHERE id IN ({','.join('?' * len(part))})"
            for row in self._conn.execute(sql, part):
                found.append(row[0])
                vecs.append(np.frombuffer(row[1], dtype=np.float32))
        if not vecs:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return np.asarray(found, np.int64), np.stack(vecs)

    def passage_texts(self, ids: Iterable[int]) -> Iterator[tuple]:
        """``(passage id, article title, passage text, article id, source, author, date)`` rows, for
        (re)building the lexical index."""
        ids = [int(i) for i in ids]
        for lo in range(0, len(ids), _BATCH):
            part = ids[lo:lo + _BATCH]
            yield from self._conn.execute(
                'SELECT p.id, a.title, substr(a.text, p.start + 1, p."end" - p.start), a.id, a.source, a.author,'
                ' a.date FROM passages p'
                f" JOIN articles a ON a.id = p.article_id WHERE p.id IN ({','.join('?' * len(part))})", part)

    def articles_of(self, ids: Iterable[int]) -> dict[int, str]:
        ids = [int(i) for i in ids]
        out: dict[int, str] = {}
        for lo in range(0, len(ids), _BATCH):
            part = ids[lo:lo + _BATCH]
            sql = f"SELECT id, article_id FROM passages WHERE id IN ({','.join('?' * len(part))})"
            out.update((row[0], row[1]) for row in self._conn.execute(sql, part))
        return out

    def passages(self, ids: list[int]) -> dict[int, StoredPassage]:
        out: dict[int, StoredPassage] = {}
        ids = [int(i) for i in ids]
        for lo in range(0, len(ids), _BATCH):
            part = ids[lo:lo + _BATCH]
            sql = ('SELECT p.id, p.article_id, p.start, p."end", p.sentences, p.sentence_vectors,'
                   ' substr(a.text, p.start + 1, p."end" - p.start) AS text, a.title, a.author, a.date, a.source, a.url,'
                   ' p.start < a.body_start AS header'
                   f" FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.id IN ({','.join('?' * len(part))})")
            for r in self._conn.execute(sql, part):
                start = r["start"]
                sentences = [(a - start, b - start) for a, b in json.loads(r["sentences"])]
                vecs = np.frombuffer(r["sentence_vectors"], dtype=np.float16).reshape(len(sentences), -1)
                out[r["id"]] = StoredPassage(
                    id=r["id"], article_id=r["article_id"], start=start, end=r["end"], text=r["text"],
                    sentences=sentences, sentence_vectors=vecs.astype(np.float32),
                    article={"id": r["article_id"], "title": r["title"], "author": r["author"],
                             "date": r["date"], "source": r["source"], "url": r["url"]},
                    header=bool(r["header"]))
        return out

    def export(self) -> Iterator[ArticleRecord]:
        for a in self._conn.execute("SELECT * FROM articles ORDER BY rowid").fetchall():
            passages = [PassageRecord(r["start"], r["end"], tuple(tuple(s) for s in json.loads(r["sentences"])),
                                      np.frombuffer(r["vector"], np.float32),
                                      np.frombuffer(r["sentence_vectors"], np.float16).reshape(
                                          len(json.loads(r["sentences"])), -1))
                        for r in self._conn.execute('SELECT start, "end", sentences, vector, sentence_vectors'
                                                    " FROM passages WHERE article_id = ? ORDER BY ord", (a["id"],))]
            file = FileStamp(a["path"], a["mtime_ns"] or 0, a["size"] or 0) if a["path"] else None
            yield ArticleRecord(article_of(a), passages, a["origin"], file, a["copy_of"], a["signature"])


def article_of(row: sqlite3.Row | dict) -> Article:
    """The :class:`Article` an ``articles`` row holds."""
    return Article(row["id"], row["title"], row["text"], row["author"], row["date"], row["source"],
                   row["body_start"], tuple(tuple(span) for span in json.loads(row["headings"])), row["url"])


def _where(where: Filter) -> tuple[str, list]:
    """The SQL condition on ``articles a`` that ``where`` is, and its parameters."""
    clauses, params = ["1"], []
    for column, values in (("a.source", where.sources), ("a.author", where.authors)):
        if values:
            clauses.append(f"{column} COLLATE NOCASE IN ({','.join('?' * len(values))})")
            params += values
    if where.articles:
        clauses.append(f"a.id IN ({','.join('?' * len(where.articles))})")
        params += where.articles
    if where.date_from:
        clauses.append("a.date >= ?")
        params.append(where.date_from)
    if where.date_to:
        clauses.append("a.date <= ?")
        params.append(where.date_to)
    return " AND ".join(clauses), params


def _offsets(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., n - 1 for each n of ``counts``, end to end."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - starts.repeat(counts)


def _like(text: str) -> str:
    """A LIKE pattern for titles holding ``text`` (its own ``%`` and ``_`` taken literally)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _delete(conn: sqlite3.Connection, article_id: str) -> list[int]:
    ids = [r[0] for r in conn.execute("SELECT id FROM passages WHERE article_id = ?", (article_id,))]
    conn.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
    conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
    return ids


def _log(conn: sqlite3.Connection, passage_ids: list[int], added: bool) -> None:
    conn.executemany("INSERT INTO changes(passage, added) VALUES (?, ?)", [(i, int(added)) for i in passage_ids])


def _generation(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
    return int(row[0]) if row else 0


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
