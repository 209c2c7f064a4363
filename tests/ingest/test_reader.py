"""Reading articles: metadata from headers, formats, bad bytes."""

import pytest

from helpers import SEED
from qa.errors import BadInput, Unsupported
from qa.ingest import from_bytes, from_fields, read_file


def test_seed_article_metadata():
    a = read_file(SEED)
    assert a.id == "turkish-russian-partnership"
    assert a.title == "Analyzing Turkish-Russian Partnership"
    assert a.author == "Ahmet Mehmet"
    assert a.date == "2020-11-01"
    assert a.source == "Crescent International"
    assert a.text[a.body_start:].startswith("While most mainstream media outlets")


def test_page_chrome_is_dropped_but_article_text_kept():
    text = read_file(SEED).text
    for chrome in ("Privacy Policy", "Terms of Use", "Sign In", "Forgot Password", "Signup", "Copyrights"):
        assert chrome not in text
    assert text.endswith("one can expect a proxy-war.")


def test_markdown_front_matter_and_heading():
    raw = "---\ntitle: \"Rain in Spain\"\nauthor: Ana Ruiz\ndate: March 3, 2021\nsource: El Diario\n---\n" \
          "# Rain in Spain\n\nThe rain in Spain falls mainly on the plain, the forecasters said on Tuesday."
    a = from_bytes(raw.encode(), "rain.md", "rain")
    assert (a.title, a.author, a.date, a.source) == ("Rain in Spain", "Ana Ruiz", "2021-03-03", "El Diario")
    assert "title:" not in a.text


def test_fields_override_the_header_and_are_checked():
    a = from_fields("Storm\n\nBy Jane Doe\n\nA storm closed the harbour on Sunday, stranding dozens of boats.",
                    title="Harbour Storm", date="5 June 2022", source="  The   Coastal Times ")
    assert (a.title, a.author, a.date, a.source) == ("Harbour Storm", "Jane Doe", "2022-06-05", "The Coastal Times")
    assert a.id == ""  # the service chooses one
    with pytest.raises(BadInput) as err:
        from_fields("Some text here.", title=5)
    assert err.value.code == "invalid_field"


def test_bad_bytes_and_types():
    with pytest.raises(BadInput) as err:
        from_bytes(b"caf\xe9 cr\xe8me " * 3, "x.txt")
    assert err.value.code == "undecodable"
    with pytest.raises(Unsupported):
        from_bytes(b"hello", "x.docx")
    with pytest.raises(BadInput):
        from_fields("   \n  ")
