"""The vector index, behind a small interface so another engine can replace FAISS.

Vectors are unit length, so inner product is cosine similarity. Ids are the
passage ids of the SQLite store, which stays the source of truth: the index
file under ``index/`` is a cache that is reconciled with the store at start.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol

import faiss
import numpy as np


class VectorIndex(Protocol):
    """What the search needs from a vector index."""

    dim: int
    kind: str  # "flat" (exact) or an approximate method

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)``, each ``(len(queries), k)``; missing slots have id -1."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``; ``KeyError`` if one is not in the index."""
        ...

    def ids(self) -> np.ndarray: ...

    def serialize(self) -> np.ndarray:
        """The whole index as one byte buffer: what :meth:`save` writes and :meth:`load` reads."""
        ...

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


class FaissIndex:
    """FAISS over the store's ids: exact (``flat``) or approximate (``ivf``) inner-product search.

    ``flat`` compares the question with every vector; its cost grows with the
    corpus (about 12 ms per 100,000 vectors on the benchmark machine). ``ivf``
    clusters the vectors and compares only with the ``nprobe`` nearest clusters:
    a small, measured loss of recall for search time that barely grows.
    """

    def __init__(self, index: faiss.Index):
        self._index = index
        self.dim = index.d
        self.kind = "ivf" if isinstance(index, faiss.IndexIVF) else "flat"
        if self.kind == "ivf":
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # vectors by id, for fusion
            index.nprobe = default_nprobe(index.nlist)  # a search setting, not part of the saved index

    @classmethod
    def flat(cls, dim: int) -> "FaissIndex":
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @classmethod
    def ivf(cls, training: np.ndarray, total: int | None = None, codec: str = "Flat") -> "FaissIndex":
        """An empty IVF index for about ``total`` vectors, its clusters learnt from ``training`` (a sample)."""
        n, dim = training.shape
        nlist = min(ivf_lists(total or n), max(1, n // 39))
        index = faiss.index_factory(dim, f"IVF{nlist},{codec}", faiss.METRIC_INNER_PRODUCT)
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # clustering uses every core (searches use one)
        index.train(np.ascontiguousarray(training, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> "FaissIndex":
        """Read a saved index; raises ``ValueError`` if the file is not a readable FAISS index."""
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise ValueError(f"unreadable FAISS index {path}: {str(exc).splitlines()[0]}") from None
        if not isinstance(index, (faiss.IndexIDMap2, faiss.IndexIVF)):
            raise ValueError(f"unreadable FAISS index {path}: unexpected type {type(index).__name__}")
        return cls(index)

    def outgrown(self, n: int) -> bool:
        """Whether ``n`` vectors call for at least twice the clusters this IVF index learnt."""
        return self.kind == "ivf" and ivf_lists(n) >= 2 * self._index.nlist

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            ids = np.ascontiguousarray(ids, dtype=np.int64)
            selector = faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)) if self.kind == "ivf" \
                else faiss.IDSelectorBatch(ids)
            self._index.remove_ids(selector)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        try:
            return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        except RuntimeError as exc:
            raise KeyError(f"not in the vector index: {exc}") from None

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        # One OpenMP thread in this (request) thread: a question is searched faster alone than by a
        # team, and an idle team's spinning threads would slow the model thread.
        faiss.omp_set_num_threads(1)
        return self._index.search(queries, k)

    def ids(self) -> np.ndarray:
        if self.kind == "flat":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        lists = self._index.invlists
        parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                 for i in range(lists.nlist) if lists.list_size(i)]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def serialize(self) -> np.ndarray:
        return faiss.serialize_index(self._index)

    def save(self, path: Path) -> None:
        write_atomically(Path(path), self.serialize())

    def __len__(self) -> int:
        return int(self._index.ntotal)


def write_atomically(path: Path, data: np.ndarray | bytes) -> None:
    """A crash leaves either the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ivf_lists(n: int) -> int:
    """Clusters for ``n`` vectors: about 4 * sqrt(n), with at least 39 vectors each."""
    return max(1, min(int(4 * math.sqrt(n)), n // 39))


def training_size(n: int) -> int:
    """Vectors to learn the clusters from: 40 per cluster, or all of them."""
    return min(n, 40 * ivf_lists(n))


def default_nprobe(nlist: int) -> int:
    """Clusters searched per question (see README, Performance, for the recall it gives)."""
    return max(1, min(nlist, 32))


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer holds back new readers so writes are not starved."""

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class LockedIndex:
    """Any :class:`VectorIndex` made safe for searches running while other threads add or remove."""

    def __init__(self, inner: VectorIndex):
        self.inner = inner
        self.dim = inner.dim
        self.kind = inner.kind
        self._lock = _ReadWriteLock()

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock.write():
            self.inner.add(ids, vectors)

    def remove(self, ids: np.ndarray) -> None:
        with self._lock.write():
            self.inner.remove(ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock.read():
            return self.inner.search(queries, k)

    def ids(self) -> np.ndarray:
        with self._lock.read():
            return self.inner.ids()

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        with self._lock.read():
            return self.inner.vectors(ids)

    def serialize(self) -> np.ndarray:
        with self._lock.read():
            return self.inner.serialize()

    def save(self, path: Path) -> None:
        """Snapshot under the lock, write after it: a slow disk never holds back writes or searches."""
        write_atomically(Path(path), self.serialize())

    def __len__(self) -> int:
        return len(self.inner)
