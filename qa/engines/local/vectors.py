"""The vector index: FAISS over the store's passage ids, exact or IVF, chosen by size.

Vectors are unit length, so inner product is cosine similarity. The index
file is a cache of the vectors SQLite holds: it is saved with the generation
of the store it reflects and a checksum, and on opening it is verified and
brought up to date (or rebuilt from SQLite when it is missing or damaged).
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from qa.config import VectorIndexConfig

_MAGIC = b"QA-VECTORS-2\n"  # 2: the checksum covers the generation too (a damaged one misled the catch-up)
EXACT_UP_TO = 4096  # allowed ids up to which a filtered search compares with exactly those vectors
_HEADER = struct.Struct("<q32s")  # generation, sha256 of the generation and the FAISS bytes


class FaissIndex:
    """FAISS over the store's ids: exact (``flat``) or approximate (``ivf``) inner-product search.

    ``flat`` compares the question with every vector; its cost grows with the
    corpus (about 12 ms per 100,000 vectors on the benchmark machine). ``ivf``
    clusters the vectors and compares only with the ``nprobe`` nearest clusters:
    a small, measured loss of recall for search time that barely grows.
    """

    def __init__(self, index: faiss.Index, nprobe: int = VectorIndexConfig().nprobe):
        self._index = index
        self.dim = index.d
        self.kind = "ivf" if isinstance(index, faiss.IndexIVF) else "flat"
        if self.kind == "ivf":
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # vectors by id, for fusion
            self.nprobe = nprobe

    @property
    def nprobe(self) -> int:
        """Clusters searched per question (IVF only): a search setting, not part of the saved index."""
        return int(self._index.nprobe) if self.kind == "ivf" else 0

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self.kind == "ivf":
            self._index.nprobe = max(1, min(self._index.nlist, value))

    @property
    def nlist(self) -> int:
        """Clusters of an IVF index (0 for an exact one)."""
        return int(self._index.nlist) if self.kind == "ivf" else 0

    @classmethod
    def flat(cls, dim: int) -> "FaissIndex":
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @classmethod
    def ivf(cls, training: np.ndarray, total: int | None = None, codec: str = "Flat",
            nprobe: int = VectorIndexConfig().nprobe) -> "FaissIndex":
        """An empty IVF index for about ``total`` vectors, its clusters learnt from ``training`` (a sample)."""
        n, dim = training.shape
        nlist = min(ivf_lists(total or n), max(1, n // 39))
        index = faiss.index_factory(dim, f"IVF{nlist},{codec}", faiss.METRIC_INNER_PRODUCT)
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # clustering uses every core (searches use one)
        index.train(np.ascontiguousarray(training, dtype=np.float32))
        return cls(index, nprobe)

    @classmethod
    def load(cls, path: Path, nprobe: int = VectorIndexConfig().nprobe) -> tuple["FaissIndex", int]:
        """A saved index and the store generation it reflects; ``ValueError`` if the file is not one
        this program wrote or does not match its checksum."""
        data = Path(path).read_bytes()
        head = len(_MAGIC) + _HEADER.size
        if not data.startswith(_MAGIC) or len(data) < head:
            raise ValueError(f"unreadable FAISS index {path}: not a vector index file of this program")
        generation, checksum = _HEADER.unpack_from(data, len(_MAGIC))
        payload = np.frombuffer(data, np.uint8, offset=head)
        if _checksum(generation, payload) != checksum:
            raise ValueError(f"unreadable FAISS index {path}: its checksum does not match (damaged on disk)")
        try:
            index = faiss.deserialize_index(payload)
        except RuntimeError as exc:
            raise ValueError(f"unreadable FAISS index {path}: {str(exc).splitlines()[0]}") from None
        if not isinstance(index, (faiss.IndexIDMap2, faiss.IndexIVF)):
            raise ValueError(f"unreadable FAISS index {path}: unexpected type {type(index).__name__}")
        return cls(index, nprobe), generation

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

    def search_many(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)``, each ``(len(queries), k)``, among the ``allowed`` ids if given;
        missing slots have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if len(self) == 0 or (allowed is not None and not len(allowed)):
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        # One OpenMP thread in this (request) thread: a question is searched faster alone than by a
        # team, and an idle team's spinning threads would slow the model thread.
        faiss.omp_set_num_threads(1)
        k = max(1, min(k, len(self)))
        if allowed is None:
            return self._index.search(queries, k)
        allowed = np.ascontiguousarray(allowed, dtype=np.int64)
        if len(allowed) <= EXACT_UP_TO:
            exact = self._exact(queries, k, allowed)
            if exact is not None:
                return exact
        selector = faiss.IDSelectorBatch(allowed)
        if self.kind == "ivf":  # probe more clusters the fewer of their vectors are allowed
            share = len(allowed) / len(self)
            params = faiss.SearchParametersIVF(sel=selector, nprobe=min(self.nlist, math.ceil(self.nprobe / share)))
        else:
            params = faiss.SearchParameters(sel=selector)
        return self._index.search(queries, k, params=params)

    def _exact(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Exact search over a few allowed vectors; None when one is not (yet) in the index."""
        try:
            vectors = self._index.reconstruct_batch(allowed)
        except RuntimeError:
            return None
        scores = queries @ vectors.T
        k = min(k, len(allowed))
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, top, axis=1), allowed[top]

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        scores, ids = self.search_many(query, k, allowed)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def ids(self) -> np.ndarray:
        if self.kind == "flat":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        lists = self._index.invlists
        parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                 for i in range(lists.nlist) if lists.list_size(i)]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def serialize(self) -> np.ndarray:
        return faiss.serialize_index(self._index)

    def nbytes(self) -> int:
        """The size of the serialized index, what it costs in memory."""
        return len(self.serialize())

    def __len__(self) -> int:
        return int(self._index.ntotal)


def save(path: Path, payload: np.ndarray, generation: int) -> None:
    """Write a serialized index with its generation and checksum, atomically."""
    header = _MAGIC + _HEADER.pack(generation, _checksum(generation, payload))
    write_atomically(Path(path), header, payload)


def _checksum(generation: int, payload: np.ndarray) -> bytes:
    digest = hashlib.sha256(struct.pack("<q", generation))
    digest.update(payload)
    return digest.digest()


def write_atomically(path: Path, *parts: bytes | np.ndarray) -> None:
    """A crash leaves either the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
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


def choose_kind(config: VectorIndexConfig, vectors: int) -> str:
    """``flat`` or ``ivf``: as configured, or by size for ``auto`` (IVF needs enough vectors to cluster)."""
    kind = config.kind
    if kind == "auto":
        kind = "ivf" if vectors >= config.auto_ivf_from else "flat"
    return "ivf" if kind == "ivf" and vectors >= config.ivf_min else "flat"


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
    """A :class:`FaissIndex` made safe for searches running while other threads add or remove."""

    def __init__(self, inner: FaissIndex):
        self._inner = inner
        self.dim = inner.dim
        self.kind = inner.kind
        self._lock = _ReadWriteLock()

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock.write():
            self._inner.add(ids, vectors)

    def remove(self, ids: np.ndarray) -> None:
        with self._lock.write():
            self._inner.remove(ids)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        with self._lock.read():
            return self._inner.search(query, k, allowed)

    def ids(self) -> np.ndarray:
        with self._lock.read():
            return self._inner.ids()

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        with self._lock.read():
            return self._inner.vectors(ids)

    def scores(self, query: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``KeyError`` if one of ``ids`` is not in the index (the caller reads the store instead)."""
        return ids, self.vectors(ids) @ query

    def serialize(self) -> np.ndarray:
        """A snapshot of the whole index; a slow disk writing it later holds back neither writes nor searches."""
        with self._lock.read():
            return self._inner.serialize()

    def __len__(self) -> int:
        return len(self._inner)
