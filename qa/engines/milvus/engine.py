"""The Milvus engine: articles, passages, vectors and BM25 all in Milvus, nothing the answers need
in the server's folder, so that several servers share one Milvus (a cluster, or a Milvus Lite
file for one process).

Acknowledged writes are durable: Milvus acknowledges an insert, upsert or delete once it is in
its write-ahead log (the message queue of a cluster, the local file of Milvus Lite), and every
collection reads with ``Strong`` consistency, so the next read on any server sees it. No flush is
needed for durability (a flush only seals segments).
"""

from __future__ import annotations

import fcntl
import logging
import uuid
from pathlib import Path
from typing import IO

from qa.config import Settings
from qa.engines.build import check_build
from qa.engines.contracts import ArticleRecord, Filter
from qa.engines.milvus.collections import Clients, Names, create, expression
from qa.engines.milvus.indexes import MilvusLexical, MilvusVectors
from qa.engines.milvus.store import MilvusStore

log = logging.getLogger("qa.engine")
STALE_WRITE_S = 600.0  # on a shared Milvus, a write marked longer ago than this has stopped


class MilvusEngine:
    """Store and both indexes in one Milvus database."""

    name = "milvus"

    def __init__(self, settings: Settings, dim: int, build: str, allow_rebuild: bool = False):
        self.uri = settings.milvus_uri_or_default
        self.embedded = "://" not in self.uri
        self._token = settings.milvus_token
        self._client = Clients.take(self.uri, self._token)
        writer, self._writer_file = _writer_id(settings.index_dir)
        try:
            names = Names.of(settings.milvus_prefix)
            create(self._client, names, dim, self.embedded)
            self.store = MilvusStore(self._client, names, writer)
            # Milvus Lite is one process's file: any write marked in it stopped with that process.
            finished = self.store.reconcile(0.0 if self.embedded else STALE_WRITE_S)
            if finished:
                log.warning("finished or undid %d writes that a stop interrupted", finished)
            self.needs_rebuild = check_build(self.store, build, allow_rebuild, settings.index_dir, settings.model)
        except BaseException:
            self.close()
            raise
        self.vectors = MilvusVectors(self._client, names, self.store, self.embedded)
        self.lexical = MilvusLexical(self._client, names, self.store)
        log.info("engine: Milvus %s at %s", "Lite" if self.embedded else "server", self.uri)

    def scope(self, where: Filter) -> str:
        return expression(where, "article_id")

    def mark_built(self, build: str) -> None:
        self.store.set_meta("build", build)
        self.needs_rebuild = False

    def put(self, records: list[ArticleRecord]) -> None:
        self.store.put(records)
        self.lexical.forget()

    def delete(self, article_id: str) -> int | None:
        removed = self.store.delete(article_id)
        self.lexical.forget()
        return removed

    def claim(self) -> None:
        """Nothing to take: Milvus takes writes from several servers (Milvus Lite's file lock keeps
        a second process out when the engine opens)."""

    def close(self) -> None:
        Clients.give_back(self.uri, self._token)
        if self._writer_file is not None:
            self._writer_file.close()  # lets the folder's next process write as this writer
            self._writer_file = None


def _writer_id(index_dir: Path) -> tuple[str, IO | None]:
    """The name under which this process keeps its term counts in Milvus (see
    :mod:`qa.engines.milvus.store`): the index folder's own, held locked while the engine is open,
    so that restarts reuse it instead of adding rows; a process that finds it held (a second
    process on one folder) or cannot write the folder takes a name of its own."""
    fresh = uuid.uuid4().hex[:12]
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / "milvus-writer", "a+", encoding="utf-8")
    except OSError:
        return fresh, None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return fresh, None
    handle.seek(0)
    writer = handle.read().strip()
    if not writer:
        writer = fresh
        handle.write(writer)
        handle.flush()
    return writer, handle
