"""Answer-quality evaluation on a throw-away index (never the user's), with standard metrics.

* a JSONL question set is asked against the articles of the corpus folder;
* a BEIR folder's documents are indexed like any article, a document scores
  as its best passage (MaxP), and nDCG@10 / Recall@100 / MRR@10 are computed
  by trec_eval (pytrec_eval), as BEIR computes them;
* a question folder's articles (``articles/``) are indexed and its questions
  (``questions.jsonl``, and ``unanswerable.jsonl`` if there is one) asked;
* a SQuAD v1.1 file's articles are indexed and its questions asked.

For question sets a returned passage is a hit when it contains one of the
question's evidence strings; the answer sentence is right when it holds the
short answer. Questions nothing answers measure how often no answer is given.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.errors import BadInput, QAError
from qa.evaluation.loaders import (Beir, Question, detect, load_articles, load_beir, load_distractors,
                                   load_question_folder, load_questions, load_squad, load_unanswerable)
from qa.ingest import Article
from qa.search.models import expected_calibration_error
from qa.service.writer import passage_bar

_NEVER_RETRIEVED = "__evidence__"  # keeps every query in the qrels; it cannot change hit rate or MRR
BEIR_DEPTH = 1000  # passages ranked per query, enough for 100 distinct documents


def run(path: Path, settings: Settings, split: str = "test", encoder=None, work_dir: Path | None = None,
        unanswerable: list[Path] = (), distractors: list[Path] = ()) -> dict:
    """Evaluate whatever is at ``path``; ``work_dir`` keeps the throw-away index for the next run.
    ``unanswerable`` adds sets of questions nothing in the corpus answers (see
    :func:`~qa.evaluation.loaders.load_unanswerable`); ``distractors`` adds corpora on other subjects
    (BEIR folders or folders of articles) indexed beside the dataset's own, to measure how well the
    right passage still comes first among many articles."""
    path = Path(path)
    if not path.exists():
        raise BadInput("bad_eval_file", f"{path}: no such file or folder")
    extra = [q for other in unanswerable for q in load_unanswerable(other, split)]
    kind = detect(path)
    if kind == "beir":
        data = load_beir(path, split)
        documents = data.documents
    elif kind == "folder":
        folder = load_question_folder(path)
        documents, questions, extra = folder.documents, folder.questions, folder.unanswerable + extra
    elif kind == "squad":
        documents, questions = load_squad(path)
    else:
        questions = load_questions(path)
        documents = load_articles(settings.corpus_dir) if distractors else None
    taken = {d.id for d in documents or ()}
    added = [d for other in distractors for d in load_distractors(other, taken)]
    shown = {"distractors": len(added)} if distractors else {}
    with throwaway_service(settings, work_dir, encoder) as service:
        if documents is None:
            service.sync()  # the corpus folder, read as the product reads it
        else:
            index_documents(service, documents + added)
        if kind == "beir":
            return {"dataset": path.name, "split": split, **shown, **score_beir(service, data)}
        return {"dataset": path.name, **shown, **score_questions(service, questions, extra)}


@contextmanager
def throwaway_service(settings: Settings, work_dir: Path | None, encoder):
    from qa.service import QAService

    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        service = QAService(settings.with_(index_dir=Path(work_dir or tmp)), encoder=encoder)
        try:
            yield service
        finally:
            service.close()


def index_documents(service, documents: list[Article]) -> None:
    stored = {row["id"] for row in service.articles(0, 1 << 62)["articles"]}
    for stale in stored - {d.id for d in documents}:
        service.remove(stale, force=True)  # a work dir reused across datasets may hold corpus/ articles
    try:
        results = service.add_many(documents, passage_bar(_interactive()))
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


def score_beir(service, data: Beir) -> dict:
    run_: dict[str, dict[str, float]] = {}
    service.warm(list(data.queries.values()))
    started = time.perf_counter()
    for qid, text in _progress(list(data.queries.items()), "queries"):
        docs: dict[str, float] = {}
        hits = service.search(text, BEIR_DEPTH)
        copies = service.copies(hit.passage.article_id for hit in hits)
        for hit in hits:
            # MaxP; a republished copy is retrieved with the passages of the article it repeats
            for aid in [hit.passage.article_id, *(c["id"] for c in copies.get(hit.passage.article_id, []))]:
                doc = data.original_ids.get(aid, f"distractor:{aid}")  # a distractor is never relevant
                docs[doc] = max(docs.get(doc, float("-inf")), hit.score)
        run_[qid] = dict(sorted(docs.items(), key=lambda kv: kv[1], reverse=True)[:100]) or {"__none__": 0.0}
    elapsed = time.perf_counter() - started
    scores = _trec_eval(data.qrels, run_, ["ndcg@10", "recall@100", "mrr@10"])
    return {
        "queries": len(data.queries),
        "documents": len(data.documents),
        "passages": service.stats()["passages"],
        "ndcg@10": round(float(scores["ndcg@10"]), 4),
        "recall@100": round(float(scores["recall@100"]), 4),
        "mrr@10": round(float(scores["mrr@10"]), 4),
        "ms_per_query": round(1000 * elapsed / len(data.queries), 1),
    }


# Our metric names -> trec_eval's measure and the key of its result (MRR@k is cut below).
_TREC = {"ndcg": ("ndcg_cut.{k}", "ndcg_cut_{k}"), "recall": ("recall.{k}", "recall_{k}"),
         "hit_rate": ("success.{k}", "success_{k}"), "mrr": ("recip_rank", "recip_rank")}


def _trec_eval(qrels: dict, run_: dict, metrics: list[str]) -> dict[str, float]:
    """trec_eval's measures (pytrec_eval, as BEIR computes them), averaged over every query of the
    qrels; a query with no run scores 0. Compiled C: ranx, used before, gave the same figures but
    compiled its numba kernels on the first evaluation of each fresh install (46 s of one test)."""
    import pytrec_eval

    out = {}
    for metric in metrics:
        kind, k = metric.split("@")
        measure, key = (part.format(k=k) for part in _TREC[kind])
        ranked = run_
        if kind == "mrr":  # trec_eval's reciprocal rank reads the whole run: keep the first k, in its order
            ranked = {q: dict(sorted(docs.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:int(k)])
                      for q, docs in run_.items()}
        per_query = pytrec_eval.RelevanceEvaluator(qrels, {measure}).evaluate(ranked)
        out[metric] = sum(per_query.get(q, {}).get(key, 0.0) for q in qrels) / max(1, len(qrels))
    return out


def normalize(text: str) -> str:
    """Case, quotes, dashes and white space folded, so evidence matches however it was typed."""
    text = text.casefold().translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                                                    "\u2013": "-", "\u2014": "-"}))
    return re.sub(r"\s+", " ", text).strip()


def score_questions(service, questions: list[Question], unanswerable: list[Question] = (), k: int = 5) -> dict:
    """Hit rates and MRR of the passages, how often the answer sentence holds the answer, how often
    an answer is given at all, and how well the confidence is calibrated (ECE over every result)."""
    qrels, run_, lengths = {}, {}, []
    answer_hits, sentence_hits, answered, correct = 0, 0, 0, 0
    confidences, labels = [], []
    service.warm([q.text for q in list(questions) + list(unanswerable)])
    started = time.perf_counter()
    for q in _progress(questions, "questions"):
        reply = service.ask(q.text, k, q.filters)
        results = reply["results"]
        evidence = [normalize(e) for e in q.evidence]
        run_[q.id] = {_NEVER_RETRIEVED + "run": 0.0}
        qrels[q.id] = {_NEVER_RETRIEVED: 1}
        for r in results:
            key = f"{r['article']['id']}:{r['start']}"
            run_[q.id][key] = float(k - r["rank"] + 1)
            lengths.append(len(r["text"]))
            holds = any(e in normalize(r["text"]) for e in evidence)
            if holds:
                qrels[q.id][key] = 1
            confidences.append(r["confidence"])
            labels.append(holds)
        gold = [normalize(g) for g in q.gold]
        if results and _answer_hit(results[0]["answer"], evidence):
            answer_hits += 1
        if results and any(g in normalize(results[0]["answer"]) for g in gold):
            sentence_hits += 1
        if reply["answer"] is not None:
            answered += 1
            correct += any(g in normalize(reply["answer"]["text"]) for g in gold)
    elapsed = time.perf_counter() - started
    abstained = sum(service.ask(q.text, k)["answer"] is None for q in unanswerable)
    scores = _trec_eval(qrels, run_, ["hit_rate@1", "hit_rate@3", "hit_rate@5", "mrr@5"])
    n = len(questions)
    figures = {
        "questions": n,
        "articles": service.stats()["articles"],
        "hit@1": round(float(scores["hit_rate@1"]), 4),
        "hit@3": round(float(scores["hit_rate@3"]), 4),
        "hit@5": round(float(scores["hit_rate@5"]), 4),
        "mrr@5": round(float(scores["mrr@5"]), 4),
        "answer@1": round(answer_hits / n, 4),
        "answer_sentence@1": round(sentence_hits / n, 4),
        "answered": round(answered / n, 4),
        "answered_correct": round(correct / n, 4),
        "ece": round(expected_calibration_error(np.array(confidences), np.array(labels)), 4),
        "avg_passage_chars": round(sum(lengths) / max(1, len(lengths)), 1),
        "ms_per_question": round(1000 * elapsed / n, 1),
    }
    if unanswerable:
        figures["unanswerable"] = len(unanswerable)
        figures["abstained"] = round(abstained / len(unanswerable), 4)
    return figures


def _answer_hit(answer: str, evidence: list[str]) -> bool:
    """The answer sentence contains an evidence string (or is wholly inside one)."""
    answer = normalize(answer)
    return any(e in answer or (len(answer) > 20 and answer in e) for e in evidence)


def format_table(figures: dict) -> str:
    width = max(len(k) for k in figures)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in figures.items())
