"""Answer-quality evaluation in standard formats, on a throw-away index (never the user's).

Three kinds of input, recognised by their shape:

* a JSONL question set (``{"question", "evidence": [...]}`` per line), asked
  against the articles of the corpus folder;
* a BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``):
  documents are indexed like any article, a document scores as its best
  passage (MaxP), and nDCG@10 / Recall@100 / MRR@10 are computed by ranx;
* a SQuAD v1.1 JSON file: each article's paragraphs become one article.

For question sets and SQuAD a returned passage is a hit when it contains one
of the question's evidence (answer) strings.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from qa import articles
from qa.articles import Article
from qa.config import Settings
from qa.errors import BadInput, QAError

_NEVER_RETRIEVED = "__evidence__"  # keeps every query in the qrels; it cannot change hit rate or MRR
BEIR_DEPTH = 1000  # passages ranked per query, enough for 100 distinct documents


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Beir:
    documents: list[Article]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    original_ids: dict[str, str]  # article id -> BEIR corpus id


# --- loading --------------------------------------------------------------------------

def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """Objects of a JSONL file with their line numbers; a bad line is an error naming file and line."""
    if not path.is_file():
        raise BadInput("bad_eval_file", f"{path}: no such file")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput("bad_eval_file", f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise BadInput("bad_eval_file", f"{path}:{number}: expected a JSON object")
            yield number, row


def load_questions(path: Path) -> list[Question]:
    """A JSONL question set: ``{"question": str, "evidence": [str, ...]}`` per line."""
    questions = []
    for number, row in _jsonl(Path(path)):
        evidence = row.get("evidence")
        if isinstance(evidence, str):
            evidence = [evidence]
        if (not isinstance(row.get("question"), str) or not row["question"].strip()
                or not isinstance(evidence, list) or not evidence
                or not all(isinstance(e, str) and e.strip() for e in evidence)):
            raise BadInput("bad_eval_file", f"{path}:{number}: expected {{\"question\": str, \"evidence\": [str, ...]}}")
        questions.append(Question(str(row.get("id", number)), row["question"], tuple(evidence)))
    if not questions:
        raise BadInput("bad_eval_file", f"{path}: no questions")
    return questions


def load_beir(folder: Path, split: str = "test") -> Beir:
    """A BEIR dataset folder; only the split's queries are kept."""
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    qrels: dict[str, dict[str, int]] = {}
    if not qrels_path.is_file():
        raise BadInput("bad_eval_file", f"{qrels_path}: no such file (is --split right?)")
    with open(qrels_path, encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), 1):
            if number == 1 and row[:1] == ["query-id"]:
                continue
            if not row:
                continue
            if len(row) != 3 or not row[2].lstrip("-").isdigit():
                raise BadInput("bad_eval_file", f"{qrels_path}:{number}: expected query-id<TAB>corpus-id<TAB>score")
            if int(row[2]) > 0:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries = {}
    for number, row in _jsonl(folder / "queries.jsonl"):
        if "_id" not in row or not isinstance(row.get("text"), str):
            raise BadInput("bad_eval_file", f"{folder / 'queries.jsonl'}:{number}: expected {{\"_id\", \"text\"}}")
        if str(row["_id"]) in qrels:
            queries[str(row["_id"])] = row["text"]
    documents, original_ids, used = [], {}, set()
    for number, row in _jsonl(folder / "corpus.jsonl"):
        if "_id" not in row or not isinstance(row.get("text", ""), str) or not isinstance(row.get("title", ""), str):
            raise BadInput("bad_eval_file", f"{folder / 'corpus.jsonl'}:{number}: expected {{\"_id\", \"title\", \"text\"}}")
        title, text = (row.get("title") or "").strip(), (row.get("text") or "").strip()
        if not (title or text):
            continue
        article_id = _safe_id(str(row["_id"]), used)
        original_ids[article_id] = str(row["_id"])
        documents.append(Article(id=article_id, title=title or text[:80], text=text or title))
    missing = set(queries) ^ set(qrels)
    if missing:
        raise BadInput("bad_eval_file", f"{folder}: qrels name queries not in queries.jsonl: {sorted(missing)[:5]}")
    return Beir(documents, queries, qrels, original_ids)


def load_squad(path: Path) -> tuple[list[Article], list[Question]]:
    """SQuAD v1.1: each article's paragraphs joined into one article; answers are the evidence."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BadInput("bad_eval_file", f"{path}: not a SQuAD v1.1 file ({exc.__class__.__name__}: {exc})") from None
    docs, questions, used = [], [], set()
    for n, item in enumerate(data):
        try:
            paragraphs = [p["context"].strip() for p in item["paragraphs"]]
            title = str(item.get("title") or f"article {n + 1}").replace("_", " ")
            docs.append(Article(id=_safe_id(title, used), title=title, text="\n\n".join(paragraphs)))
            for p in item["paragraphs"]:
                for qa in p["qas"]:
                    answers = tuple(a["text"] for a in qa["answers"] if a["text"].strip())
                    if answers:
                        questions.append(Question(str(qa["id"]), qa["question"], answers))
        except (KeyError, TypeError, AttributeError) as exc:
            raise BadInput("bad_eval_file", f"{path}: article {n + 1} ({exc.__class__.__name__}: {exc}) "
                                            "is not in SQuAD v1.1 form") from None
    if not questions:
        raise BadInput("bad_eval_file", f"{path}: no questions with answers")
    return docs, questions


def _safe_id(raw: str, used: set[str]) -> str:
    try:
        candidate = articles.check_id(raw)
    except BadInput:
        candidate = articles.slugify(raw, 60)
    candidate = articles.free_id(candidate, used.__contains__)
    used.add(candidate)
    return candidate


def detect(path: Path) -> str:
    path = Path(path)
    if path.is_dir():
        return "beir"
    if path.suffix.lower() == ".json":
        return "squad"
    return "questions"


# --- running -------------------------------------------------------------------------

def run(path: Path, settings: Settings, split: str = "test", service_options: dict | None = None,
        embedder=None, work_dir: Path | None = None) -> dict:
    """Evaluate whatever is at ``path``; ``work_dir`` keeps the throw-away index for the next run."""
    path = Path(path)
    if not path.exists():
        raise BadInput("bad_eval_file", f"{path}: no such file or folder")
    kind = detect(path)
    if kind == "beir":
        data = load_beir(path, split)
        with _service(settings, work_dir, service_options, embedder) as service:
            _index(service, data.documents)
            figures = _score_beir(service, data)
        return {"dataset": path.name, "split": split, **figures}
    if kind == "squad":
        docs, questions = load_squad(path)
        with _service(settings, work_dir, service_options, embedder) as service:
            _index(service, docs)
            figures = _score_questions(service, questions)
        return {"dataset": path.name, **figures}
    questions = load_questions(path)
    with _service(settings, work_dir, service_options, embedder) as service:
        service.sync()
        figures = _score_questions(service, questions)
    return {"dataset": path.name, **figures}


@contextmanager
def _service(settings: Settings, work_dir: Path | None, options: dict | None, embedder):
    from qa.service import QAService

    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        service = QAService(settings.with_(index_dir=Path(work_dir or tmp)), embedder=embedder, **(options or {}))
        try:
            yield service
        finally:
            service.close()


def _index(service, documents: list[Article]) -> None:
    stored = {row["id"] for row in service.store.articles(0, 1 << 62)}
    for stale in stored - {d.id for d in documents}:
        service.remove(stale, force=True)  # a work dir reused across datasets may hold corpus/ articles
    try:
        results = service.add_many(documents, progress=_interactive())
    except QAError as exc:
        raise BadInput("bad_eval_file", f"cannot index the evaluation corpus: {exc.message}") from None
    empty = [r.id for r in results if r.status == "empty"]
    if empty:  # they stay in the qrels: a question about one of them counts as missed
        print(f"warning: {len(empty)} documents have no sentences and cannot be found: "
              + ", ".join(empty[:5]) + (", ..." if len(empty) > 5 else ""), file=sys.stderr)


def _interactive() -> bool:
    return sys.stderr.isatty()


def _progress(items, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, disable=not _interactive())


def _score_beir(service, data: Beir) -> dict:
    run_: dict[str, dict[str, float]] = {}
    service.embedder.warm(list(data.queries.values()))
    started = time.perf_counter()
    for qid, text in _progress(list(data.queries.items()), "queries"):
        docs: dict[str, float] = {}
        for hit in service.search(text, BEIR_DEPTH):
            doc = data.original_ids[hit.passage.article_id]
            docs[doc] = max(docs.get(doc, float("-inf")), hit.score)  # MaxP
        run_[qid] = dict(sorted(docs.items(), key=lambda kv: kv[1], reverse=True)[:100]) or {"__none__": 0.0}
    elapsed = time.perf_counter() - started
    scores = _ranx(data.qrels, run_, ["ndcg@10", "recall@100", "mrr@10"])
    return {
        "queries": len(data.queries),
        "documents": len(data.documents),
        "passages": service.stats()["passages"],
        "ndcg@10": round(float(scores["ndcg@10"]), 4),
        "recall@100": round(float(scores["recall@100"]), 4),
        "mrr@10": round(float(scores["mrr@10"]), 4),
        "ms_per_query": round(1000 * elapsed / len(data.queries), 1),
    }


def _ranx(qrels: dict, run_: dict, metrics: list[str]) -> dict[str, float]:
    """ranx's metrics (its numba kernels warn about an integer cast that cannot matter here)."""
    from ranx import Qrels, Run, evaluate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(Qrels(qrels), Run(run_), metrics, make_comparable=True)


def normalize(text: str) -> str:
    """Case, quotes, dashes and white space folded, so evidence matches however it was typed."""
    text = text.casefold().translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                                                    "\u2013": "-", "\u2014": "-"}))
    return re.sub(r"\s+", " ", text).strip()


def _score_questions(service, questions: list[Question], k: int = 5) -> dict:
    qrels, run_, answer_hits, lengths = {}, {}, 0, []
    service.embedder.warm([q.text for q in questions])
    started = time.perf_counter()
    for q in _progress(questions, "questions"):
        results = service.ask(q.text, k)["results"]
        evidence = [normalize(e) for e in q.evidence]
        run_[q.id] = {_NEVER_RETRIEVED + "run": 0.0}
        qrels[q.id] = {_NEVER_RETRIEVED: 1}
        for r in results:
            key = f"{r['article']['id']}:{r['start']}"
            run_[q.id][key] = float(k - r["rank"] + 1)
            lengths.append(len(r["text"]))
            if any(e in normalize(r["text"]) for e in evidence):
                qrels[q.id][key] = 1
        if results and _answer_hit(results[0]["answer"], evidence):
            answer_hits += 1
    elapsed = time.perf_counter() - started
    scores = _ranx(qrels, run_, ["hit_rate@1", "hit_rate@3", "hit_rate@5", "mrr@5"])
    return {
        "questions": len(questions),
        "articles": service.stats()["articles"],
        "hit@1": round(float(scores["hit_rate@1"]), 4),
        "hit@3": round(float(scores["hit_rate@3"]), 4),
        "hit@5": round(float(scores["hit_rate@5"]), 4),
        "mrr@5": round(float(scores["mrr@5"]), 4),
        "answer@1": round(answer_hits / len(questions), 4),
        "avg_passage_chars": round(sum(lengths) / max(1, len(lengths)), 1),
        "ms_per_question": round(1000 * elapsed / len(questions), 1),
    }


def _answer_hit(answer: str, evidence: list[str]) -> bool:
    """The answer sentence contains an evidence string (or is wholly inside one)."""
    answer = normalize(answer)
    return any(e in answer or (len(answer) > 20 and answer in e) for e in evidence)


def format_table(figures: dict) -> str:
    width = max(len(k) for k in figures)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in figures.items())
