"""The write path: articles are cut into passages, embedded, and put into the engine in batches,
each batch all or nothing; the rebuild re-embeds every stored article with this model."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

import numpy as np

from qa.config import Settings
from qa.embeddings import Encoder
from qa.engines.build import REBUILDING
from qa.engines.contracts import ArticleRecord, Engine, FileStamp, PassageRecord
from qa.errors import Conflict
from qa.ingest.article import Article
from qa.passages import ModelInput
from qa.service import copies
from qa.service.copies import Originals


@dataclass(frozen=True)
class WriteResult:
    id: str
    # added | replaced | unchanged | duplicate (stored as a copy of ``duplicate_of``, not indexed)
    # | empty (no sentences) | conflict (a corpus/ file's id)
    status: str
    passages: int
    title: str = ""
    duplicate_of: str | None = None

    def as_dict(self) -> dict:
        out = {"id": self.id, "status": self.status, "passages": self.passages, "title": self.title}
        return out if self.duplicate_of is None else {**out, "duplicate_of": self.duplicate_of}


class Progress(Protocol):
    """Told how many passages a write will embed, batch by batch, and how many it has embedded."""

    def planned(self, passages: int) -> None: ...

    def embedded(self, passages: int) -> None: ...


@dataclass(frozen=True)
class Item:
    """An article on its way into the engine; ``file`` for one read from ``corpus/``."""

    article: Article
    file: FileStamp | None = None

    @property
    def origin(self) -> str:
        """Where the stored article comes from: 'corpus' (a file in corpus/) or 'api'."""
        return "corpus" if self.file else "api"


class Writer:
    """Serializes every write of one service."""

    def __init__(self, engine: Engine, encoder: Encoder, model_input: ModelInput, settings: Settings,
                 file_of: Callable[[str], str | None]):
        """``file_of(id)`` names the ``corpus/`` file that owns an article (None: no file owns it)."""
        self.engine = engine
        self.encoder = encoder
        self.model_input = model_input
        self.settings = settings
        self.file_of = file_of
        self.lock = threading.RLock()
        self._originals: Originals | None = None

    @property
    def originals(self) -> Originals:
        """The originals' signatures, read on the first write (not at start-up: 25,000 articles take
        seconds), always under the write lock."""
        if self._originals is None:
            self._originals = Originals(self._signatures())
        return self._originals

    def _signatures(self) -> dict[str, np.ndarray]:
        """Every original's signature; those an index made before copies were recognised lacks are
        computed (once) and stored."""
        store = self.engine.store
        known = store.signatures()
        missing = {article_id: copies.signature(store.stored(article_id))
                   for article_id, blob in known.items() if blob is None}
        if missing:
            store.set_signatures({article_id: copies.as_bytes(values) for article_id, values in missing.items()})
        return {**{i: copies.from_bytes(b) for i, b in known.items() if b is not None}, **missing}

    def write(self, items: list[Item], progress: Progress | None = None, force: bool = False) -> list[WriteResult]:
        """Chunk, embed and store articles, in batches; each batch is one engine write, made under
        the lock (other writes go between batches). An article with no sentences is reported
        ``empty``, one that would change the article of a file in ``corpus/`` ``conflict``; neither
        is stored. ``force`` re-embeds identical articles too."""
        results: list[WriteResult] = []
        for batch in _batches(items, self.settings.write_batch_chars):
            with self.lock:
                results.extend(self._write_batch(batch, force, progress))
        return results

    def _write_batch(self, items: list[Item], force: bool, progress: Progress | None) -> list[WriteResult]:
        if self.engine.needs_rebuild and not force:
            raise Conflict("model_mismatch", "the index holds another model's vectors; run the rebuild first")
        store = self.engine.store
        pending, results = [], {}
        copied: list[ArticleRecord] = []
        in_batch = Originals({})  # the batch's own originals: a copy may follow its original in one batch
        for n, item in enumerate(items):
            article = item.article
            old_hash = store.article_hash(article.id)
            if old_hash == article.content_hash and not force:
                if item.file is not None:
                    store.set_file(article.id, item.file)
                results[n] = WriteResult(article.id, "unchanged", self.passage_count(article.id), article.title)
                continue
            if old_hash and item.file is None and self.file_of(article.id) is not None:
                # Other text under the id of a file in corpus/: the next sync would undo it (or keep
                # both), so it is not stored; the caller reports it.
                results[n] = WriteResult(article.id, "conflict", 0, article.title)
                continue
            values = copies.signature(article)
            original = (self.originals.original_of(values, exclude=article.id)
                        or in_batch.original_of(values, exclude=article.id))
            if original is not None:
                copied.append(ArticleRecord(article, [], item.origin, item.file, original, copies.as_bytes(values)))
                results[n] = WriteResult(article.id, "duplicate", 0, article.title, original)
                continue
            passages = self.model_input.passages(article)
            if not passages:  # nothing to store; the caller reports it
                results[n] = WriteResult(article.id, "empty", 0, article.title)
                continue
            in_batch.put(article.id, values)
            pending.append((n, item, passages, "replaced" if old_hash else "added", values))
        if not pending:
            self._put(copied, {})
            return [results[n] for n in range(len(items))]
        self.engine.claim()  # before the model runs: another process may hold the index
        texts, spans = [], []
        for _, item, passages, _, _ in pending:
            for passage in passages:
                text, offsets = self.model_input.text(item.article, passage)
                texts.append(text)
                spans.append(offsets)
        if progress is not None:
            progress.planned(len(texts))
        vectors, sentence_vectors = self.encoder.encode_passages(texts, spans,
                                                                 progress.embedded if progress else None)
        records, signatures, at = [], {}, 0
        for n, item, passages, status, values in pending:
            records.append(ArticleRecord(item.article, [
                PassageRecord(p.start, p.end, p.sentences, vectors[at + i], sentence_vectors[at + i])
                for i, p in enumerate(passages)], item.origin, item.file,
                signature=copies.as_bytes(values)))
            signatures[item.article.id] = values
            results[n] = WriteResult(item.article.id, status, len(passages), item.article.title)
            at += len(passages)
        self._put(records + copied, signatures)
        return [results[n] for n in range(len(items))]

    def _put(self, records: list[ArticleRecord], signatures: dict[str, np.ndarray]) -> None:
        """One engine write, then the originals brought level with it: an article that became a copy
        hands its own copies on to its original."""
        if not records:
            return
        self.engine.put(records)
        for record in records:
            article_id = record.article.id
            if record.copy_of is None:
                self.originals.put(article_id, signatures[article_id])
            else:
                self.originals.forget(article_id)
                self.engine.store.repoint_copies(article_id, record.copy_of)

    def delete(self, article_id: str) -> int | None:
        """Remove an article; the passages that went with it, or None if there was none. Its oldest
        copy takes its place (indexed now, from its own text) and the other copies follow that one."""
        with self.lock:
            store = self.engine.store
            heirs = store.copies_of([article_id]).get(article_id, [])
            removed = self.engine.delete(article_id)
            if removed is None:
                return None
            self.originals.forget(article_id)
            if heirs:
                heir = heirs[0]["id"]
                row = store.article(heir)
                file = FileStamp(row["path"], row["mtime_ns"] or 0, row["size"] or 0) if row["path"] else None
                result = self.write([Item(store.stored(heir), file)], force=True)[0]
                store.repoint_copies(article_id, result.duplicate_of or heir)
            return removed

    def rebuild(self, build: str, progress: Progress | None = None) -> int:
        """Re-embed every stored article as ``build`` (after a change of model or passage settings).

        Articles are replaced batch by batch, each batch atomically; until the last one is done
        the index is marked as being rebuilt, so an interrupted rebuild is reported at the next
        start instead of silently mixing two models' vectors.
        """
        with self.lock:  # held throughout: nothing else is written into a half-rebuilt index
            store = self.engine.store
            store.set_meta("build", REBUILDING + build)
            items = [Item(r.article, r.file) for r in store.export()]
            self.write(items, progress, force=True)
            self.engine.mark_built(build)
            return len(items)

    def passage_count(self, article_id: str) -> int:
        row = self.engine.store.article(article_id)
        return row["passages"] if row else 0


def _batches(items: list[Item], max_chars: int) -> Iterator[list[Item]]:
    """Consecutive batches of about ``max_chars``; an id seen twice starts a new batch, so the
    second write of an article replaces the first instead of racing it inside one transaction."""
    batch: list[Item] = []
    size, ids = 0, set()
    for item in items:
        if item.article.id in ids:
            yield batch
            batch, size, ids = [], 0, set()
        batch.append(item)
        ids.add(item.article.id)
        size += len(item.article.text)
        if size >= max_chars:
            yield batch
            batch, size, ids = [], 0, set()
    if batch:
        yield batch


class PassageBar:
    """A progress bar on stderr counting passages embedded (the CLI's, the evaluation's)."""

    def __init__(self):
        from tqdm import tqdm

        self._bar = tqdm(total=0, unit=" passages", desc="indexing", leave=False)

    def planned(self, passages: int) -> None:
        self._bar.total += passages
        self._bar.refresh()

    def embedded(self, passages: int) -> None:
        self._bar.update(passages)


def passage_bar(enabled: bool) -> PassageBar | None:
    """A bar when ``enabled`` (stderr is a terminal, say); None otherwise."""
    return PassageBar() if enabled else None
