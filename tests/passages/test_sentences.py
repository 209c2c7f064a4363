"""Sentence splitting that needs no downloaded NLTK data."""

from qa.passages import split_sentences


def texts(text, spans):
    return [text[a:b] for a, b in spans]


def test_sentences_respect_abbreviations_and_lines():
    text = "Dr. Smith met Mr. Jones in the U.S. capital. They talked.\nA heading\nIt was 1990. Then he left."
    assert texts(text, split_sentences(text)) == [
        "Dr. Smith met Mr. Jones in the U.S. capital.", "They talked.", "A heading", "It was 1990.",
        "Then he left."]


def test_curly_quotes_do_not_hide_a_sentence_break():
    text = "He paid $38 billion. \u201cNot one inch eastward\u201d, he said."
    assert texts(text, split_sentences(text)) == ["He paid $38 billion.", "\u201cNot one inch eastward\u201d, he said."]
