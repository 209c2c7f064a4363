"""The local engine: SQLite (the source of truth) + FAISS + tantivy in one index folder.

A write commits to SQLite first, then mirrors the change into the two derived
indexes, so a crash between them loses nothing: at the next start each index
catches up from the store's change log since the generation it was saved at,
or, when that is unknown (a missing, damaged or foreign file), is rebuilt
from the vectors and text in SQLite without re-embedding. The vector file is
saved by a background thread a moment after writes stop, off the request path.

A committed write is completed, never half-reported: if the lexical index cannot be written (its
folder unwritable, say) the write still succeeds in SQLite and FAISS, the lexical index is marked
behind, and the same background thread brings it level from SQLite's change log, retrying with a
growing delay (and a log line per retry, not per second) until it can.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Iterable

import numpy as np

from qa.config import Settings
from qa.engines.build import check_build
from qa.engines.contracts import ArticleRecord, Filter
from qa.engines.local import vectors as faiss_files
from qa.engines.local.lexical import Bm25Index
from qa.engines.local.store import Store
from qa.engines.local.vectors import FaissIndex, LockedIndex, choose_kind, training_size

log = logging.getLogger("qa.engine")
_SCAN_BATCH = 20_000
RETRY_S = (1.0, 60.0)  # the background thread's first and longest delay between failed saves


class LocalEngine:
    """Store, vector index and lexical index in ``settings.index_dir``, kept in step."""

    name = "local"

    def __init__(self, settings: Settings, dim: int, build: str, allow_rebuild: bool = False):
        """Opens the index built as ``build`` (see :mod:`qa.engines.build`). When it was built
        otherwise and ``allow_rebuild`` is set, the vector index starts empty and nothing is read
        from the stored vectors, which may have another dimension, until :meth:`mark_built`."""
        self.settings = settings
        self.dim = dim
        self.store = Store(settings.db_path)
        self.needs_rebuild = check_build(self.store, build, allow_rebuild, settings.index_dir, settings.model)
        self._write_lock = threading.RLock()
        self._vectors_path = settings.index_dir / "vectors.faiss"
        self._generation = self.store.generation()
        self._saved_generation = -1
        self.lexical = self._open_lexical()
        self.vectors = LockedIndex(self._discard_vectors() if self.needs_rebuild else self._open_vectors())
        self._dirty = threading.Event()
        self._lexical_behind = threading.Event()
        self._closed = threading.Event()
        self._saver = threading.Thread(target=self._save_loop, name="index-saver", daemon=True)
        self._saver.start()

    # --- writes -----------------------------------------------------------------------

    def claim(self) -> None:
        self.lexical.claim_writer()

    def scope(self, where: Filter) -> np.ndarray:
        return self.store.allowed(where)

    def mark_built(self, build: str) -> None:
        """Every stored article has been re-embedded as ``build``."""
        self.store.set_meta("build", build)
        self.needs_rebuild = False

    def put(self, records: list[ArticleRecord]) -> None:
        with self._write_lock:
            self.claim()  # before anything is stored: another process may hold the lexical writer
            new_ids, removed, generation = self.store.put(records)
            self._mirror(removed, [(ids, np.stack([p.vector for p in r.passages]) if ids else np.zeros((0, self.dim)))
                                   for ids, r in zip(new_ids, records)],
                         ((pid, r.article.title, r.article.text[p.start:p.end], r.article.id, r.article.source,
                           r.article.author, r.article.date)
                          for ids, r in zip(new_ids, records) for pid, p in zip(ids, r.passages)), generation)

    def delete(self, article_id: str) -> int | None:
        with self._write_lock:
            self.claim()
            deleted = self.store.delete(article_id)
            if deleted is None:
                return None
            removed, generation = deleted
            self._mirror(removed, [], (), generation)
            return len(removed)

    def _mirror(self, removed: list[int], added: list[tuple[list[int], np.ndarray]],
                texts: Iterable[tuple], generation: int) -> None:
        """Bring both indexes level with a committed store change (the saver writes the vector file
        later, and catches the lexical index up if it could not be written now)."""
        self.vectors.remove(np.asarray(removed, np.int64))
        for ids, vectors in added:
            self.vectors.add(np.asarray(ids, np.int64), vectors)
        self._generation = generation
        if not self._lexical_behind.is_set():
            try:
                self.lexical.remove(removed)
                self.lexical.add(texts)
                self.lexical.commit(generation)
            except (OSError, ValueError, RuntimeError) as exc:  # tantivy reports I/O as ValueError
                log.error("could not write the lexical index (%s); it catches up from SQLite in the background",
                          exc)
                self._lexical_behind.set()
        self._dirty.set()

    # --- opening and catching up ---------------------------------------------------------

    def _open_vectors(self) -> FaissIndex:
        """The saved vector index, verified and brought level with SQLite, re-embedding nothing."""
        config = self.settings.vector_index
        index, generation = None, None
        if self._vectors_path.exists():
            try:
                index, generation = FaissIndex.load(self._vectors_path, config.nprobe)
            except (ValueError, OSError) as exc:
                log.warning("%s; rebuilding it from the vectors in SQLite", exc)
            if index is not None and index.dim != self.dim:
                log.warning("the vector index has dimension %d, the model %d; rebuilding it", index.dim, self.dim)
                index = None
        _, passages = self.store.counts()
        kind = choose_kind(config, passages)
        if index is None or index.kind != kind or index.outgrown(passages):
            index, generation = self._new_vectors(kind), None
        added, removed = self._behind(generation, index.ids)
        index.remove(np.concatenate([added, removed]))
        for lo in range(0, len(added), _SCAN_BATCH):
            found, vectors = self.store.vectors(added[lo:lo + _SCAN_BATCH])
            index.add(found, vectors)
        if generation != self._generation:
            if len(added) or len(removed):
                log.info("%s vector index brought up to date: %d added, %d removed", kind, len(added), len(removed))
            self._save(index.serialize(), self._generation)
        else:
            self._saved_generation = generation
        return index

    def _discard_vectors(self) -> FaissIndex:
        self._vectors_path.unlink(missing_ok=True)  # derived: its vectors are about to be replaced
        return FaissIndex.flat(self.dim)

    def _new_vectors(self, kind: str) -> FaissIndex:
        if kind == "flat":
            return FaissIndex.flat(self.dim)
        ids = self.store.passage_ids()
        sample = np.random.default_rng(0).choice(ids, size=training_size(len(ids)), replace=False)
        _, training = self.store.vectors(np.sort(sample))
        log.info("clustering %d vectors for the IVF index", len(training))
        return FaissIndex.ivf(training, total=len(ids), nprobe=self.settings.vector_index.nprobe)

    def _open_lexical(self) -> Bm25Index:
        """The lexical index, brought level with SQLite (rebuilt from the stored text if unreadable)."""
        path = self.settings.index_dir / "lexical"
        try:
            index = Bm25Index(path)
            generation = index.generation
        except ValueError as exc:
            log.warning("%s; rebuilding it from the text in SQLite", exc)
            index, generation = Bm25Index.recreate(path), None
        self._level_lexical(index, generation)
        return index

    def _level_lexical(self, index: Bm25Index, generation: int | None) -> None:
        """Re-apply to the lexical index what SQLite changed since ``generation`` (removing first, so a
        passage added before a failed commit is not held twice)."""
        if generation == self._generation:
            return
        added, removed = self._behind(generation, index.ids)
        index.remove(np.concatenate([added, removed]).tolist())
        index.add(self.store.passage_texts(added))
        index.commit(self._generation)
        if len(added) or len(removed):
            log.info("lexical index brought up to date: %d added, %d removed", len(added), len(removed))

    def _behind(self, generation: int | None, held_ids) -> tuple[np.ndarray, np.ndarray]:
        """Passages a derived index saved at ``generation`` lacks, and those it holds that are gone:
        from the change log when it reaches back that far, else by comparing every id."""
        if generation == self._generation:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        changes = self.store.changes_since(generation) if generation is not None else None
        if changes is not None:
            return changes.added, changes.removed
        held, stored = held_ids(), self.store.passage_ids()
        return np.setdiff1d(stored, held), np.setdiff1d(held, stored)

    # --- saving ---------------------------------------------------------------------------

    def save(self) -> None:
        """Write the vector file now, if anything changed since it was last written, and bring a
        lexical index that fell behind level with SQLite."""
        self._dirty.clear()  # before saving: a write during the save marks it dirty again
        try:
            with self._write_lock:  # the snapshot and its generation, taken together
                payload, generation = self.vectors.serialize(), self._generation
                if self._lexical_behind.is_set():
                    self._level_lexical(self.lexical, self.lexical.generation)
                    self._lexical_behind.clear()
                    log.info("the lexical index has caught up with SQLite")
            if generation != self._saved_generation:
                self._save(payload, generation)
        except BaseException:
            self._dirty.set()
            raise

    def _save(self, payload: np.ndarray, generation: int) -> None:
        faiss_files.save(self._vectors_path, payload, generation)
        self._saved_generation = generation
        if self.lexical.generation is not None:
            self.store.forget_changes(min(generation, self.lexical.generation))

    def _save_loop(self) -> None:
        """Save a moment after writes stop; after a failure, again after a delay that doubles."""
        delay = RETRY_S[0]
        while not self._closed.is_set():
            if self._dirty.wait(timeout=0.5) and not self._closed.wait(timeout=delay):
                try:
                    self.save()
                    delay = RETRY_S[0]
                except (OSError, ValueError, RuntimeError) as exc:
                    delay = min(2 * delay, RETRY_S[1])
                    log.error("could not save the index (%s); trying again in %g s", exc, delay)

    def close(self) -> None:
        """Save what is unsaved and stop the saver thread."""
        self._closed.set()
        self._saver.join()  # lets a save in progress finish
        if self._dirty.is_set():
            try:
                self.save()
            except (OSError, ValueError, RuntimeError) as exc:  # SQLite has it all: the next start catches up
                log.error("could not save the index at close (%s); it catches up from SQLite at the next start",
                          exc)
        self.lexical.close()
        self.store.close()

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir
