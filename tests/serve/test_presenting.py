"""What the pages show: confidence in words, results grouped by article with no sentence twice, the
reader's paragraphs and marks."""

import pytest

from qa.serve.presenting import grouped, in_words, reader_blocks

TEXT = "Title\n\nOne. Two. Three.\n\nSection\n\nFour. Five."


def result(rank, start, end, answer, confidence, article="a"):
    return {"rank": rank, "start": start, "end": end, "text": TEXT[start:end], "answer": TEXT[answer[0]:answer[1]],
            "answer_start": answer[0], "answer_end": answer[1], "confidence": confidence,
            "article": {"id": article, "title": article.upper(), "author": "Ann", "date": None, "source": "Post"},
            "copies": []}


@pytest.mark.parametrize("confidence,words", [(0.97, "very likely, 97%"), (0.5, "likely, 50%"),
                                              (0.2, "possibly, 20%"), (0.04, "unlikely, 4%")])
def test_confidence_in_words(confidence, words):
    assert in_words(confidence) == words


def test_overlapping_passages_of_an_article_merge_and_no_sentence_shows_twice():
    results = [result(1, 7, 23, (12, 16), 0.9), result(2, 34, 45, (40, 45), 0.3, article="b"),
               result(3, 12, 23, (17, 23), 0.5), result(4, 7, 11, (7, 11), 0.1)]
    a, b = grouped(results)
    assert (a.article["id"], b.article["id"]) == ("a", "b")  # in the order of each article's best result
    assert a.byline == "Ann · Post"
    (excerpt,) = a.excerpts  # 7-23, 12-23 and 7-11 overlap: one run of text
    assert excerpt.text == "One. Two. Three." and excerpt.confidence == 0.9
    assert excerpt.segments() == [("One. ", False), ("Two.", True), (" Three.", False)]
    assert excerpt.link == "/articles/a?start=7&end=23&answer_start=12&answer_end=16#passage"
    assert b.excerpts[0].unlikely is False and grouped([result(1, 7, 11, (7, 11), 0.1)])[0].excerpts[0].unlikely


def test_the_reader_shows_the_body_with_headings_and_marks_the_passage_and_its_answer():
    article = {"text": TEXT, "body_start": 7, "headings": [[25, 32]]}
    blocks = reader_blocks(article, (12, 39), (17, 23))
    assert [b.heading for b in blocks] == [False, True, False]
    assert blocks[0].pieces == [("One. ", ""), ("Two. ", "passage"), ("Three.", "answer")]
    assert blocks[1].pieces == [("Section", "passage")]
    assert blocks[2].pieces == [("Four.", "passage"), (" Five.", "")]
    assert "".join(t for b in reader_blocks(article, None, None) for t, _ in b.pieces) == "One. Two. Three.SectionFour. Five."
