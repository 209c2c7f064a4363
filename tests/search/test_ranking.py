"""Retrieval on the seed article with the real model: hybrid ranking, answer sentences, de-duplication."""

from dataclasses import dataclass

import pytest

from qa.config import RankingConfig
from qa.ingest import Article, from_bytes
from qa.search import Searcher


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
        better = shown[:r["rank"] - 1]
        assert not any(a <= r["answer_start"] and r["answer_end"] <= b for a, b in better)


def searcher(service, **config):
    return Searcher(service.engine, service.encoder, RankingConfig(**config))


def test_dense_and_lexical_both_contribute(seed_service):
    def top(fusion, question):
        return searcher(seed_service, fusion=fusion).search(question, 1)[0].passage.text
    # Only the words match: "S-400" means nothing to the embedding model.
    assert "S-400" in top("lexical", "S-400")
    # Only the meaning matches: no content word of the question is in the answer passage.
    assert "nuclear reactors" in top("dense", "Which country constructs atomic power stations for Ankara?")


def test_pseudo_relevance_feedback_moves_the_question_towards_its_best_passages(seed_service):
    def ranking(**config):
        return [hit.passage.id for hit in searcher(seed_service, **config).search(
            "What air defense system did Turkey purchase?", 10)]
    plain, fed = ranking(), ranking(feedback=1.0)
    assert fed[0] == plain[0]  # the clear answer stays first
    assert fed != plain        # the rest is re-ranked around the first passages found


def test_question_with_no_matching_words_still_gets_dense_results(seed_service):
    assert len(seed_service.ask("zzzz qqqq", 3)["results"]) == 3


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
    service.add(from_bytes(text.encode(), "storm.txt"))
    for question, line in (("Who wrote this story?", "By Jane Doe | The Coastal Times"),
                           ("What is the headline?", "Storm Closes Harbour"),
                           ("When was it published?", "June 5, 2022")):
        top = service.ask(question, 3)["results"][0]
        assert top["text"].startswith("Storm Closes Harbour") and top["answer"] == line, question


@dataclass
class _Engine:
    store: object
    vectors: object
    lexical: object


class _LexicalWithAGhost:
    """The seed's lexical index, also returning a passage that neither index nor store holds any more."""

    def __init__(self, inner):
        self.inner = inner

    def terms(self, text):
        return self.inner.terms(text)

    def idf(self, terms):
        return self.inner.idf(terms)

    def search(self, terms, k, where=None):
        return [(10**9, 99.0)] + self.inner.search(terms, k, where)


def test_passages_removed_since_the_lexical_index_found_them_are_dropped(seed_service):
    engine = seed_service.engine
    ghostly = _Engine(engine.store, engine.vectors, _LexicalWithAGhost(engine.lexical))
    hits = Searcher(ghostly, seed_service.encoder).search("What air defense system did Turkey buy?", 5)
    assert len(hits) == 5 and all(hit.passage.id != 10**9 for hit in hits)
    assert "S-400" in hits[0].passage.text[hits[0].answer[0]:hits[0].answer[1]]


def test_the_article_prior_favours_a_passage_whose_whole_article_matches(make_service):
    service = make_service(corpus_files=())
    service.add(Article("ferry", "Harbour ferry", " ".join([
        "The harbour ferry now sails every hour between the pier and the island.",
        "Ferry tickets cost two pounds for adults and one pound for children.",
        "The ferry company added a second boat to the island route this spring.",
        "Island residents say the ferry timetable finally suits commuters.",
        "The ferry crossing takes twenty minutes in calm weather."])))
    service.add(Article("weather", "Storm warning", " ".join([
        "A storm is expected on the coast on Friday.",
        "Forecasters said the island ferry may not sail at all.",
        "Gardeners were told to tie down greenhouse panels.",
        "Schools will stay open unless power lines come down.",
        "The storm should pass by Sunday morning."])))

    def gap(**config):  # best ferry-article score minus best weather-article score
        best = {}
        for hit in searcher(service, **config).search("Will the island ferry sail?", 10):
            best.setdefault(hit.passage.article_id, hit.score)
        return best["ferry"] - best["weather"]
    assert gap(article_weight=1.0) > gap() + 0.05
