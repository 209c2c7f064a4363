"""The feeds a server follows, kept in SQLite (``feeds.sqlite3`` beside the index): each feed's URL,
how often to poll it, its ETag and Last-Modified, the last poll and error, the items added, and the
items already seen (so that an unchanged item is never fetched twice)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from qa.engines.local.database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    every_minutes INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_poll TEXT,                  -- ISO time of the last poll
    next_poll REAL NOT NULL,         -- epoch seconds
    items_added INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feed_items (
    feed TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    item TEXT NOT NULL,              -- the entry's id, or its link
    PRIMARY KEY (feed, item)
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FeedStore(Database):
    """Feeds by id."""

    def __init__(self, path: Path):
        super().__init__(path, SCHEMA)

    def add(self, url: str, every_minutes: int) -> dict:
        """A new feed, due at once; the feed already following ``url`` if there is one (its interval updated)."""
        with self._transaction() as conn:
            row = conn.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()
            if row:
                conn.execute("UPDATE feeds SET every_minutes = ? WHERE id = ?", (every_minutes, row[0]))
                feed_id = row[0]
            else:
                feed_id = uuid.uuid4().hex[:12]
                conn.execute("INSERT INTO feeds(id, url, every_minutes, next_poll, created_at) VALUES (?, ?, ?, ?, ?)",
                             (feed_id, url, every_minutes, time.time(), _now()))
        return self.get(feed_id)

    def get(self, feed_id: str) -> dict | None:
        row = self._conn.execute("SELECT * FROM feeds WHERE id = ?", (feed_id,)).fetchone()
        return dict(row) if row else None

    def all(self) -> list[dict]:
        return [dict(r) for r in self._conn.execute("SELECT * FROM feeds ORDER BY created_at, id")]

    def due(self) -> list[dict]:
        return [dict(r) for r in self._conn.execute("SELECT * FROM feeds WHERE next_poll <= ? ORDER BY next_poll",
                                                    (time.time(),))]

    def remove(self, feed_id: str) -> bool:
        with self._transaction() as conn:
            return conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,)).rowcount > 0

    def seen(self, feed_id: str, item: str) -> bool:
        return self._conn.execute("SELECT 1 FROM feed_items WHERE feed = ? AND item = ?",
                                  (feed_id, item)).fetchone() is not None

    def polled(self, feed_id: str, etag: str | None, last_modified: str | None, items: list[str], added: int,
               error: str | None) -> None:
        """Record a poll: the validators for the next one, the items seen, how many were added."""
        with self._transaction() as conn:
            conn.execute("UPDATE feeds SET etag = ?, last_modified = ?, last_poll = ?, items_added = items_added + ?,"
                         " last_error = ?, next_poll = ? + every_minutes * 60 WHERE id = ?",
                         (etag, last_modified, _now(), added, error, time.time(), feed_id))
            conn.executemany("INSERT OR IGNORE INTO feed_items(feed, item) VALUES (?, ?)",
                             [(feed_id, item) for item in items])
