"""Clean text: page furniture dropped, hard-wrapped lines re-flowed in linear time."""

import pytest

from qa.ingest import from_bytes
from qa.ingest.text import is_chrome


@pytest.mark.parametrize("line,chrome", [
    ("Privacy Policy  |  Terms of Use", True),
    ("Not a Member? Signup  44", True),
    ("Copyright \u00a9 2024 The Daily Example. All rights reserved.", True),
    ("Voters register in record numbers", False),
    ("She said she would sign in the morning and leave by noon.", False),
])
def test_chrome_lines(line, chrome):
    assert is_chrome(line) is chrome


def test_hard_wrapped_lines_are_reflowed():
    raw = "Title\n\nThe council met on Monday and decided that the\nbridge would be rebuilt before the\nwinter."
    a = from_bytes(raw.encode(), "t.txt")
    assert "decided that the bridge would be rebuilt before the winter." in a.text


def test_a_long_hard_wrapped_text_becomes_one_paragraph():
    raw = "Title\n\nThe river\n" + "rose again and\n" * 20000 + "fell over-\n" * 20000 + "ground."
    a = from_bytes(raw.encode(), "t.txt")
    assert a.text == "Title\n\nThe river " + "rose again and " * 20000 + "fell over" * 20000 + "ground."
