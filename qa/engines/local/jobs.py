"""Background jobs, kept in SQLite (``jobs.sqlite3`` beside the index) so that an accepted job survives
``kill -9``: it is stored before it is acknowledged, and one left queued or running is taken up
again at the next start. The article text travels in the job, so nothing the client sent is lost.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import datetime, timezone
from pathlib import Path

from qa.engines.local.database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,              -- 'add' (articles) or 'sync' (the corpus folder)
    state TEXT NOT NULL,             -- queued, running, done, failed
    payload TEXT NOT NULL,           -- JSON: what to do
    resume INTEGER NOT NULL,         -- 1: taken up again after a crash; 0: a caller was waiting, and was told
    done INTEGER NOT NULL DEFAULT 0, -- passages embedded
    total INTEGER NOT NULL DEFAULT 0,
    result TEXT,                     -- JSON, when done
    error TEXT,                      -- JSON {"code", "message"}, when failed
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_at);
"""
KEEP_FINISHED = 1000  # finished jobs kept for their status to be read


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class JobStore(Database):
    """Jobs by id."""

    def __init__(self, path: Path):
        super().__init__(path, SCHEMA)

    def submit(self, kind: str, payload: dict, resume: bool = True) -> str:
        """Store a new queued job, durably; its id. ``resume=False``: a job someone waits for, which a
        crash ends (the caller saw the connection drop, and sends it again) rather than finishes later."""
        job_id = uuid.uuid4().hex[:16]
        with self._transaction() as conn:
            conn.execute("INSERT INTO jobs(id, kind, state, payload, resume, created_at)"
                         " VALUES (?, ?, 'queued', ?, ?, ?)", (job_id, kind, json.dumps(payload), int(resume), _now()))
        return job_id

    def get(self, job_id: str) -> dict | None:
        row = self._conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def abandon_waited(self, error: dict) -> int:
        """At start: fail the unfinished jobs a caller was waiting for (see :meth:`submit`); how many."""
        with self._transaction() as conn:
            return conn.execute("UPDATE jobs SET state = 'failed', error = ?, payload = '{}', finished_at = ?"
                                " WHERE state IN ('queued', 'running') AND resume = 0",
                                (json.dumps(error), _now())).rowcount

    def unfinished(self) -> list[dict]:
        """Jobs queued or left running (by a stop or a crash), oldest first."""
        rows = self._conn.execute("SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at")
        return [_job(r) for r in rows]

    def recent(self, limit: int = 20) -> list[dict]:
        rows = self._conn.execute("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))
        return [{k: v for k, v in _job(r).items() if k != "payload"} for r in rows]

    def start(self, job_id: str) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (job_id,))

    def finish(self, job_id: str, done: int, total: int, result: object) -> None:
        self._end(job_id, "done", done, total, result=json.dumps(result))

    def fail(self, job_id: str, done: int, total: int, error: dict) -> None:
        """``error``: ``{"code", "message", "kind"}``, the kind of :mod:`qa.errors` it was."""
        self._end(job_id, "failed", done, total, error=json.dumps(error))

    def _end(self, job_id: str, state: str, done: int, total: int, result: str | None = None,
             error: str | None = None) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE jobs SET state = ?, done = ?, total = ?, result = ?, error = ?, payload = '{}',"
                         " finished_at = ? WHERE id = ?", (state, done, total, result, error, _now(), job_id))
            conn.execute("DELETE FROM jobs WHERE state IN ('done', 'failed') AND id NOT IN (SELECT id FROM jobs"
                         " WHERE state IN ('done', 'failed') ORDER BY finished_at DESC LIMIT ?)", (KEEP_FINISHED,))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _job(row: sqlite3.Row) -> dict:
    job = dict(row)
    job["payload"] = json.loads(job["payload"])
    job["result"] = json.loads(job["result"]) if job["result"] else None
    job["error"] = json.loads(job["error"]) if job["error"] else None
    return job
