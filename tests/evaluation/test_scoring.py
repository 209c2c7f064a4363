"""Evaluation runs on a throw-away index, checked against metrics computed by hand (real model)."""

import json
import math

import pytest

from qa import evaluation
from qa.config import Settings
from qa.errors import BadInput
from qa.evaluation import scoring
from qa.evaluation.scoring import throwaway_service
from qa.serve.cli import main

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


def test_distractors_from_a_beir_folder_and_an_articles_folder_are_indexed_beside_the_question_set(
        tmp_path, capsys, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text("Ferry\n\nThe ferry runs hourly again. Tickets cost two pounds.")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "How often does the ferry run?", "evidence": ["hourly"]}) + "\n")
    beir = write_beir(tmp_path / "tiny", CORPUS, QUERIES, QRELS)
    articles = tmp_path / "others"
    articles.mkdir()
    (articles / "ferry.txt").write_text("Ferry strike\n\nThe ferry crews walked out on Friday over pay.")
    (articles / "buses.txt").write_text("Buses\n\nThe night buses run every hour from the harbour.")
    work = tmp_path / "work"
    argv = ["eval", str(questions), "--distractors", str(beir), "--distractors", str(articles), "--json",
            "--corpus-dir", str(corpus), "--work-dir", str(work), "--index-dir", str(tmp_path / "unused")]
    assert main(argv) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["distractors"] == 6 and figures["articles"] == 7  # the distractor named "ferry" did not replace it
    assert figures["hit@1"] == 1.0 and "mrr@5" in figures
    with throwaway_service(Settings(corpus_dir=corpus, index_dir=work), work, embedder) as service:
        ids = {row["id"] for row in service.articles(0, 100)["articles"]}
    assert {"ferry", "ferry-2", "buses", "d1", "d4"} <= ids


def test_distractors_beside_a_beir_set_are_never_counted_relevant(tmp_path, embedder):
    folder = write_beir(tmp_path / "tiny", CORPUS, QUERIES[:2], QRELS[:2])
    others = tmp_path / "others"
    others.mkdir()
    (others / "lava.txt").write_text("Lava lamps\n\nA lava lamp's wax rises and falls like lava from a volcano.")
    (others / "reefs.txt").write_text("Reef tanks\n\nCoral reefs grow in home aquariums with warm shallow water.")
    settings = Settings(corpus_dir=tmp_path / "none", index_dir=tmp_path / "unused")
    alone = evaluation.run(folder, settings, encoder=embedder)
    amid = evaluation.run(folder, settings, encoder=embedder, distractors=[others])
    assert alone["documents"] == 4 and "distractors" not in alone
    assert amid["distractors"] == 2 and amid["documents"] == 4 and amid["passages"] > alone["passages"]
    assert amid["recall@100"] == 1.0 and amid["ndcg@10"] <= alone["ndcg@10"]


def test_distractors_that_are_not_a_folder_are_an_error(tmp_path, embedder):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "Who?", "evidence": ["x"]}) + "\n")
    with pytest.raises(BadInput, match="distractors must be a BEIR folder or a folder of articles"):
        evaluation.run(questions, Settings(corpus_dir=tmp_path, index_dir=tmp_path / "unused"), encoder=embedder,
                       distractors=[questions])


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
