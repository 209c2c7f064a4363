"""Memory, disk, build time, latency and recall of FAISS index types at a given vector count.

Uses only numpy and faiss. Milvus's vector indexes (knowhere: IVF_FLAT, IVF_SQ8, HNSW, HNSW_SQ)
are built on FAISS and hnswlib, so bytes per vector here are comparable with what a Milvus query
node holds for the same index type and parameters.

    nice -n 10 python benchmarks/index_sizes.py 200000                       # random unit vectors
    nice -n 10 python benchmarks/index_sizes.py 200000 \\
        --seed benchmarks/work/scifact-corpus.npy --queries benchmarks/work/scifact-queries.npy

Data: with ``--seed``, each vector is a blend of two real passage vectors plus Gaussian noise
(``a + 0.5 b + N(0, 0.02)``, then unit length; the same recipe as ``benchmarks/bench.py``'s 1M
table), and the queries are the first ``--nq`` real question vectors from ``--queries``. Without
them, vectors and queries are uniform random unit vectors: sizes and build times are the same, but
recall on random data is pessimistic (no cluster structure for IVF or HNSW to exploit).

Each index is built with one thread (``faiss.omp_set_num_threads``, default 1) so a shared machine
keeps its other cores. "memory" is ``faiss.serialize_index`` size (what the index holds: codes,
lists or graph links, quantizer); "disk" is the size of ``faiss.write_index``'s file. Search: one query at a time, k=10, median over
the queries; recall@10 against exact inner-product search (FLAT).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time

import faiss
import numpy as np

DIM = 384
K = 10


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make_data(n: int, nq: int, seed_path: str | None, queries_path: str | None, rng) -> tuple[np.ndarray, np.ndarray, str]:
    vectors = np.empty((n, DIM), np.float32)
    if seed_path:
        real = np.load(seed_path).astype(np.float32)
        for lo in range(0, n, 100_000):
            m = min(100_000, n - lo)
            mix = real[rng.integers(0, len(real), m)] + 0.5 * real[rng.integers(0, len(real), m)]
            mix += rng.normal(scale=0.02, size=mix.shape).astype(np.float32)
            vectors[lo:lo + m] = unit(mix)
        queries = unit(np.load(queries_path)[:nq]) if queries_path else unit(real[:nq] + rng.normal(scale=0.05, size=(nq, DIM)))
        kind = f"blends of {len(real):,} real passage vectors + noise; {len(queries)} real questions"
    else:
        for lo in range(0, n, 100_000):
            m = min(100_000, n - lo)
            vectors[lo:lo + m] = unit(rng.standard_normal((m, DIM), dtype=np.float32))
        queries = unit(rng.standard_normal((nq, DIM), dtype=np.float32))
        kind = "uniform random unit vectors and queries (recall pessimistic)"
    return vectors, queries, kind


def ivf_lists(n: int) -> int:
    """About 4 * sqrt(n) clusters (4,000 at 1M), the product's and Milvus's usual rule."""
    return max(1, min(int(4 * math.sqrt(n)), n // 39))


def build(name: str, vectors: np.ndarray, rng):
    n = len(vectors)
    ip = faiss.METRIC_INNER_PRODUCT
    if name == "FLAT":
        index = faiss.IndexFlatIP(DIM)
    elif name.startswith("IVF"):
        nlist = ivf_lists(n)
        codec = "SQ8" if name.endswith("SQ8") else "Flat"
        index = faiss.index_factory(DIM, f"IVF{nlist},{codec}", ip)
        sample = vectors[rng.choice(n, size=min(n, 40 * nlist), replace=False)]
        index.train(sample)
    elif name.startswith("HNSW"):
        m = int(name.split("M")[1].split("_")[0])
        if name.endswith("SQ8"):
            index = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_8bit, m, ip)
            index.train(vectors[rng.choice(n, size=min(n, 100_000), replace=False)])
        else:
            index = faiss.IndexHNSWFlat(DIM, m, ip)
        index.hnsw.efConstruction = 200
    else:
        raise ValueError(name)
    for lo in range(0, n, 50_000):
        index.add(vectors[lo:lo + 50_000])
    return index


def params_for(name: str) -> list[tuple[str, object]]:
    if name.startswith("IVF"):
        return [(f"nprobe={p}", p) for p in (16, 32, 64, 128)]
    if name.startswith("HNSW"):
        return [(f"ef={e}", e) for e in (32, 64, 128, 256)]
    return [("", None)]


def set_param(index, name: str, value) -> None:
    if name.startswith("IVF"):
        index.nprobe = value
    elif name.startswith("HNSW"):
        index.hnsw.efSearch = value


def timed_search(index, queries: np.ndarray) -> tuple[np.ndarray, float]:
    index.search(queries[:5], K)  # warm up
    found, times = [], []
    for row in queries:
        t = time.perf_counter()
        _, ids = index.search(row[None, :], K)
        times.append(time.perf_counter() - t)
        found.append(ids[0])
    return np.stack(found), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="vectors to index (e.g. 1000000)")
    parser.add_argument("--seed", help=".npy of real passage vectors to blend (default: random unit vectors)")
    parser.add_argument("--queries", help=".npy of real question vectors (with --seed)")
    parser.add_argument("--nq", type=int, default=200, help="queries (default 200)")
    parser.add_argument("--indexes", default="FLAT,IVF_FLAT,IVF_SQ8,HNSW_M16,HNSW_M16_SQ8,HNSW_M32,HNSW_M32_SQ8")
    parser.add_argument("--threads", type=int, default=1, help="FAISS threads (default 1)")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    vectors, queries, kind = make_data(args.n, args.nq, args.seed, args.queries, rng)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    _, truth = exact.search(queries, K)
    del exact
    print(f"{args.n:,} x {DIM}-d float32 vectors ({kind}); faiss {faiss.__version__}, {args.threads} thread(s); "
          f"raw vectors {DIM * 4} bytes each", flush=True)
    header = f"{'index':<22}{'param':<12}{'build s':>9}{'memory MB':>11}{'disk MB':>9}{'B/vec':>7}{'p50 ms':>8}{'recall@10':>10}"
    print(header, flush=True)
    rows = []
    for name in args.indexes.split(","):
        t = time.perf_counter()
        index = build(name, vectors, rng)
        build_s = time.perf_counter() - t
        memory = len(faiss.serialize_index(index))
        with tempfile.NamedTemporaryFile(dir=os.environ.get("TMPDIR", "/tmp"), suffix=".faiss") as f:
            faiss.write_index(index, f.name)
            disk = os.path.getsize(f.name)
        for label, value in params_for(name):
            set_param(index, name, value)
            found, p50 = timed_search(index, queries)
            recall = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(truth, found)]))
            row = {"index": name, "param": label, "n": args.n, "build_s": round(build_s, 1),
                   "memory_bytes": memory, "disk_bytes": disk,
                   "bytes_per_vector": round(memory / args.n), "search_p50_ms": round(p50 * 1000, 3),
                   "recall@10": round(recall, 4)}
            rows.append(row)
            print(f"{name:<22}{label:<12}{build_s:>9.1f}{memory / 1e6:>11.1f}{disk / 1e6:>9.1f}"
                  f"{row['bytes_per_vector']:>7}{p50 * 1000:>8.3f}{recall:>10.4f}", flush=True)
        del index
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": args.n, "data": kind, "threads": args.threads, "faiss": faiss.__version__,
                       "measured_at": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
