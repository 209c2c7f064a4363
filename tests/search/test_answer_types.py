"""Answer types: what a question asks for and which sentences can hold it."""

import pytest

from qa.search.answer_types import about_the_article, article_field, has_answer, question_type


@pytest.mark.parametrize("question,kind", [
    ("How many tourists came?", "quantity"),
    ("How much was the trade worth?", "quantity"),
    ("For how long has this gone on?", "quantity"),
    ("What percentage of voters agreed?", "quantity"),
    ("When did Russia invade Georgia?", "time"),
    ("In what year was the deal signed?", "time"),
    ("Who wrote the piece?", "person"),
    ("Whose leadership is at stake?", "person"),
    ("Which minister resigned?", "person"),
    ("Why is the reaction unusual?", "reason"),
    ("Where did William land?", "place"),
    ("Which country is building the reactors?", "place"),
    ("Which Norwegian king claimed the throne?", "person"),
    ("What did Turkey buy?", None),
])
def test_question_type(question, kind):
    assert question_type(question) == kind


@pytest.mark.parametrize("kind,sentence,expected", [
    ("quantity", "Trade was around $38 billion.", True),
    ("quantity", "Nearly seven million tourists visited.", True),
    ("quantity", "Over the past seven decades, much changed.", True),
    ("quantity", "The two historic rivals met.", False),
    ("time", "It happened on February 9, 1990.", True),
    ("time", "It happened last week.", True),
    ("time", "It happened in the spring.", False),
    ("person", "The leaders are Vladimir Putin and Recep Tayyip Erdogan.", True),
    ("person", "by Ahmet Mehmet (News & Analysis)", True),
    ("person", "The leaders met in secret.", False),
    ("person", "Analyzing Turkish-Russian Partnership", False),  # nationalities, not a name
    ("person", "The talks were led by Jean-Pierre Raffarin.", True),
    ("person", "It appears in an account by the merchant Ibrahim ibn Yaqub.", True),
    ("person", "The bridge was designed by the architect Apollodorus of Damascus.", True),
    ("place", "The water re-emerges at the Aach spring.", True),
    ("place", "The water re-emerges much later.", False),
    ("reason", "The kid died within minutes because of a lung defect.", True),
    ("time", "The schools of law flourished in the eleventh century.", True),
    (None, "Anything at all, 1990.", False),
])
def test_has_answer(kind, sentence, expected):
    assert has_answer(kind, sentence) is expected


@pytest.mark.parametrize("question,field", [
    ("Who wrote the piece?", "Author"),
    ("In which magazine was this analysis published?", "Source"),
    ("What is the headline of the article?", "Headline"),
    ("When was the story published?", "Date"),
    ("How does the author sum up the relationship?", None),  # about what it says, not about the article
    ("Who voted against the rate rise?", None),
])
def test_questions_about_the_article_itself(question, field):
    assert article_field(question) == field
    assert about_the_article(question) == (field is not None)
