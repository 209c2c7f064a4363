"""The two engines side by side: in-process answer latency on the local engine (SQLite + FAISS +
tantivy) and on embedded Milvus Lite over the same passages and questions, and where the time of
an answer goes on each (every call the ranking makes into the engine, timed).

    python -m benchmarks.engines --source INDEX_DIR [--passages 10000] [--work DIR]

``INDEX_DIR`` is any local index of SciFact (``benchmarks/work/scifact`` after ``run.py bench``, or
the folder ``run.py eval ../shared/evaldata/scifact --work-dir DIR`` keeps); its articles are copied
with their vectors into a fresh index on each engine (nothing is embedded again).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench import WARMUP, _questions, _timed, clone, open_service  # noqa: E402
from qa.embeddings import Embedder  # noqa: E402

PARTS = ("store", "vectors", "lexical")


class Timed:
    """Stands in for an engine part and adds the time of each call to ``spent[part.method]``."""

    def __init__(self, inner, name: str, spent: dict[str, list[float]]):
        self._inner, self._name, self._spent = inner, name, spent

    def __getattr__(self, attribute):
        value = getattr(self._inner, attribute)
        if not callable(value):
            return value

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self._spent.setdefault(f"{self._name}.{attribute}", []).append(time.perf_counter() - started)
        return timed

    def __len__(self) -> int:
        return len(self._inner)


def measure(index_dir: Path, questions: list[str], encoder, **settings) -> dict:
    service = open_service(index_dir, encoder, **settings)
    try:
        model = service.encoder.model
        floor = service.encoder.run(lambda: [_timed(lambda: model.encode([q])) for q in questions])
        for q in questions[:WARMUP]:
            service.ask(q + " (warm-up)", 5)
        spent: dict[str, list[float]] = {}
        engine = service.engine
        originals = {part: getattr(engine, part) for part in PARTS}
        for part in PARTS:  # the engine's parts are public: timed from outside, changed in nothing
            setattr(engine, part, Timed(originals[part], part, spent))
        answers = []
        for q in questions[WARMUP:]:
            started = time.perf_counter()
            service.ask(q, 5)
            answers.append(time.perf_counter() - started)
        for part in PARTS:
            setattr(engine, part, originals[part])
        n = len(answers)
        return {"engine": engine.name, "passages": service.stats()["passages"], "index": service.stats()["vector_index"],
                "floor_ms": 1000 * statistics.median(floor[WARMUP:]), "p50_ms": 1000 * statistics.median(answers),
                "p95_ms": 1000 * sorted(answers)[int(0.95 * n)],
                "calls": {name: (len(times) / n, 1000 * sum(times) / n) for name, times in sorted(spent.items())}}
    finally:
        service.close()


def open_empty(encoder, **settings) -> float:
    """Seconds to open a service on an index that holds nothing yet (on Milvus: creating its
    collections and their indexes), and close it."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        open_service(Path(tmp), encoder, **settings).close()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="a local index of SciFact")
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    parser.add_argument("--scifact", type=Path, default=ROOT.parent / "shared" / "evaldata" / "scifact")
    parser.add_argument("--questions", type=int, default=220)
    args = parser.parse_args()
    encoder = Embedder()
    questions = _questions(args.scifact)[:args.questions]
    figures = []
    opening = {}
    for name, settings in (("local", {}), ("milvus", {"engine": "milvus"})):
        target = clone(args.source, args.work / f"engines-{name}-{args.passages}", args.passages, encoder, **settings)
        figures.append(measure(target, questions, encoder, **settings))
        opening[name] = open_empty(encoder, **settings)
    local = figures[0]
    print(f"in-process answers, k=5, {len(questions) - WARMUP} SciFact questions "
          f"(after {WARMUP} warm-up), the same passages on each engine")
    print(f"{'engine':8} {'passages':>8} {'index':>6} {'floor':>8} {'p50':>8} {'p95':>8} {'p50/local':>9}")
    for f in figures:
        print(f"{f['engine']:8} {f['passages']:>8} {f['index']:>6} {f['floor_ms']:>6.2f}ms {f['p50_ms']:>6.2f}ms "
              f"{f['p95_ms']:>6.2f}ms {f['p50_ms'] / local['p50_ms']:>8.2f}x")
    print("\nwhere an answer's time goes: engine calls per answer, and their mean ms per answer")
    names = sorted({name for f in figures for name in f["calls"]})
    print(f"{'call':28} " + " ".join(f"{f['engine']:>16}" for f in figures))
    for name in names:
        cells = [f["calls"].get(name) for f in figures]
        print(f"{name:28} " + " ".join(f"{c[0]:>5.1f} x {c[1]:>6.2f}ms" if c else f"{'-':>16}" for c in cells))
    for f in figures:
        engine_ms = sum(ms for _, ms in f["calls"].values())
        print(f"{f['engine']}: engine calls {engine_ms:.2f} ms of the {f['p50_ms']:.2f} ms p50 "
              f"(the rest: the model, {f['floor_ms']:.2f} ms, overlapping the lexical calls, and the ranking)")
    print("opening an empty index: " + ", ".join(f"{name} {s:.2f} s" for name, s in opening.items()))


if __name__ == "__main__":
    main()
