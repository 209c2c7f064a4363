"""Answer-quality evaluation, on a throw-away index so the user's index is never touched.

Question sets are JSONL, one ``{"question", "evidence": [...]}`` per line: a
returned passage is a hit when it contains one of the evidence strings.
Metrics are computed by ranx, from a run and qrels like any IR evaluation.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from qa.config import Settings
from qa.errors import BadInput

_NEVER_RETRIEVED = "__evidence__"  # keeps every query in the qrels; it cannot change hit rate or MRR


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    evidence: tuple[str, ...]


def normalize(text: str) -> str:
    """Case, quotes, dashes and white space folded, so evidence matches however it was typed."""
    text = text.casefold().translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                                                    "\u2013": "-", "\u2014": "-"}))
    return re.sub(r"\s+", " ", text).strip()


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question set; a malformed line is an error naming the file and line."""
    questions = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput("bad_eval_file", f"{path}:{number}: not valid JSON ({exc.msg})") from None
            evidence = row.get("evidence") if isinstance(row, dict) else None
            if isinstance(evidence, str):
                evidence = [evidence]
            if (not isinstance(row, dict) or not isinstance(row.get("question"), str) or not row["question"].strip()
                    or not isinstance(evidence, list) or not evidence
                    or not all(isinstance(e, str) and e.strip() for e in evidence)):
                raise BadInput("bad_eval_file",
                               f"{path}:{number}: expected {{\"question\": str, \"evidence\": [str, ...]}}")
            questions.append(Question(str(row.get("id", number)), row["question"], tuple(evidence)))
    if not questions:
        raise BadInput("bad_eval_file", f"{path}: no questions")
    return questions


def run(path: Path, settings: Settings, service_options: dict | None = None, embedder=None) -> dict:
    """Evaluate the question set at ``path`` against the articles in ``settings.corpus_dir``."""
    from qa.service import QAService

    path = Path(path)
    if not path.is_file():
        raise BadInput("bad_eval_file", f"{path}: no such file")
    questions = load_questions(path)
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        service = QAService(settings.with_(index_dir=Path(tmp)), embedder=embedder, **(service_options or {}))
        try:
            service.sync()
            figures = _score_questions(service, questions)
        finally:
            service.close()
    return {"dataset": path.name, **figures}


def _score_questions(service, questions: list[Question], k: int = 5) -> dict:
    from ranx import Qrels, Run, evaluate
    from tqdm import tqdm

    qrels, run_, answer_hits, lengths = {}, {}, 0, []
    started = time.perf_counter()
    for q in tqdm(questions, desc="questions", disable=not sys.stderr.isatty()):
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
    scores = evaluate(Qrels(qrels), Run(run_), ["hit_rate@1", "hit_rate@3", "mrr@5"], make_comparable=True)
    return {
        "questions": len(questions),
        "hit@1": round(float(scores["hit_rate@1"]), 4),
        "hit@3": round(float(scores["hit_rate@3"]), 4),
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
