"""The header block: bylines, dates and publications from the lines before the body."""

import pytest

from qa.ingest import from_bytes


def test_byline_and_date_from_plain_text():
    raw = ("Storm Closes Harbour\n\nBy Jane Doe | The Coastal Times\n\nJune 5, 2022\n\n"
           "A storm closed the harbour on Sunday, stranding dozens of fishing boats until the wind dropped.")
    a = from_bytes(raw.encode(), "storm.txt")
    assert (a.title, a.author, a.date) == ("Storm Closes Harbour", "Jane Doe", "2022-06-05")


@pytest.mark.parametrize("opening, is_body", [
    ("By 2030, the country plans to double its wind and solar power output across all regions.", True),
    ("By the end of the week, the council will decide on the bridge and the new school buildings.", True),
    ("By Monday, officials had left.", False),  # short enough to pass for a header line
    ("By Tuesday the storm had passed.", False),
])
def test_a_sentence_opening_with_by_is_not_a_byline(opening, is_body):
    raw = f"Wind Plan\n\n{opening}\n\nThe plan was announced on Tuesday by the energy minister in the capital city."
    a = from_bytes(raw.encode(), "wind.txt")
    assert (a.author, a.source) == (None, None)
    assert (a.text.index(opening) >= a.body_start) == is_body


@pytest.mark.parametrize("line, author", [
    ("By the Associated Press", "the Associated Press"),
    ("By Jane Doe, staff writer.", "Jane Doe"),
    ("By \u674e\u660e, \u65b0\u534e\u793e", "\u674e\u660e"),  # a script without capitals
])
def test_bylines_that_are_bylines(line, author):
    raw = f"Wind Plan\n\n{line}\n\nThe plan was announced on Tuesday by the energy minister in the capital city."
    assert from_bytes(raw.encode(), "wind.txt").author == author
