"""Evaluation runs on a throw-away index, checked against metrics computed by hand (real model)."""

import json
import math

import pytest

from qa import evaluation
from qa.config import Settings
from qa.evaluation import scoring

from helpers import CORPUS, QRELS, QUERIES, write_beir


def ndcg10(ranked, relevant):
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return dcg / ideal


def test_beir_end_to_end_matches_metrics_computed_by_hand(tmp_path, embedder, monkeypatch):
    folder = write_beir(tmp_path / "tiny", CORPUS, QUERIES, QRELS)
    rankings = {}
    original = scoring.score_beir

    def spy(service, data):
        for qid, text in data.queries.items():  # the document order the evaluation sees, by MaxP
            best = {}
            for hit in service.search(text, scoring.BEIR_DEPTH):
                doc = data.original_ids[hit.passage.article_id]
                best[doc] = max(best.get(doc, float("-inf")), hit.score)
            rankings[qid] = sorted(best, key=best.get, reverse=True)
        return original(service, data)
    monkeypatch.setattr(scoring, "score_beir", spy)
    figures = evaluation.run(folder, Settings(corpus_dir=tmp_path / "none", index_dir=tmp_path / "unused"),
                             encoder=embedder)
    assert figures["queries"] == 3 and figures["documents"] == 4
    assert rankings["q1"][0] == "d1" and rankings["q2"][0] == "d3"
    relevant = {"q1": {"d1"}, "q2": {"d3"}, "q3": {"d2", "d4"}}
    expected_ndcg = sum(ndcg10(rankings[q], relevant[q]) for q in relevant) / 3
    expected_mrr = sum(next(1 / (i + 1) for i, d in enumerate(rankings[q]) if d in relevant[q])
                       for q in relevant) / 3
    assert figures["ndcg@10"] == pytest.approx(expected_ndcg, abs=1e-4)
    assert figures["mrr@10"] == pytest.approx(expected_mrr, abs=1e-4)
    assert figures["recall@100"] == 1.0  # four documents: every relevant one is retrieved
    assert not (tmp_path / "unused").exists(), "evaluation must use a throw-away index"


def test_a_document_without_sentences_is_named_and_counted_as_never_found(tmp_path, embedder, capsys):
    corpus = CORPUS + [{"_id": "d5", "title": "", "text": "... !!! ???"}]
    folder = write_beir(tmp_path / "tiny", corpus, QUERIES[:1], [("q1", "d5", 1)])
    figures = evaluation.run(folder, Settings(corpus_dir=tmp_path / "none", index_dir=tmp_path / "unused"),
                             encoder=embedder)
    assert "warning: 1 documents have no sentences and cannot be found: d5" in capsys.readouterr().err
    assert figures["documents"] == 5 and figures["ndcg@10"] == 0.0 and figures["recall@100"] == 0.0


def test_squad_end_to_end(tmp_path, embedder):
    squad = {"data": [{"title": "Lighthouses", "paragraphs": [
        {"context": "The Gannet Point lighthouse was restored by volunteers in 2019. Its lamp is visible for "
                    "twenty miles.", "qas": [
            {"id": "s1", "question": "Who restored the Gannet Point lighthouse?",
             "answers": [{"text": "volunteers", "answer_start": 0}]},
            {"id": "s2", "question": "How far can the lamp be seen?",
             "answers": [{"text": "twenty miles", "answer_start": 0}]}]}]}]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(squad))
    figures = evaluation.run(path, Settings(corpus_dir=tmp_path / "none", index_dir=tmp_path / "unused"),
                             encoder=embedder)
    assert figures["questions"] == 2 and figures["articles"] == 1
    assert figures["hit@1"] == 1.0 and figures["hit@5"] == 1.0
    assert 0 <= figures["answer@1"] <= 1


def test_a_work_dir_holding_corpus_articles_is_reused_for_another_dataset(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text("Ferry\n\nThe ferry runs hourly again. Tickets cost two pounds.")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "How often does the ferry run?", "evidence": ["hourly"]}) + "\n")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "unused")
    work = tmp_path / "work"
    assert evaluation.run(questions, settings, encoder=embedder, work_dir=work)["hit@1"] == 1.0
    folder = write_beir(tmp_path / "tiny", CORPUS, QUERIES[:2], QRELS[:2])
    figures = evaluation.run(folder, settings, encoder=embedder, work_dir=work)  # the ferry is dropped
    assert figures["documents"] == 4 and figures["passages"] == 4 and figures["ndcg@10"] == 1.0


def test_a_question_set_may_restrict_each_question_to_some_articles(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text("Ferry\nHarbour News, 2024-03-02\n\nThe ferry runs hourly again. "
                                      "Tickets cost two pounds.")
    (corpus / "ferry-old.txt").write_text("Ferry\nCoast Weekly, 2021-05-02\n\nThe ferry runs twice a day. "
                                          "Tickets cost one pound.")
    question = {"question": "How often does the ferry run?", "evidence": ["hourly"]}
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({**question, "filters": {"source": "Harbour News"}}) + "\n"
                         + json.dumps({**question, "filters": {"date_to": "2022-12-31"}}) + "\n")
    figures = evaluation.run(questions, Settings(corpus_dir=corpus, index_dir=tmp_path / "unused"), encoder=embedder)
    assert figures["hit@5"] == 0.5  # the second question is asked only of the 2021 article, which does not hold it
    loaded = evaluation.load_questions(questions)
    assert loaded[0].filters.sources == ("Harbour News",) and loaded[1].filters.date_to == "2022-12-31"
