"""Speed and scale, measured against the physical floor: ``python run.py bench``.

A question costs at least one pass of the embedding model over it (the
floor); everything else is overhead. This prints a table and writes
``benchmarks/results.json`` with:

* the floor and in-process answer latency at about 100, 10,000 and 100,000
  passages (each size measured in a fresh process, with its peak memory);
* HTTP latency and throughput against ``python run.py`` with 1, 8 and 32
  concurrent clients (wrk, loopback, fixed duration);
* indexing throughput through ``QAService.add_many`` versus bare
  ``model.encode`` on the same passages;
* start-up time with an existing 100,000-passage index;
* exact versus IVF FAISS on 1,000,000 realistic vectors;
* filtered against unfiltered answers (one article; one source of five), in-process at 100,000
  passages and over HTTP at 300 articles, on a generated newsroom (``benchmarks/newsroom.py``).

``python run.py bench --encoders`` instead times the model alone under each
backend that is installed (PyTorch; ONNX Runtime and its int8 quantization
with the ``onnx`` extra) and adds that table to the same file.

Corpora are built from SciFact (``../shared/evaldata/scifact``); sizes above
what SciFact holds repeat its articles under new ids (copied with their
vectors through the service's export and import, not embedded again).
Everything is kept in a work folder so later runs skip the slow embedding.

This program lives outside the product package and uses only its public API.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.errors import BadInput, Conflict, QAError
from qa.ingest import Article, read_file
from qa.service import passage_bar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # its newsroom module, however this program is started

SIZES = (100, 10_000, 100_000)
INDEXING_ARTICLES = 2_000
WARMUP = 20
ANN_VECTORS = 1_000_000


# --- helpers -------------------------------------------------------------------------

def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _peak_rss_mb() -> float:
    """This process's own peak resident memory. Linux's ``ru_maxrss`` survives ``exec`` and so starts
    a benchmark child at the size of the parent that forked it; ``VmHWM`` belongs to the new image."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _questions(scifact: Path) -> list[str]:
    with open(scifact / "queries.jsonl", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def _documents(scifact: Path) -> list[Article]:
    from qa.evaluation import load_beir

    return load_beir(scifact, "test").documents


def open_service(index_dir: Path, encoder=None, **settings):
    from qa.service import QAService

    empty = index_dir / "no-corpus"
    empty.mkdir(parents=True, exist_ok=True)
    # QA_* settings as the server has them (the model and backend above all), then the bench's own.
    return QAService(Settings.from_env(ROOT).with_(corpus_dir=empty, index_dir=index_dir, **settings),
                     encoder=encoder)


# --- corpora -------------------------------------------------------------------------

def forget_stale(work: Path, embedder) -> None:
    """Cached corpora built with another model, or by a version that cut or read passages
    differently, refuse to open (see QAService): they are dropped and built again."""
    if not (work / "scifact" / "complete").exists():
        return
    try:
        open_service(work / "scifact", embedder).close()
    except Conflict:
        for cached in ("scifact", "size-100", "size-10000", "size-100000"):
            shutil.rmtree(work / cached, ignore_errors=True)


def build_base(work: Path, scifact: Path, embedder, report: dict) -> Path:
    """All of SciFact indexed through the product's own path; the first 2,000 articles are timed."""
    base = work / "scifact"
    if (base / "complete").exists():
        if (base / "indexing.json").exists():  # measured when the corpus was built
            report["indexing"] = json.loads((base / "indexing.json").read_text())
        return base
    shutil.rmtree(base, ignore_errors=True)
    docs = _documents(scifact)
    service = open_service(base, embedder)
    try:
        report["indexing"] = measure_indexing(service, docs[:INDEXING_ARTICLES])
        service.add_many(docs[INDEXING_ARTICLES:], passage_bar(sys.stderr.isatty()))
    finally:
        service.close()
    (base / "indexing.json").write_text(json.dumps(report["indexing"]))
    (base / "complete").write_text("ok")
    return base


def measure_indexing(service, docs: list[Article]) -> dict:
    """Passages per second through add_many, then bare model.encode on the same model inputs."""
    started = time.perf_counter()
    results = service.add_many(docs, passage_bar(sys.stderr.isatty()))
    ours = time.perf_counter() - started
    passages = sum(r.passages for r in results)
    reader = service.model_input
    texts = [reader.text(a, p)[0] for a in docs for p in reader.passages(a)]
    model = service.encoder.model
    bare = service.encoder.run(lambda: _timed(lambda: model.encode(texts)))
    return {"measured_at": time.strftime("%Y-%m-%d %H:%M"), "articles": len(docs), "passages": passages,
            "passages_per_s": round(passages / ours, 1), "bare_encode_per_s": round(len(texts) / bare, 1),
            "ratio": round((passages / ours) / (len(texts) / bare), 3)}


def clone(base: Path, target: Path, passages: int, encoder, **settings) -> Path:
    """An index of about ``passages`` passages: SciFact's articles, repeated under new ids as needed,
    copied with their vectors (nothing is embedded again), on the engine ``settings`` name."""
    if (target / "complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    source = open_service(base, encoder)
    try:
        records = list(source.export())
    finally:
        source.close()

    service = open_service(target, encoder, **settings)
    try:
        service.import_records(_repeated(records, passages, lambda a, copy, i: a if copy == 0 else
                                         replace(a, id=f"{a.id}~{copy}")))
    finally:
        service.close()
    open_service(target, encoder, **settings).close()  # opened once more, as a start-up would: the vector index is chosen by size
    (target / "complete").write_text("ok")
    return target


def _repeated(records: list, passages: int, rename, copy: int = 0, total: int = 0):
    """``records`` over and over, each round's articles renamed by ``rename(article, round, i)``,
    until about ``passages`` passages (``total`` of them already stored)."""
    while True:
        for i, record in enumerate(records):
            if total >= passages:
                return
            yield replace(record, article=rename(record.article, copy, i))
            total += len(record.passages)
        copy += 1


def build_small(work: Path, base: Path, seed: Path, embedder) -> Path:
    """About 100 passages: the seed article plus a few SciFact articles."""
    target = work / "size-100"
    if (target / "complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    service = open_service(target, embedder)
    try:
        service.add(read_file(seed))
        source = open_service(base, embedder)
        try:
            docs = [source.article(row["id"]) for row in source.articles(0, 20)["articles"]]
        finally:
            source.close()
        for row in docs:
            if service.stats()["passages"] >= 100:
                break
            service.add(Article(row["id"], row["title"], row["text"]))
    finally:
        service.close()
    (target / "complete").write_text("ok")
    return target


# --- in-process latency (run in a fresh process per size) ---------------------------------

def measure_size(index_dir: Path, questions: list[str]) -> dict:
    """Floor and full-answer latency over the same questions, and this process's peak memory."""
    started = time.perf_counter()
    service = open_service(index_dir)
    load_s = time.perf_counter() - started
    model = service.encoder.model
    measured = questions[WARMUP:]
    # The floor runs on the model thread, the only thread that ever runs the model (see embeddings.py).
    floor = service.encoder.run(lambda: [_timed(lambda: model.encode([q])) for q in questions[:WARMUP] + measured])
    floor = floor[WARMUP:]
    for q in questions[:WARMUP]:
        service.ask(q + " (warm-up)", 5)
    answer = []
    for q in measured:
        t = time.perf_counter()
        service.ask(q, 5)
        answer.append(time.perf_counter() - t)
    reading = [_reading_cost(service, q) for q in measured]
    stats = service.stats()
    service.close()
    floor_p50 = statistics.median(floor)
    return {
        "passages": stats["passages"], "index": stats["vector_index"], "questions": len(measured),
        "load_s": round(load_s, 2),
        "floor_p50_ms": _ms(floor_p50), "answer_p50_ms": _ms(statistics.median(answer)),
        "answer_p95_ms": _ms(_percentile(answer, 95)),
        "ratio_p50": round(statistics.median(answer) / floor_p50, 2),
        "reader_and_confidence_p50_ms": _ms(statistics.median(reading)),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _reading_cost(service, question: str) -> float:
    """The time an answer spends in the reader and the confidence model (inside the answer's time):
    every candidate sentence's signals, the answer model over them, and the confidence model."""
    from qa.search.reader import Question, sentence_features

    searcher = service.searcher
    read, idf = searcher.read(question, 5)
    _, features = searcher.search_with_features(question, 5)
    terms = service.engine.lexical.terms
    asked = Question.of(question, service.encoder.start_query(question)(), terms(question), idf)
    started = time.perf_counter()
    for candidate in read:
        searcher.models.answer.probability(sentence_features(candidate.passage, candidate.similarity, asked, terms))
    searcher.models.confidence.probability(features)
    return time.perf_counter() - started


def _in_subprocess(function: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, function, *args], capture_output=True, text=True,
                         timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark step {function} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- HTTP -----------------------------------------------------------------------------

_WRK_SCRIPT = """
local questions = {}
for line in io.lines(os.getenv("QA_BENCH_QUESTIONS")) do questions[#questions + 1] = line end
local run = os.getenv("QA_BENCH_RUN")
local counter = 0
local threads = {}
function setup(thread) thread:set("offset", #threads * 5000) table.insert(threads, thread) end
function request()
  counter = counter + 1
  local q = questions[((offset or 0) + counter) % #questions + 1]
  -- the run's tag keeps questions distinct across runs, so no answer comes from the cache
  return wrk.format("GET", "/api/ask?k=5&q=" .. q .. "%20%28" .. run .. "%29")
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests": %d, "duration_s": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, '
    .. '"p99_ms": %.2f, "errors": %d, "non_2xx": %d}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def _url_questions(questions: list[str], path: Path, count: int = 11_000) -> None:
    """Distinct URL-encoded questions (SciFact's, with ten phrasings), so the cache never answers."""
    from urllib.parse import quote

    prefixes = ["", "Is it true that ", "Evidence that ", "Does research show that ", "Studies on: ",
                "Claim: ", "Check whether ", "What is known about the claim that ", "Verify: ", "Question: "]
    lines = []
    for prefix in prefixes:
        for n, q in enumerate(questions):
            lines.append(quote(f"{prefix}{q}"))
            if len(lines) >= count:
                break
    path.write_text("\n".join(lines) + "\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(index_dir: Path, corpus: Path | None = None) -> tuple[subprocess.Popen, str, float, dict]:
    port = _free_port()
    if corpus is None:
        corpus = index_dir / "no-corpus"
        corpus.mkdir(exist_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"),
                                "--index-dir", str(index_dir), "--corpus-dir", str(corpus), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    while time.perf_counter() - started < 300:
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=1) as response:
                if response.status == 200:
                    return process, base, time.perf_counter() - started, json.loads(response.read())
        except OSError:
            if process.poll() is not None:  # it refused to start (a wrong index, say): say so at once
                raise RuntimeError(f"the server exited with code {process.returncode} before answering; "
                                   f"run `run.py --index-dir {index_dir}` to see why") from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not answer /api/health within 300 s")


def _stop(process: subprocess.Popen) -> float:
    """SIGTERM, and the seconds until the server has exited."""
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
    return time.perf_counter() - started


def measure_http(index_dir: Path, questions: list[str], seconds: int, embedder) -> dict:
    """The model's own ceiling (questions/s of encode in batches of 8, and one question's encode),
    then the server's answers/s under 1, 8 and 32 clients, in one run on the same machine."""
    wrk = shutil.which("wrk")
    if not wrk:
        raise BadInput("no_wrk", "the HTTP benchmark needs wrk: apt-get install wrk (make bench does)")
    model = embedder.model
    sample = questions[:WARMUP + 200]
    single = embedder.run(lambda: [_timed(lambda: model.encode([q])) for q in sample])[WARMUP:]
    groups = [sample[i:i + 8] for i in range(0, len(sample) - 7, 8)]
    batched = embedder.run(lambda: [_timed(lambda: model.encode(g)) for g in groups])[2:]
    ceiling = {"batch8_questions_per_s": round(8 / statistics.median(batched), 1),
               "single_encode_p50_ms": _ms(statistics.median(single))}
    with tempfile.TemporaryDirectory() as tmp:
        script, qfile = Path(tmp) / "ask.lua", Path(tmp) / "questions.txt"
        script.write_text(_WRK_SCRIPT)
        _url_questions(questions, qfile)
        process, base, _, _ = _start_server(index_dir)
        try:
            results = {}
            for clients in (1, 8, 32):
                env = {**os.environ, "QA_BENCH_QUESTIONS": str(qfile), "QA_BENCH_RUN": f"run{clients}"}
                out = subprocess.run([wrk, f"-t{min(clients, 2)}", f"-c{clients}", f"-d{seconds}s", "--timeout",
                                      "10s", "-s", str(script), base], capture_output=True, text=True, env=env,
                                     timeout=seconds + 60)
                line = next((li for li in out.stdout.splitlines() if li.startswith("WRK ")), None)
                if line is None:
                    raise RuntimeError(f"wrk gave no figures:\n{out.stdout}\n{out.stderr}")
                row = json.loads(line[4:])
                row["throughput_rps"] = round(row["requests"] / row["duration_s"], 1)
                results[str(clients)] = row
            one = results["1"]["throughput_rps"]
            for row in results.values():
                row["speedup"] = round(row["throughput_rps"] / one, 2)
                row["of_ceiling"] = round(row["throughput_rps"] / ceiling["batch8_questions_per_s"], 2)
            results["1"]["p50_of_single_encode"] = round(results["1"]["p50_ms"] / ceiling["single_encode_p50_ms"], 2)
        finally:
            _stop(process)
    return {"measured_at": time.strftime("%Y-%m-%d %H:%M"), "model": f"{embedder.identity} on {embedder.backend}",
            "ceiling": ceiling, "clients": results}


def measure_startup(index_dir: Path, runs: int = 3) -> dict:
    """Seconds from launch to a healthy /api/health, and from SIGTERM to exit."""
    times, stops, health = [], [], {}
    for _ in range(runs):
        process, _, elapsed, health = _start_server(index_dir)
        stops.append(_stop(process))
        times.append(elapsed)
    return {"measured_at": time.strftime("%Y-%m-%d %H:%M"), "passages": health["passages"],
            "startup_s_median": round(statistics.median(times), 2), "startup_s_runs": [round(t, 2) for t in times],
            "stop_s_median": round(statistics.median(stops), 2)}


def _get(url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"} if body else {})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def _wall(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run.py"), *args], check=True, capture_output=True)
    return round(time.perf_counter() - started, 2)


def measure_writes(seed: Path, questions: list[str], paragraphs: int = 1500) -> dict:
    """Questions over HTTP while a large add runs as a job, against the same server idle; then the
    CLI's wall time for one add and one ask through the running server, and with no server."""
    from urllib.parse import quote

    # Distinct questions, so that no cached vector answers: SciFact's, numbered once they run out.
    asked = (q if n < len(questions) else f"{q} ({n})" for n, q in enumerate(itertools.cycle(questions)))

    def ask_ms(base: str) -> float:
        return 1000 * _timed(lambda: _get(base + "/api/ask?k=5&q=" + quote(next(asked))))

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "corpus").mkdir()
        shutil.copy(seed, root / "corpus" / seed.name)
        folders = ["--index-dir", str(root / "index"), "--corpus-dir", str(root / "corpus")]
        process, base, _, _ = _start_server(root / "index", root / "corpus")
        try:
            for _ in range(WARMUP):
                ask_ms(base)
            idle = [ask_ms(base) for _ in range(80)]
            text = "\n\n".join(f"Paragraph {n} of the long report describes survey site {n}. Site {n} had "
                                 f"{n % 17} wells and {n % 5} pumps in working order." for n in range(paragraphs))
            job = _get(base + "/api/articles?wait=false", {"id": "long-report", "title": "Long report", "text": text})
            busy = []
            while _get(base + job["status_url"])["state"] in ("queued", "running"):
                busy.append(ask_ms(base))
            status = _get(base + job["status_url"])
            story = root / "ferry.txt"
            story.write_text("Ferry timetable changes\n\nThe night ferry to Skerry Island will leave at 22:40 "
                             "from Monday, the harbour master said.", encoding="utf-8")
            cli_server = {"add_s": _wall("add", str(story), *folders),
                          "ask_s": _wall("ask", "When will the night ferry leave?", *folders)}
        finally:
            _stop(process)
        cli_local = {"add_s": _wall("add", str(story), "--id", "ferry-2", *folders),
                     "ask_s": _wall("ask", "When will the night ferry leave?", *folders)}
    idle_p50, busy_p50 = statistics.median(idle), statistics.median(busy)
    return {"measured_at": time.strftime("%Y-%m-%d %H:%M"), "job_passages": status["total"],
            "job_state": status["state"], "idle_p50_ms": round(idle_p50, 1), "busy_p50_ms": round(busy_p50, 1),
            "busy_p90_ms": round(sorted(busy)[int(0.9 * len(busy))], 1), "busy_questions": len(busy),
            "busy_over_idle": round(busy_p50 / idle_p50, 2), "cli_through_server": cli_server,
            "cli_without_server": cli_local}


# --- the vector index at 1M -------------------------------------------------------------

def measure_ann(base: Path, questions: list[str], embedder, n: int = ANN_VECTORS, queries: int = 200) -> dict:
    """Exact versus IVF on ``n`` realistic vectors: blends of real passage vectors plus noise."""
    from qa.engines.local.vectors import FaissIndex, training_size

    source = open_service(base, embedder)
    try:
        real = np.stack([p.vector for record in source.export() for p in record.passages])
    finally:
        source.close()
    rng = np.random.default_rng(0)
    vectors = np.empty((n, real.shape[1]), np.float32)
    for lo in range(0, n, 100_000):
        m = min(100_000, n - lo)
        mix = real[rng.integers(0, len(real), m)] + 0.5 * real[rng.integers(0, len(real), m)]
        mix += rng.normal(scale=0.02, size=mix.shape).astype(np.float32)
        vectors[lo:lo + m] = mix / np.linalg.norm(mix, axis=1, keepdims=True)
    ids = np.arange(n, dtype=np.int64)
    q = embedder.encode_queries(questions[:queries])

    def timed_search(index, k=10):
        index.search_many(q[:5], k)
        times, found = [], []
        for row in q:
            t = time.perf_counter()
            found.append([pid for pid, _ in index.search(row, k)])
            times.append(time.perf_counter() - t)
        return found, statistics.median(times)

    t = time.perf_counter()
    exact = FaissIndex.flat(real.shape[1])
    exact.add(ids, vectors)
    exact_build = time.perf_counter() - t
    truth, exact_p50 = timed_search(exact)
    rows = [{"index": "flat (exact)", "build_s": round(exact_build, 1), "search_p50_ms": _ms(exact_p50),
             "recall@10": 1.0, "bytes_per_vector": _bytes_per_vector(exact, n)}]
    del exact
    sample = vectors[rng.choice(n, size=training_size(n), replace=False)]
    for codec in ("Flat", "SQ8"):  # the product's IVF keeps exact vectors (Flat); SQ8 shows the memory option
        t = time.perf_counter()
        approx = FaissIndex.ivf(sample, total=n, codec=codec)
        approx.add(ids, vectors)
        build = time.perf_counter() - t
        for nprobe in (16, 32, 64, 128, 256):
            approx.nprobe = nprobe
            found, p50 = timed_search(approx)
            recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)]))
            rows.append({"index": f"IVF{approx.nlist},{codec} nprobe={nprobe}", "build_s": round(build, 1),
                         "search_p50_ms": _ms(p50), "recall@10": round(recall, 4),
                         "bytes_per_vector": _bytes_per_vector(approx, n)})
        del approx
    return {"vectors": n, "queries": len(q), "rows": rows}


def _bytes_per_vector(index, n: int) -> int:
    return round(index.nbytes() / n)


# --- the whole run ----------------------------------------------------------------------

# --- filters ----------------------------------------------------------------------------

FILTER_QUESTIONS = 120
_NEWSROOM_EMBEDDED = 2_000  # articles embedded for the large newsroom; the rest repeat them under new ids


def build_newsroom(work: Path, passages: int | None, embedder) -> Path:
    """The generated newsroom: 300 articles (``passages`` None), or about ``passages`` passages made
    of 2,000 embedded articles repeated under new ids, each copy with another source and date."""
    import newsroom

    target = work / ("newsroom-300" if passages is None else f"newsroom-{passages}")
    if (target / "complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    service = open_service(target, embedder)
    try:
        if passages is None:
            service.add_many(newsroom.articles(300))
        else:
            service.add_many(newsroom.articles(_NEWSROOM_EMBEDDED, extra=3), passage_bar(sys.stderr.isatty()))
            records = list(service.export())

            def renamed(a: Article, copy: int, i: int) -> Article:
                return replace(a, id=f"{a.id}~{copy}", source=newsroom.SOURCES[(i + copy) % len(newsroom.SOURCES)],
                               date=f"{2024 - copy % 5}-{a.date[5:]}" if a.date else None)

            service.import_records(_repeated(records, passages, renamed, copy=1,
                                             total=sum(len(r.passages) for r in records)))
    finally:
        service.close()
    open_service(target, embedder).close()  # opened once more, as a start-up would: the vector index is chosen by size
    (target / "complete").write_text("ok")
    return target


def _filter_cases(count: int) -> list[tuple[str, dict]]:
    """Distinct questions, each with the article and the source it is asked of when filtered."""
    import random

    import newsroom

    rng = random.Random(0)
    cases = []
    for i in range(count):
        place, topic = rng.choice(newsroom.PLACES), rng.choice(newsroom.TOPICS)
        question = rng.choice(("How much would the {t} in {p} cost?", "What did {p} decide about the {t}?",
                               "How many residents spoke about the {t} plan in {p}?")).format(t=topic, p=place)
        cases.append((f"{question} ({i})", {"article": f"story-{rng.randrange(300)}",
                                            "source": newsroom.SOURCES[i % len(newsroom.SOURCES)]}))
    return cases


def _filter_ratios(timings: dict[str, list[float]]) -> dict:
    p50 = {name: statistics.median(values) for name, values in timings.items()}
    return {"questions": len(timings["none"]), **{f"{name}_p50_ms": _ms(v) for name, v in p50.items()},
            "selective_ratio": round(p50["article"] / p50["none"], 2),
            "broad_ratio": round(p50["source"] / p50["none"], 2)}


def measure_filters_in_process(index_dir: Path) -> dict:
    """Answer p50 unfiltered, for one article, and for one source of five, interleaved question by
    question (each variant its own wording, so no cached vector is reused)."""
    service = open_service(index_dir)
    cases = _filter_cases(WARMUP + FILTER_QUESTIONS)
    timings: dict[str, list[float]] = {"none": [], "article": [], "source": []}
    try:
        for n, (question, only) in enumerate(cases):
            for name in timings:
                filters = {name: only[name]} if name != "none" else None
                t = time.perf_counter()
                reply = service.ask(f"{question} {name}", 5, filters)
                if n >= WARMUP:
                    timings[name].append(time.perf_counter() - t)
                if not reply["results"]:
                    raise RuntimeError(f"no results for {question!r} filtered by {name}")
        stats = service.stats()
    finally:
        service.close()
    return {"passages": stats["passages"], "articles": stats["articles"], "index": stats["vector_index"],
            **_filter_ratios(timings)}


def measure_filters_http(index_dir: Path) -> dict:
    """The same over HTTP (GET /api/ask, one client) against ``python run.py`` on 300 articles."""
    from urllib.parse import urlencode

    process, base, _, health = _start_server(index_dir)
    timings: dict[str, list[float]] = {"none": [], "article": [], "source": []}
    try:
        for n, (question, only) in enumerate(_filter_cases(WARMUP + FILTER_QUESTIONS)):
            for name in timings:
                params = {"q": f"{question} {name}", "k": 5, **({name: only[name]} if name != "none" else {})}
                t = time.perf_counter()
                with urllib.request.urlopen(f"{base}/api/ask?{urlencode(params)}", timeout=30) as response:
                    response.read()
                if n >= WARMUP:
                    timings[name].append(time.perf_counter() - t)
    finally:
        _stop(process)
    return {"articles": health["articles"], "passages": health["passages"], **_filter_ratios(timings)}


STEPS = ("sizes", "http", "startup", "ann", "filters", "writes")
_SCIFACT_STEPS = ("sizes", "http", "startup", "ann")


def run(scifact: Path, seed: Path, work: Path, out: Path, http_seconds: int = 15,
        steps: tuple[str, ...] = STEPS) -> dict:
    """Measure ``steps`` and write them to ``out``; figures of other steps are kept from the last run
    that measured them (each says when)."""
    from qa.embeddings import Embedder

    if not (scifact / "corpus.jsonl").exists() and set(steps) & {*_SCIFACT_STEPS, "writes"}:
        raise BadInput("no_scifact", f"{scifact}: no BEIR SciFact folder (corpus.jsonl) here")
    work.mkdir(parents=True, exist_ok=True)
    report = json.loads(out.read_text()) if out.exists() else {}
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "processor": platform.processor() or platform.machine()}
    if "writes" in steps:  # its own server over the seed; SciFact's questions, each asked once
        report["writes"] = measure_writes(seed, _questions(scifact))
    # The corpora are embedded as the server the bench starts will read them (QA_MODEL, QA_BACKEND):
    # a server refuses an index built with another model or backend.
    embedder = Embedder.of(Settings.from_env(ROOT)) if set(steps) - {"writes"} else None
    if "filters" in steps:
        for stale in ("newsroom-300", "newsroom-100000"):  # built another way: dropped (as forget_stale does)
            if (work / stale / "complete").exists():
                try:
                    open_service(work / stale, embedder).close()
                except Conflict:
                    shutil.rmtree(work / stale)
        small, large = build_newsroom(work, None, embedder), build_newsroom(work, 100_000, embedder)
        report["filters"] = {"measured_at": time.strftime("%Y-%m-%d %H:%M"),
                             "in_process": _in_subprocess("filters", str(large)),
                             "http": measure_filters_http(small)}
    if not set(steps) & set(_SCIFACT_STEPS):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        return report
    questions = _questions(scifact)
    forget_stale(work, embedder)
    base = build_base(work, scifact, embedder, report)
    if "sizes" in steps:
        indexes = {100: build_small(work, base, seed, embedder),
                   10_000: clone(base, work / "size-10000", 10_000, embedder),
                   100_000: clone(base, work / "size-100000", 100_000, embedder)}
        qfile = work / "questions.json"
        qfile.write_text(json.dumps(questions[:320]))
        report["sizes"] = [{"measured_at": time.strftime("%Y-%m-%d %H:%M"),
                            **_in_subprocess("size", str(indexes[size]), str(qfile))} for size in SIZES]
        small, large = report["sizes"][0], report["sizes"][-1]
        vector_bytes = 4 * embedder.dim
        report["memory"] = {"bytes_per_passage_beyond_vectors": round(
            (large["peak_rss_mb"] - small["peak_rss_mb"]) * 2**20 / (large["passages"] - small["passages"])
            - vector_bytes), "vector_bytes": vector_bytes}
    if "http" in steps:
        report["http"] = measure_http(clone(base, work / "size-10000", 10_000, embedder), questions, http_seconds,
                                      embedder)
    if "startup" in steps:
        report["startup"] = measure_startup(clone(base, work / "size-100000", 100_000, embedder))
    if "ann" in steps:
        report["ann"] = {"measured_at": time.strftime("%Y-%m-%d %H:%M"), **measure_ann(base, questions, embedder)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def measure_encoders(scifact: Path, out: Path, batch: int = 8) -> dict:
    """The model alone under each installed backend: one question, and ``batch`` questions at once."""
    from qa.embeddings import Embedder

    questions = _questions(scifact)[:WARMUP + 300]
    rows = []
    for backend in ("torch", "onnx", "onnx-int8"):
        try:
            embedder = Embedder(backend=backend)
        except QAError as exc:  # the onnx extra is not installed
            rows.append({"backend": backend, "skipped": exc.message})
            continue
        model = embedder.model
        single = embedder.run(lambda: [_timed(lambda: model.encode([q])) for q in questions])[WARMUP:]
        groups = [questions[i:i + batch] for i in range(0, len(questions) - batch + 1, batch)]
        batched = embedder.run(lambda: [_timed(lambda: model.encode(g)) for g in groups])[2:]
        rows.append({"backend": backend, "single_p50_ms": _ms(statistics.median(single)),
                     f"batch{batch}_p50_ms": _ms(statistics.median(batched)),
                     "batched_questions_per_s": round(batch / statistics.median(batched), 1)})
    report = json.loads(out.read_text()) if out.exists() else {}
    report["encoders"] = {"measured_at": time.strftime("%Y-%m-%d %H:%M"), "batch": batch, "rows": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def format_encoders(encoders: dict) -> str:
    batch = encoders["batch"]
    lines = [f"the model alone (measured {encoders['measured_at']})",
             f"{'backend':<10} {'1 question':>10} {f'{batch} questions':>12} {'questions/s batched':>20}"]
    for row in encoders["rows"]:
        if "skipped" in row:
            lines.append(f"{row['backend']:<10} skipped: {row['skipped']}")
        else:
            lines.append(f"{row['backend']:<10} {row['single_p50_ms']:>8.2f}ms {row[f'batch{batch}_p50_ms']:>10.2f}ms"
                         f" {row['batched_questions_per_s']:>20.1f}")
    return "\n".join(lines)


def _when(section: dict) -> str:
    return f" (measured {section['measured_at']})" if "measured_at" in section else ""


def format_report(report: dict) -> str:
    lines = [f"machine: {report['machine']['cpus']} CPUs, Python {report['machine']['python']}"]
    if "sizes" in report:
        lines += ["", "in-process answers (encode + dense + BM25 + fusion + reader + confidence), k=5"
                  + _when(report["sizes"][0])]
        lines.append(f"{'passages':>9} {'index':>5} {'floor p50':>10} {'p50':>8} {'p95':>8} {'p50/floor':>9} "
                     f"{'peak RSS':>9} {'reader+confidence':>18}")
        for row in report["sizes"]:
            lines.append(f"{row['passages']:>9} {row['index']:>5} {row['floor_p50_ms']:>8.2f}ms "
                         f"{row['answer_p50_ms']:>6.2f}ms {row['answer_p95_ms']:>6.2f}ms {row['ratio_p50']:>8.2f}x "
                         f"{row['peak_rss_mb']:>7.0f}MB {row.get('reader_and_confidence_p50_ms', float('nan')):>16.2f}ms")
        mem = report["memory"]
        lines.append(f"memory beyond the {mem['vector_bytes']}-byte vectors: {mem['bytes_per_passage_beyond_vectors']}"
                     " bytes per passage")
    if "clients" in report.get("http", {}):
        http, ceiling = report["http"], report["http"]["ceiling"]
        lines += ["", f"HTTP (waitress, 10,000 passages, wrk on loopback, every question different; "
                      f"{http.get('model', 'all-MiniLM-L6-v2')})" + _when(http),
                  f"the model alone: {ceiling['batch8_questions_per_s']} questions/s in batches of 8; one question "
                  f"{ceiling['single_encode_p50_ms']} ms"]
        lines.append(f"{'clients':>7} {'req/s':>8} {'p50':>8} {'p95':>8} {'speedup':>8} {'of ceiling':>10} {'errors':>6}")
        for clients, row in http["clients"].items():
            lines.append(f"{clients:>7} {row['throughput_rps']:>8.1f} {row['p50_ms']:>6.1f}ms {row['p95_ms']:>6.1f}ms"
                         f" {row['speedup']:>7.2f}x {row['of_ceiling']:>9.2f}x {row['errors'] + row['non_2xx']:>6}")
        lines.append(f"one client's p50 is {http['clients']['1']['p50_of_single_encode']}x one bare encode")
    if "writes" in report:
        w = report["writes"]
        lines += ["", "writes as jobs (seed corpus; every question different)" + _when(w),
                  f"questions idle p50 {w['idle_p50_ms']} ms; while a {w['job_passages']}-passage job ran "
                  f"p50 {w['busy_p50_ms']} ms, p90 {w['busy_p90_ms']} ms ({w['busy_questions']} questions): "
                  f"{w['busy_over_idle']}x idle",
                  f"CLI wall time through the running server: add {w['cli_through_server']['add_s']} s, ask "
                  f"{w['cli_through_server']['ask_s']} s; with no server: add {w['cli_without_server']['add_s']} s, "
                  f"ask {w['cli_without_server']['ask_s']} s"]
    if "indexing" in report:
        ix = report["indexing"]
        lines += ["", f"indexing {ix['articles']} articles ({ix['passages']} passages): {ix['passages_per_s']} passages/s"
                      f" vs bare encode {ix['bare_encode_per_s']}/s = {ix['ratio']}x (measured {ix['measured_at']},"
                      " when the cached corpus was built)"]
    if "startup" in report:
        st = report["startup"]
        lines += ["", f"start-up to /api/health with {st['passages']} passages: {st['startup_s_median']} s (median of "
                      f"{len(st['startup_s_runs'])}){_when(st)}"]
        if "stop_s_median" in st:
            lines.append(f"SIGTERM to exit: {st['stop_s_median']} s (median)")
    if "ann" in report:
        ann = report["ann"]
        lines += ["", f"vector index, {ann['vectors']:,} vectors, {ann['queries']} real questions, k=10{_when(ann)}"]
        lines.append(f"{'index':<28} {'build':>7} {'p50':>8} {'recall@10':>9} {'bytes/vec':>9}")
        for row in ann["rows"]:
            lines.append(f"{row['index']:<28} {row['build_s']:>6.1f}s {row['search_p50_ms']:>6.2f}ms"
                         f" {row['recall@10']:>9.4f} {row['bytes_per_vector']:>9}")
    if "filters" in report:
        filters = report["filters"]
        lines += ["", "filtered answers against unfiltered, k=5, p50 (generated newsroom, five sources)"
                  + _when(filters),
                  f"{'where':<38} {'unfiltered':>10} {'one article':>12} {'ratio':>6} {'one source':>11} {'ratio':>6}"]
        for label, row in ((f"in-process, {filters['in_process']['passages']:,} passages "
                            f"({filters['in_process']['index']})", filters["in_process"]),
                           (f"HTTP, {filters['http']['articles']} articles", filters["http"])):
            lines.append(f"{label:<38} {row['none_p50_ms']:>8.2f}ms {row['article_p50_ms']:>10.2f}ms "
                         f"{row['selective_ratio']:>5.2f}x {row['source_p50_ms']:>9.2f}ms {row['broad_ratio']:>5.2f}x")
    if "encoders" in report:
        lines += ["", format_encoders(report["encoders"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run.py bench", description="Speed and scale benchmarks (slow: "
                                     "about an hour the first time, cached after).")
    parser.add_argument("--scifact", type=Path, default=ROOT.parent / "shared" / "evaldata" / "scifact",
                        help="BEIR SciFact folder the corpora are built from")
    parser.add_argument("--seed", type=Path, default=ROOT / "corpus" / "turkish-russian-partnership.txt",
                        help="the article at the heart of the smallest corpus")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks" / "work", help="cache of built corpora")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--http-seconds", type=int, default=15, help="duration of each HTTP load step")
    parser.add_argument("--no-ann", dest="ann_bench", action="store_false",
                        help="skip the 1,000,000-vector index comparison")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help=f"the steps to measure, of {','.join(STEPS)} (the others keep their last figures)")
    parser.add_argument("--encoders", action="store_true",
                        help="only time the model under each installed backend (torch, onnx, onnx-int8)")
    args = parser.parse_args(argv)
    try:
        if args.encoders:
            print(format_encoders(measure_encoders(args.scifact, args.out)["encoders"]))
        else:
            steps = tuple(step for step in args.steps.split(",") if step and (args.ann_bench or step != "ann"))
            unknown = set(steps) - set(STEPS)
            if unknown:
                raise BadInput("bad_steps", f"unknown steps {', '.join(sorted(unknown))}; choose from {', '.join(STEPS)}")
            print(format_report(run(args.scifact, args.seed, args.work_dir, args.out, args.http_seconds, steps)))
    except QAError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["size"]:  # a step run in a fresh process
        print(json.dumps(measure_size(Path(sys.argv[2]), json.loads(Path(sys.argv[3]).read_text()))))
    elif sys.argv[1:2] == ["filters"]:
        print(json.dumps(measure_filters_in_process(Path(sys.argv[2]))))
    else:
        sys.exit(main())
