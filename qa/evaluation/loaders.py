"""Evaluation data in standard formats: JSONL question sets, question folders (articles with their
questions), BEIR folders, SQuAD v1.1 files.

Every loader names the file and line of anything it cannot read.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from qa.engines.contracts import Filter
from qa.errors import BadInput, QAError
from qa.ingest import Article, article_files, check_id, free_id, read_file, slugify
from qa.service.inputs import check_filter


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    evidence: tuple[str, ...]     # a passage holding one of these holds the answer
    answers: tuple[str, ...] = ()  # the short answers (a name, a number); the evidence when not given
    filters: Filter = Filter()     # the articles it is asked over (all of them by default)

    @property
    def gold(self) -> tuple[str, ...]:
        return self.answers or self.evidence


@dataclass(frozen=True)
class QuestionSet:
    """Articles with questions about them, and questions nothing in them answers (out of domain)."""

    documents: list[Article]
    questions: list[Question]
    unanswerable: list[Question]


@dataclass(frozen=True)
class Beir:
    documents: list[Article]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    original_ids: dict[str, str]  # article id -> BEIR corpus id


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
    """A JSONL question set: ``{"question": str, "evidence": [str, ...], "answer": str, "filters":
    {...}}`` per line (``answer``, the short answer, and ``filters``, as ``/api/ask`` takes them, are
    optional)."""
    questions = []
    for number, row in _jsonl(Path(path)):
        evidence, answers = _strings(row.get("evidence")), _strings(row.get("answer", []))
        if (not isinstance(row.get("question"), str) or not row["question"].strip()
                or not evidence or answers is None):
            raise BadInput("bad_eval_file", f"{path}:{number}: expected {{\"question\": str, \"evidence\": [str, ...]}}")
        try:
            filters = check_filter(row.get("filters"))
        except BadInput as exc:
            raise BadInput("bad_eval_file", f"{path}:{number}: {exc.message}") from None
        questions.append(Question(str(row.get("id", number)), row["question"], evidence, answers, filters))
    if not questions:
        raise BadInput("bad_eval_file", f"{path}: no questions")
    return questions


def load_unanswerable(path: Path, split: str = "test") -> list[Question]:
    """Questions nothing in the corpus answers: a JSONL file (``{"question": str}`` per line), the
    questions of another question folder or JSONL set, or a BEIR folder's queries of ``split``."""
    path = Path(path)
    if path.is_dir():
        if (path / "questions.jsonl").is_file():
            path = path / "questions.jsonl"
        else:
            return [Question(qid, text, ()) for qid, text in load_beir(path, split).queries.items()]
    questions = []
    for number, row in _jsonl(path):
        if not isinstance(row.get("question"), str) or not row["question"].strip():
            raise BadInput("bad_eval_file", f"{path}:{number}: expected {{\"question\": str}}")
        questions.append(Question(str(row.get("id", number)), row["question"], ()))
    return questions


def load_question_folder(folder: Path) -> QuestionSet:
    """A folder of ``articles/`` (any readable file; the id is the file name's slug), its
    ``questions.jsonl``, and optionally ``unanswerable.jsonl``."""
    folder = Path(folder)
    documents = load_articles(folder / "articles")
    if not documents:
        raise BadInput("bad_eval_file", f"{folder / 'articles'}: no article files")
    extra = folder / "unanswerable.jsonl"
    return QuestionSet(documents, load_questions(folder / "questions.jsonl"),
                       load_unanswerable(extra) if extra.is_file() else [])


def load_articles(folder: Path) -> list[Article]:
    """Every article file under ``folder``, read as the product reads files (id: the name's slug)."""
    documents = []
    for path in article_files(folder):
        try:
            documents.append(read_file(path))
        except QAError as exc:
            raise BadInput("bad_eval_file", f"{path}: {exc.message}") from None
    return documents


def load_distractors(path: Path, taken: set[str]) -> list[Article]:
    """Articles on other subjects to index beside a question set's own: a BEIR folder's corpus (its
    queries and qrels are not needed) or a folder of article files. Ids already ``taken`` (by the
    question set's articles or other distractors) get a suffix, so no distractor replaces one."""
    path = Path(path)
    if not path.is_dir():
        raise BadInput("bad_eval_file", f"{path}: distractors must be a BEIR folder or a folder of articles")
    if (path / "corpus.jsonl").is_file():
        used: set[str] = set()
        documents = [_beir_document(row, used) for number, row in _jsonl(path / "corpus.jsonl")
                     if _has_text(path, number, row)]
    else:
        documents = load_articles(path)
    if not documents:
        raise BadInput("bad_eval_file", f"{path}: no distractor documents")
    renamed = []
    for doc in documents:
        article_id = free_id(doc.id, taken.__contains__)
        taken.add(article_id)
        renamed.append(replace(doc, id=article_id))
    return renamed


def _has_text(folder: Path, number: int, row: dict) -> bool:
    """A BEIR corpus line is well formed (else an error naming file and line) and has some text."""
    if "_id" not in row or not isinstance(row.get("text", ""), str) or not isinstance(row.get("title", ""), str):
        raise BadInput("bad_eval_file", f"{folder / 'corpus.jsonl'}:{number}: expected {{\"_id\", \"title\", \"text\"}}")
    return bool((row.get("title") or "").strip() or (row.get("text") or "").strip())


def _beir_document(row: dict, used: set[str]) -> Article:
    title, text = (row.get("title") or "").strip(), (row.get("text") or "").strip()
    return Article(id=_safe_id(str(row["_id"]), used), title=title or text[:80], text=text or title)


def _strings(value) -> tuple[str, ...] | None:
    """A string or a list of strings as a tuple; None when it is neither."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(e, str) and e.strip() for e in value):
        return None
    return tuple(value)


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
        if not _has_text(folder, number, row):
            continue
        document = _beir_document(row, used)
        original_ids[document.id] = str(row["_id"])
        documents.append(document)
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
                        questions.append(Question(str(qa["id"]), qa["question"], answers, answers))
        except (KeyError, TypeError, AttributeError) as exc:
            raise BadInput("bad_eval_file", f"{path}: article {n + 1} ({exc.__class__.__name__}: {exc}) "
                                            "is not in SQuAD v1.1 form") from None
    if not questions:
        raise BadInput("bad_eval_file", f"{path}: no questions with answers")
    return docs, questions


def _safe_id(raw: str, used: set[str]) -> str:
    try:
        candidate = check_id(raw)
    except BadInput:
        candidate = slugify(raw, 60)
    candidate = free_id(candidate, used.__contains__)
    used.add(candidate)
    return candidate


def detect(path: Path) -> str:
    """``beir``, ``folder`` (articles and their questions), ``squad`` or ``questions`` (JSONL)."""
    path = Path(path)
    if path.is_dir():
        return "folder" if (path / "questions.jsonl").is_file() else "beir"
    if path.suffix.lower() == ".json":
        return "squad"
    return "questions"
