"""Evaluation formats: the loaders, with errors that name file and line."""

import json

import pytest

from qa import evaluation
from qa.errors import BadInput
from qa.evaluation.loaders import detect

from helpers import CORPUS, QRELS, QUERIES, write_beir


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
    assert detect(tmp_path) == "beir"
    assert detect(tmp_path / "x.json") == "squad"
    assert detect(tmp_path / "x.jsonl") == "questions"




@pytest.mark.parametrize("line,fragment", [
    ("{not json", "not valid JSON"),
    ('{"question": "q"}', "expected"),
    ('{"question": "", "evidence": ["x"]}', "expected"),
    ('{"question": "q", "evidence": []}', "expected"),
    ('["q", "e"]', "expected"),
    ('{"question": "q", "evidence": ["x"], "filters": {"date_from": "May 1"}}', "date_from"),
    ('{"question": "q", "evidence": ["x"], "filters": {"desk": "sports"}}', "desk"),
])
def test_question_set_errors_name_file_and_line(tmp_path, line, fragment):
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"question": "fine", "evidence": ["ok"]}) + "\n" + line + "\n")
    with pytest.raises(BadInput) as err:
        evaluation.load_questions(path)
    assert f"{path}:2:" in err.value.message and fragment in err.value.message
