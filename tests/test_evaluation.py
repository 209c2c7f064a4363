"""Evaluation formats: loaders (with clear errors) and the BEIR run checked against hand-computed metrics."""

import json
import math

import pytest

from qa import evaluation
from qa.config import Settings
from qa.errors import BadInput


def write_beir(folder, corpus, queries, qrels, split="test"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qrels").mkdir(exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / f"{split}.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels))
    return folder


CORPUS = [
    {"_id": "d1", "title": "Volcanoes", "text": "Magma rises through the crust and erupts as lava from volcanoes."},
    {"_id": "d2", "title": "Glaciers", "text": "Glaciers are rivers of ice that carve valleys as they slowly move."},
    {"_id": "d3", "title": "Coral reefs", "text": "Coral reefs grow in warm shallow seas and shelter many fish."},
    {"_id": "d4", "title": "Deserts", "text": "Deserts receive very little rain and have extreme temperatures."},
]
QUERIES = [{"_id": "q1", "text": "How does lava come out of a volcano?"},
           {"_id": "q2", "text": "Where do coral reefs grow?"},
           {"_id": "q3", "text": "Which documents are about ice or deserts?"},
           {"_id": "q9", "text": "A query without judgements is not part of the split."}]
QRELS = [("q1", "d1", 1), ("q2", "d3", 1), ("q3", "d2", 1), ("q3", "d4", 1)]


def test_beir_loader(tmp_path):
    data = evaluation.load_beir(write_beir(tmp_path / "b", CORPUS, QUERIES, QRELS))
    assert [d.id for d in data.documents] == ["d1", "d2", "d3", "d4"]
    assert data.documents[0].title == "Volcanoes"
    assert set(data.queries) == {"q1", "q2", "q3"}
    assert data.qrels["q3"] == {"d2": 1, "d4": 1}


@pytest.mark.parametrize("target,content,fragment", [
    ("corpus.jsonl", '{"_id": "d1", "title": "t", "text": "x"}\n{broken\n', "corpus.jsonl:2: not valid JSON"),
    ("corpus.jsonl", '{"_id": "d1", "title": "t", "text": "x"}\n{"title": "no id"}\n', "corpus.jsonl:2: expected"),
    ("queries.jsonl", '{"_id": "q1", "text": "fine"}\n[1, 2]\n', "queries.jsonl:2: expected a JSON object"),
    ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\n", "test.tsv:2: expected query-id"),
    ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\tone\n", "test.tsv:2: expected query-id"),
])
def test_beir_loader_names_file_and_line(tmp_path, target, content, fragment):
    folder = write_beir(tmp_path / "b", CORPUS, QUERIES, QRELS)
    (folder / target).write_text(content)
    with pytest.raises(BadInput) as err:
        evaluation.load_beir(folder)
    assert fragment in err.value.message


def test_beir_missing_split_is_clear(tmp_path):
    folder = write_beir(tmp_path / "b", CORPUS, QUERIES, QRELS)
    with pytest.raises(BadInput, match="dev.tsv: no such file"):
        evaluation.load_beir(folder, "dev")


def test_squad_loader(tmp_path):
    squad = {"version": "1.1", "data": [
        {"title": "Super_Bowl_50", "paragraphs": [
            {"context": "Super Bowl 50 was played on February 7, 2016.",
             "qas": [{"id": "a1", "question": "When was Super Bowl 50?",
                      "answers": [{"text": "February 7, 2016", "answer_start": 30}]}]},
            {"context": "The Denver Broncos won the game.",
             "qas": [{"id": "a2", "question": "Who won?", "answers": [{"text": "Denver Broncos", "answer_start": 4}]}]},
        ]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad))
    docs, questions = evaluation.load_squad(path)
    assert [d.title for d in docs] == ["Super Bowl 50"]
    assert docs[0].text == "Super Bowl 50 was played on February 7, 2016.\n\nThe Denver Broncos won the game."
    assert [(q.id, q.evidence) for q in questions] == [("a1", ("February 7, 2016",)), ("a2", ("Denver Broncos",))]


@pytest.mark.parametrize("content,fragment", [
    ("{not json", "not a SQuAD v1.1 file"),
    ('{"data": [{"title": "x", "paragraphs": [{"qas": []}]}]}', "article 1"),
    ('{"data": []}', "no questions"),
])
def test_squad_loader_errors_name_the_file(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(BadInput) as err:
        evaluation.load_squad(path)
    assert str(path) in err.value.message and fragment in err.value.message


def test_detect_formats(tmp_path):
    assert evaluation.detect(tmp_path) == "beir"
    assert evaluation.detect(tmp_path / "x.json") == "squad"
    assert evaluation.detect(tmp_path / "x.jsonl") == "questions"


def ndcg10(ranked, relevant):
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return dcg / ideal


def test_beir_end_to_end_matches_metrics_computed_by_hand(tmp_path, embedder, monkeypatch):
    folder = write_beir(tmp_path / "tiny", CORPUS, QUERIES, QRELS)
    rankings = {}
    original = evaluation._score_beir

    def spy(service, data):
        for qid, text in data.queries.items():  # the document order the evaluation sees, by MaxP
            best = {}
            for hit in service.search(text, evaluation.BEIR_DEPTH):
                doc = data.original_ids[hit.passage.article_id]
                best[doc] = max(best.get(doc, float("-inf")), hit.score)
            rankings[qid] = sorted(best, key=best.get, reverse=True)
        return original(service, data)
    monkeypatch.setattr(evaluation, "_score_beir", spy)
    figures = evaluation.run(folder, Settings(corpus_dir=tmp_path / "none", index_dir=tmp_path / "unused"),
                             embedder=embedder)
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
                             embedder=embedder)
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
                             embedder=embedder)
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
    assert evaluation.run(questions, settings, embedder=embedder, work_dir=work)["hit@1"] == 1.0
    folder = write_beir(tmp_path / "tiny", CORPUS, QUERIES[:2], QRELS[:2])
    figures = evaluation.run(folder, settings, embedder=embedder, work_dir=work)  # the ferry is dropped
    assert figures["documents"] == 4 and figures["passages"] == 4 and figures["ndcg@10"] == 1.0
