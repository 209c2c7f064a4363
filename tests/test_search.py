"""Retrieval on the seed article: hybrid ranking, answer sentences, de-duplication, quality floor."""

import json

import pytest

from qa import articles, evaluation
from qa.articles import Article
from qa.errors import BadInput
from qa.search import RankingConfig, Searcher

from conftest import SEED_QUESTIONS


@pytest.mark.parametrize("question,expected", [
    ("What air defense system did Turkey purchase?", "S-400"),
    ("How much was Turkish-Russian trade worth?", "$38 billion"),
    ("Which country did Russia invade in 2008?", "invading Georgia"),
    ("Who is the president of Turkey?", "Recep Tayyip Erdogan"),
])
def test_answer_sentence_is_picked(seed_service, question, expected):
    top = seed_service.ask(question, 3)["results"][0]
    assert expected in top["answer"]
    assert top["answer"] in top["text"]


def test_results_are_sorted_and_not_repeated(seed_service):
    results = seed_service.ask("NATO", 10)["results"]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    shown = [(r["start"], r["end"]) for r in results]
    for r in results:  # no answer sentence is already visible inside a better-ranked passage
        better = [s for s in shown[:r["rank"] - 1]]
        assert not any(a <= r["answer_start"] and r["answer_end"] <= b for a, b in better)


def test_dense_and_lexical_both_contribute(seed_service):
    def top(fusion, question):
        searcher = Searcher(seed_service.store, seed_service.index, seed_service.bm25, seed_service.embedder,
                            RankingConfig(fusion=fusion))
        return searcher.search(question, 1)[0].passage.text
    # Only the words match: "S-400" means nothing to the embedding model.
    assert "S-400" in top("lexical", "S-400")
    # Only the meaning matches: no content word of the question is in the answer passage.
    assert "nuclear reactors" in top("dense", "Which country constructs atomic power stations for Ankara?")


def test_pseudo_relevance_feedback_moves_the_question_towards_its_best_passages(seed_service):
    def ranking(**config):
        searcher = Searcher(seed_service.store, seed_service.index, seed_service.bm25, seed_service.embedder,
                            RankingConfig(**config))
        return [hit.passage.id for hit in searcher.search("What air defense system did Turkey purchase?", 10)]
    plain, fed = ranking(), ranking(feedback=1.0)
    assert fed[0] == plain[0]  # the clear answer stays first
    assert fed != plain        # the rest is re-ranked around the first passages found


def test_question_with_no_matching_words_still_gets_dense_results(seed_service):
    results = seed_service.ask("zzzz qqqq", 3)["results"]
    assert len(results) == 3


def test_seed_question_set_quality_floor(seed_service):
    questions = evaluation.load_questions(SEED_QUESTIONS)
    assert len(questions) >= 30
    figures = evaluation._score_questions(seed_service, questions)
    # Floors a little under the measured figures (README, Evaluation): a regression fails here.
    assert figures["hit@1"] >= 0.9
    assert figures["hit@3"] >= 0.95
    assert figures["answer@1"] >= 0.8
    assert figures["avg_passage_chars"] < 500


@pytest.mark.parametrize("line,fragment", [
    ("{not json", "not valid JSON"),
    ('{"question": "q"}', "expected"),
    ('{"question": "", "evidence": ["x"]}', "expected"),
    ('{"question": "q", "evidence": []}', "expected"),
    ('["q", "e"]', "expected"),
])
def test_question_set_errors_name_file_and_line(tmp_path, line, fragment):
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"question": "fine", "evidence": ["ok"]}) + "\n" + line + "\n")
    with pytest.raises(BadInput) as err:
        evaluation.load_questions(path)
    assert f"{path}:2:" in err.value.message and fragment in err.value.message


def test_a_label_repeated_inside_a_longer_line_is_not_the_answer(make_service):
    service = make_service(corpus_files=())
    text = ("Harbour Notes\n\nHarbour Notes\n\nFrom Harbour Notes, Coastal Weekly Issue 12, by Ana Ruiz\n\n"
            "The harbour reopened on Monday after the storm. Ferries run every hour again.")
    service.add(Article(id="harbour", title="Harbour reopens", text=text))
    results = service.ask("What newspaper printed the harbour notes?", 5)["results"]
    header = [r for r in results if "Coastal Weekly" in r["text"]]
    assert header and all("Coastal Weekly Issue 12" in r["answer"] for r in header)


def test_questions_about_the_article_itself_find_its_header_card(make_service):
    service = make_service(corpus_files=())
    text = ("Storm Closes Harbour\n\nBy Jane Doe | The Coastal Times\n\nJune 5, 2022\n\n"
            "A storm closed the harbour on Sunday, stranding dozens of fishing boats until the wind dropped. "
            "Ferries will run again once engineers have inspected the damaged pier.")
    article = articles.from_bytes(text.encode(), "storm.txt")
    service.add(article)
    card = service.passages_of(article)[0]
    model_text, offsets = service.embedding_input(article, card)
    assert model_text.startswith("Headline: Storm Closes Harbour\n")
    assert [model_text[a:b] for a, b in offsets] == [
        "Headline: Storm Closes Harbour", "Byline: By Jane Doe | The Coastal Times", "Date: June 5, 2022"]
    for question, line in (("Who wrote this story?", "By Jane Doe | The Coastal Times"),
                           ("What is the headline?", "Storm Closes Harbour"),
                           ("When was it published?", "June 5, 2022")):
        top = service.ask(question, 3)["results"][0]
        assert top["text"].startswith("Storm Closes Harbour") and top["answer"] == line, question


def test_passages_removed_since_bm25_found_them_are_dropped(seed_service):
    searcher = seed_service.searcher
    qvec = seed_service.embedder.start_query("S-400")()
    assert searcher._fuse(qvec, {}, {10**9: 0.5}) == {}  # an id neither FAISS nor SQLite holds any more
