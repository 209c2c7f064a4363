"""A small deterministic encoder for tests whose subject is not the model: a word's vector comes from
its hash, a text's is the mean of its words'. Texts sharing words are similar; nothing else is."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]")


class HashEncoder:
    spec = "test-hash-encoder"
    identity = "test-hash-encoder"
    dim = 64
    max_tokens = 256

    def token_len(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def truncate(self, text: str, max_tokens: int) -> str:
        ends = [m.end() for m in _TOKEN.finditer(text)]
        return text if len(ends) <= max_tokens else text[:ends[max_tokens - 1]]

    def encode_passages(self, texts, sentence_spans, progress=None):
        vectors = np.stack([self._encode(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        sentences = [np.stack([self._encode(text[a:b]) for a, b in spans]) if spans
                     else np.zeros((0, self.dim), np.float32) for text, spans in zip(texts, sentence_spans)]
        if progress is not None:
            progress(len(texts))
        return vectors, sentences

    def start_query(self, text: str):
        vector = self._encode(text)
        return lambda: vector

    def encode_queries(self, texts):
        return np.stack([self._encode(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def warm(self, texts) -> None:
        pass

    def _encode(self, text: str) -> np.ndarray:
        words = [w.lower() for w in re.findall(r"\w+", text)] or ["<empty>"]
        vector = np.sum([_word_vector(w, self.dim) for w in words], axis=0)
        return (vector / np.linalg.norm(vector)).astype(np.float32)


@lru_cache(maxsize=100_000)
def _word_vector(word: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).normal(size=dim)
    return vector / np.linalg.norm(vector)
