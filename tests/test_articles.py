"""Reading articles: metadata from headers, chrome stripped, formats, ids."""

import pytest

from qa import articles
from qa.errors import BadInput

from conftest import SEED


def test_seed_article_metadata():
    a = articles.read_file(SEED)
    assert a.id == "turkish-russian-partnership"
    assert a.title == "Analyzing Turkish-Russian Partnership"
    assert a.author == "Ahmet Mehmet"
    assert a.date == "2020-11-01"
    assert a.source == "Crescent International"
    assert a.text[a.body_start:].startswith("While most mainstream media outlets")


def test_header_lines_are_labelled_by_the_field_they_hold():
    a = articles.read_file(SEED)
    labels = {line: articles.field_label(a, line) for line in a.text[:a.body_start].split("\n") if line}
    assert labels["Analyzing Turkish-Russian Partnership"] == "Headline: "
    assert labels["Ahmet Mehmet"] == "Author: "
    assert labels["Rabi' al-Awwal 15, 1442 2020-11-01"] == "Date: "
    assert labels[next(line for line in labels if line.startswith("by "))] == "Byline: "
    assert labels["News & Analysis"] == ""


@pytest.mark.parametrize("line,label", [
    ("# Storm Closes Harbour", "Headline: "),
    ("APRIL 5, 2022", "Date: "),            # the source "AP" is a word, not any two letters
    ("From AP and Reuters", "Source: "),
    ("Jane Doe", "Author: "),
    ("Author: Jane Doe", ""),               # says what it is already
])
def test_field_labels_match_whole_words_and_skip_named_fields(line, label):
    article = articles.Article(id="a", title="Storm Closes Harbour", text="", author="Jane Doe", source="AP")
    assert articles.field_label(article, line) == label


def test_page_chrome_is_dropped_but_article_text_kept():
    text = articles.read_file(SEED).text
    for chrome in ("Privacy Policy", "Terms of Use", "Sign In", "Forgot Password", "Signup", "Copyrights"):
        assert chrome not in text
    assert text.endswith("one can expect a proxy-war.")


@pytest.mark.parametrize("line,chrome", [
    ("Privacy Policy  |  Terms of Use", True),
    ("Not a Member? Signup  44", True),
    ("Copyright \u00a9 2024 The Daily Example. All rights reserved.", True),
    ("Voters register in record numbers", False),
    ("She said she would sign in the morning and leave by noon.", False),
])
def test_chrome_lines(line, chrome):
    assert articles.is_chrome(line) is chrome


def test_markdown_front_matter_and_heading():
    raw = "---\ntitle: \"Rain in Spain\"\nauthor: Ana Ruiz\ndate: March 3, 2021\nsource: El Diario\n---\n" \
          "# Rain in Spain\n\nThe rain in Spain falls mainly on the plain, the forecasters said on Tuesday."
    a = articles.from_bytes(raw.encode(), "rain.md", "rain")
    assert (a.title, a.author, a.date, a.source) == ("Rain in Spain", "Ana Ruiz", "2021-03-03", "El Diario")
    assert "title:" not in a.text


def test_byline_and_date_from_plain_text():
    raw = ("Storm Closes Harbour\n\nBy Jane Doe | The Coastal Times\n\nJune 5, 2022\n\n"
           "A storm closed the harbour on Sunday, stranding dozens of fishing boats until the wind dropped.")
    a = articles.from_bytes(raw.encode(), "storm.txt")
    assert (a.title, a.author, a.date) == ("Storm Closes Harbour", "Jane Doe", "2022-06-05")


@pytest.mark.parametrize("opening, is_body", [
    ("By 2030, the country plans to double its wind and solar power output across all regions.", True),
    ("By the end of the week, the council will decide on the bridge and the new school buildings.", True),
    ("By Monday, officials had left.", False),  # short enough to pass for a header line
    ("By Tuesday the storm had passed.", False),
])
def test_a_sentence_opening_with_by_is_not_a_byline(opening, is_body):
    raw = f"Wind Plan\n\n{opening}\n\nThe plan was announced on Tuesday by the energy minister in the capital city."
    a = articles.from_bytes(raw.encode(), "wind.txt")
    assert (a.author, a.source) == (None, None)
    assert (a.text.index(opening) >= a.body_start) == is_body


@pytest.mark.parametrize("line, author", [
    ("By the Associated Press", "the Associated Press"),
    ("By Jane Doe, staff writer.", "Jane Doe"),
    ("By \u674e\u660e, \u65b0\u534e\u793e", "\u674e\u660e"),  # a script without capitals
])
def test_bylines_that_are_bylines(line, author):
    raw = f"Wind Plan\n\n{line}\n\nThe plan was announced on Tuesday by the energy minister in the capital city."
    assert articles.from_bytes(raw.encode(), "wind.txt").author == author


def test_hard_wrapped_lines_are_reflowed():
    raw = "Title\n\nThe council met on Monday and decided that the\nbridge would be rebuilt before the\nwinter."
    a = articles.from_bytes(raw.encode(), "t.txt")
    assert "decided that the bridge would be rebuilt before the winter." in a.text


def test_a_long_hard_wrapped_text_becomes_one_paragraph():
    raw = "Title\n\nThe river\n" + "rose again and\n" * 20000 + "fell over-\n" * 20000 + "ground."
    a = articles.from_bytes(raw.encode(), "t.txt")
    assert a.text == "Title\n\nThe river " + "rose again and " * 20000 + "fell over" * 20000 + "ground."


def test_html_is_reduced_to_article_text():
    html = b"""<html><head><title>Page</title><meta property="og:title" content="Bridge Reopens">
    <meta name="author" content="Sam Lee"><meta property="og:site_name" content="City News">
    <style>p{color:red}</style><script>alert('x')</script></head><body>
    <nav><a href="/">Home</a> <a href="/login">Sign In</a></nav>
    <article><h1>Bridge Reopens</h1><p>The <b>old bridge</b> reopened on Friday after two years of repairs.</p>
    <p>Traffic is expected to return to normal within a week.</p></article>
    <footer>Privacy Policy | Terms of Use</footer></body></html>"""
    a = articles.from_bytes(html, "page.html")
    assert (a.title, a.author, a.source) == ("Bridge Reopens", "Sam Lee", "City News")
    assert "The old bridge reopened on Friday after two years of repairs." in a.text
    for junk in ("alert", "color:red", "Home", "Sign In", "Privacy"):
        assert junk not in a.text


def test_html_text_between_blocks_is_kept():
    html = (b"<html><body><article><h1>Bridge Reopens</h1>The old bridge reopened on Friday after two years."
            b"<br><br>Traffic is back to normal.<p>The mayor spoke at the ceremony.</p></article></body></html>")
    a = articles.from_bytes(html, "page.html")
    for sentence in ("The old bridge reopened on Friday after two years.", "Traffic is back to normal.",
                     "The mayor spoke at the ceremony."):
        assert sentence in a.text


def test_html_wrapper_whose_class_mentions_furniture_keeps_the_story():
    html = (b"<html><body><div class='content has-sidebar'><h1>Bridge Reopens</h1>"
            b"<p>The old bridge reopened on Friday after two years of repairs.</p><p>Traffic is back.</p></div>"
            b"<div class='sidebar'><p>Most read this week</p></div></body></html>")
    a = articles.from_bytes(html, "page.html")
    assert "The old bridge reopened on Friday after two years of repairs." in a.text
    assert "Most read" not in a.text


def test_html_in_the_charset_it_declares():
    page = ("<html><head><meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'>"
            "<title>Caf\u00e9 Reopens</title></head><body><p>The caf\u00e9 reopened on Friday \u2013 after "
            "two years of repairs.</p></body></html>")
    a = articles.from_bytes(page.encode("cp1252"), "page.html")  # Latin-1 labels mean Windows-1252
    assert a.title == "Caf\u00e9 Reopens" and "The caf\u00e9 reopened on Friday \u2013 after" in a.text
    for label in ("hex", "utf-16", "no-such-charset"):  # not a text codec, no BOM, unknown: read as UTF-8
        page = f"<html><head><meta charset='{label}'></head><body><p>Caf\u00e9 news, read as UTF-8.</p></body></html>"
        assert articles.from_bytes(page.encode(), "page.html").text == "Caf\u00e9 news, read as UTF-8."
    with pytest.raises(BadInput, match="not valid UTF-8"):  # plain text declares nothing: UTF-8 only
        articles.from_bytes("Caf\u00e9 text.".encode("latin-1"), "note.txt")


def test_dates():
    assert articles.find_date("Rabi' al-Awwal 15, 1442 2020-11-01") == "2020-11-01"
    assert articles.find_date("Published 7th January 2019 at noon") == "2019-01-07"
    assert articles.find_date("Sept. 30, 2020") == "2020-09-30"
    assert articles.find_date("February 31, 2020") is None
    assert articles.normalize_date("2021-06-01T10:00:00Z") == "2021-06-01"


@pytest.mark.parametrize("bad", ["../etc/passwd", "a/b", "", ".hidden", "a" * 200, "sp ace", "a..b"])
def test_unsafe_ids_are_refused(bad):
    with pytest.raises(BadInput):
        articles.check_id(bad)


def test_slugify_is_path_safe():
    assert articles.slugify("Ünïcode: Title / With Slashes!") == "unicode-title-with-slashes"
    assert articles.check_id(articles.slugify("../../x")) == "x"


def test_bad_bytes_and_types():
    with pytest.raises(BadInput) as err:
        articles.from_bytes(b"caf\xe9 cr\xe8me " * 3, "x.txt")
    assert err.value.code == "undecodable"
    with pytest.raises(BadInput) as err:
        articles.from_bytes(b"hello", "x.docx")
    assert err.value.status == 415
    with pytest.raises(BadInput):
        articles.from_fields("   \n  ")
