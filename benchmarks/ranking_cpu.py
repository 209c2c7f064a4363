"""The CPU an answer costs outside the model, in-process: what each request thread takes from the
cores (and the GIL) that the model thread needs under load.

    python -m benchmarks.ranking_cpu --index INDEX_DIR [--questions 400]

``INDEX_DIR`` is any local index of SciFact (``benchmarks/work/size-10000`` after ``run.py bench``).
It asks SciFact's questions one after another and prints, per answer, the wall time, the bare
encode of the same questions, and the asking thread's own CPU time (``time.thread_time``: the
ranking, the engines' calls and the answer's assembly, not the model thread's encode). A sampling
profiler overstates this part: a thread waiting for the GIL while the model thread encodes counts
as busy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench import WARMUP, _ms, _questions, _timed, open_service  # noqa: E402
from qa.embeddings import Embedder  # noqa: E402


def measure(index_dir: Path, questions: list[str]) -> dict:
    embedder = Embedder()
    service = open_service(index_dir, embedder)
    try:
        for question in questions[:WARMUP]:
            service.ask(question + " (warm-up)", 5)
        model = embedder.model
        encode = embedder.run(lambda: [_timed(lambda: model.encode([q])) for q in questions])
        walls, cpus = [], []
        for question in questions:
            wall, cpu = time.perf_counter(), time.thread_time()
            service.ask(question, 5)
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
        passages = service.stats()["passages"]
    finally:
        service.close()
    median = statistics.median
    return {"passages": passages, "questions": len(questions), "answer_p50_ms": _ms(median(walls)),
            "encode_p50_ms": _ms(median(encode)), "request_thread_cpu_p50_ms": _ms(median(cpus)),
            "request_thread_cpu_mean_ms": _ms(statistics.mean(cpus))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "benchmarks" / "work" / "size-10000")
    parser.add_argument("--scifact", type=Path, default=ROOT.parent / "shared" / "evaldata" / "scifact")
    parser.add_argument("--questions", type=int, default=400)
    args = parser.parse_args()
    if not (args.index / "qa.sqlite3").exists():
        print(f"error: {args.index}: no local index here (run.py bench builds benchmarks/work/size-10000)",
              file=sys.stderr)
        return 2
    figures = measure(args.index, _questions(args.scifact)[WARMUP:WARMUP + args.questions])
    print(" | ".join(f"{key} {value}" for key, value in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
