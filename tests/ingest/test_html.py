"""HTML pages: the story kept, the furniture dropped, the declared charset honoured."""

import pytest

from qa.errors import BadInput
from qa.ingest import from_bytes


def test_html_is_reduced_to_article_text():
    html = b"""<html><head><title>Page</title><meta property="og:title" content="Bridge Reopens">
    <meta name="author" content="Sam Lee"><meta property="og:site_name" content="City News">
    <style>p{color:red}</style><script>alert('x')</script></head><body>
    <nav><a href="/">Home</a> <a href="/login">Sign In</a></nav>
    <article><h1>Bridge Reopens</h1><p>The <b>old bridge</b> reopened on Friday after two years of repairs.</p>
    <p>Traffic is expected to return to normal within a week.</p></article>
    <footer>Privacy Policy | Terms of Use</footer></body></html>"""
    a = from_bytes(html, "page.html")
    assert (a.title, a.author, a.source) == ("Bridge Reopens", "Sam Lee", "City News")
    assert "The old bridge reopened on Friday after two years of repairs." in a.text
    for junk in ("alert", "color:red", "Home", "Sign In", "Privacy"):
        assert junk not in a.text


def test_html_text_between_blocks_is_kept():
    html = (b"<html><body><article><h1>Bridge Reopens</h1>The old bridge reopened on Friday after two years."
            b"<br><br>Traffic is back to normal.<p>The mayor spoke at the ceremony.</p></article></body></html>")
    a = from_bytes(html, "page.html")
    for sentence in ("The old bridge reopened on Friday after two years.", "Traffic is back to normal.",
                     "The mayor spoke at the ceremony."):
        assert sentence in a.text


def test_html_wrapper_whose_class_mentions_furniture_keeps_the_story():
    html = (b"<html><body><div class='content has-sidebar'><h1>Bridge Reopens</h1>"
            b"<p>The old bridge reopened on Friday after two years of repairs.</p><p>Traffic is back.</p></div>"
            b"<div class='sidebar'><p>Most read this week</p></div></body></html>")
    a = from_bytes(html, "page.html")
    assert "The old bridge reopened on Friday after two years of repairs." in a.text
    assert "Most read" not in a.text


def test_html_in_the_charset_it_declares():
    page = ("<html><head><meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'>"
            "<title>Caf\u00e9 Reopens</title></head><body><p>The caf\u00e9 reopened on Friday \u2013 after "
            "two years of repairs.</p></body></html>")
    a = from_bytes(page.encode("cp1252"), "page.html")  # Latin-1 labels mean Windows-1252
    assert a.title == "Caf\u00e9 Reopens" and "The caf\u00e9 reopened on Friday \u2013 after" in a.text
    # not a text codec, a Python codec that is no web encoding, no BOM, unknown: read as UTF-8
    for label in ("hex", "punycode", "idna", "rot13", "utf-16", "replacement", "no-such-charset"):
        page = f"<html><head><meta charset='{label}'></head><body><p>Caf\u00e9 news, read as UTF-8.</p></body></html>"
        assert from_bytes(page.encode(), "page.html").text == "Caf\u00e9 news, read as UTF-8."
    with pytest.raises(BadInput, match="not valid UTF-8"):  # plain text declares nothing: UTF-8 only
        from_bytes("Caf\u00e9 text.".encode("latin-1"), "note.txt")


def test_a_web_encoding_python_has_no_codec_name_for_is_read():
    page = "<html><head><meta charset='x-user-defined'></head><body><p>Plain ASCII news.</p></body></html>"
    assert from_bytes(page.encode(), "page.html").text == "Plain ASCII news."


def test_nested_furniture_is_checked_in_linear_time(monkeypatch):
    """A page of 2,000 nested ``<div class="ad">``, each with a paragraph (so each wrapper seems to hold
    the story): the check once searched every wrapper's subtree (quadratic in the depth: 9 s at 2,000).
    Counted, not timed: how many subtree searches the reading makes does not grow with the depth."""
    from bs4 import Tag

    searches = []
    for name in ("find", "find_all"):
        original = getattr(Tag, name)
        monkeypatch.setattr(Tag, name, lambda self, *a, _original=original, **k: searches.append(1)
                            or _original(self, *a, **k))

    def read(depth: int) -> int:
        searches.clear()
        page = "<html><body>" + '<div class="ad"><p>Ad text here.</p>' * depth + "</div>" * depth + "</body></html>"
        assert "Ad text here." in from_bytes(page.encode(), "page.html").text
        return len(searches)

    assert read(2000) == read(20)
