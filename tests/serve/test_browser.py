"""The web page in a real browser: Playwright driving Debian's headless Chromium."""

import re

import pytest

from browsing import browser, page, screenshot  # noqa: F401 (fixtures)
from helpers import start_server, stop

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The server's address and the folder holding its corpus/ and index/."""
    root = tmp_path_factory.mktemp("browser")
    process, base = start_server(root)
    yield base, root
    stop(process)


@pytest.fixture(scope="module")
def server(served):
    return served[0]


def add_by_paste(page, title, text, author=None):
    """Fill the add-article form, submit it, and return the success message."""
    page.get_by_label("Title").fill(title)
    if author:
        page.get_by_label("Author").fill(author)
    page.get_by_label("Article text").fill(text)
    page.get_by_role("button", name="Add article").click()
    page.wait_for_selector("#add-status .success")
    return page.locator("#add-status").inner_text()


def ask(page, question, answered=True):
    """Ask through the page's script and wait for that answer (not an earlier one) to be drawn."""
    page.get_by_label("Your question").fill(question)
    with page.expect_response(lambda r: "/results?" in r.url):
        page.get_by_label("Your question").press("Enter")
    page.locator("#answer-region:not([aria-busy])").wait_for()
    page.wait_for_selector("#results .result mark" if answered else "#answer-region .no-answer")


def test_ask_shows_the_answer_and_grouped_results_without_reload(page, server):
    page.goto(server + "/")
    assert page.evaluate("document.activeElement.id") == "q", "the question box has the focus"
    page.evaluate("window.__sameDocument = true")
    ask(page, "What air defense system did Turkey buy?")
    answer = page.locator(".answer-box")
    assert "S-400" in answer.locator(".answer-text").inner_text()
    assert "Analyzing Turkish-Russian Partnership" in answer.locator(".meta").inner_text()
    assert "%" in answer.locator(".confidence").inner_text()
    groups = page.locator("#results .result")
    titles = groups.locator("h3").all_inner_texts()
    assert titles == sorted(set(titles), key=titles.index), "one group per article"
    first = groups.first
    assert first.locator("h3").inner_text() == "Analyzing Turkish-Russian Partnership"
    assert "Ahmet Mehmet" in first.locator(".meta").inner_text()
    assert first.locator("meter").count() == first.locator(".excerpt").count() >= 1
    shown = [s.strip() for s in first.locator(".passage").all_inner_texts()]
    sentences = [s for text in shown for s in text.replace("\n", " ").split(". ") if len(s) > 20]
    assert len(sentences) == len(set(sentences)), "no sentence shown twice"
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    assert re.search(r"/\?q=What\+air", page.url)
    screenshot(page, "results")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1100, 360])
def test_the_reader_page_marks_the_passage_and_its_answer(browser, server, scheme, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(server + "/?q=" + "How many Russian tourists visited Turkey?".replace(" ", "+"))
        excerpt = page.locator("#results .result .passage").first.inner_text()
        page.locator("#results .result .context").first.click()
        page.wait_for_selector("mark#passage")
        marked = " ".join(page.locator("article mark").all_inner_texts())
        assert " ".join(marked.split()) in " ".join(excerpt.split())
        assert "seven million" in page.locator("article mark.answer").inner_text()
        assert page.locator("article h1").inner_text() == "Analyzing Turkish-Russian Partnership"
        body = page.locator(".article-text").inner_text()
        assert "Crescent International Vol." not in body, "the header block is shown once, above, not in the text"
        assert "passages" not in page.locator(".reader .meta").inner_text()
        assert page.locator(".article-text p:empty").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(20, 23, 28)") == (scheme == "dark")
        screenshot(page, f"reader-{width}-{scheme}")
    finally:
        context.close()


def test_a_question_nothing_answers_says_so(page, server):
    page.goto(server + "/")
    ask(page, "Who won the 2022 football World Cup?", answered=False)
    assert "No confident answer" in page.locator(".no-answer").inner_text()
    assert page.locator(".answer-box").count() == 0
    for label in page.locator("#results .score .muted").all_inner_texts():
        assert re.fullmatch(r"(very likely|likely|possibly|unlikely), \d+%", label), label
    screenshot(page, "no-answer")


def test_works_with_javascript_disabled(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server + "/")
        page.get_by_label("Your question").fill("Who is building Turkey's nuclear reactors?")
        page.get_by_role("button", name="Ask").click()
        page.wait_for_url(re.compile(r"/\?q="))
        mark = page.locator("#results .result mark").first
        assert "nuclear reactors" in mark.inner_text()
        assert "You can ask about it now" in add_by_paste(page, "No Script Story",
                                                          "Nobody needed scripts to post this story about otters. "
                                                          "The otters were counted by hand.")
        page.get_by_role("button", name="Re-read the corpus folder").click()
        page.wait_for_selector("#reindex-status .success")
        assert "in the background" in page.locator("#reindex-status").inner_text()
    finally:
        context.close()


def test_add_article_by_paste_and_by_upload_then_find_it(page, server, tmp_path):
    page.goto(server + "/")
    assert "Added “Lighthouse Restored”" in add_by_paste(page, "Lighthouse Restored",
                                                        "Volunteers restored the Gannet Point lighthouse over three "
                                                        "summers. Its lamp shone again on the first of May.",
                                                        author="Mira Holt")
    assert page.locator("#article-list", has_text="Lighthouse Restored").count() == 1
    ask(page, "Who restored the lighthouse at Gannet Point?")
    first = page.locator("#results .result").first
    assert first.locator("h3").inner_text() == "Lighthouse Restored"
    assert "Gannet Point" in first.locator("mark").first.inner_text()

    upload = tmp_path / "orchard.md"
    upload.write_text("# Orchard Harvest\n\nThe Bramley orchard picked a record forty tonnes of apples this autumn. "
                      "Cider makers bought most of the crop.\n\n## Prices\n\n- Dessert apples sold for **£1.20** a "
                      "kilo.\n- Cider apples fetched half that.\n")
    page.get_by_label("…or a file").set_input_files(str(upload))
    page.get_by_role("button", name="Add article").click()
    page.wait_for_selector("#add-status .success")
    ask(page, "How many tonnes of apples did the Bramley orchard pick?")
    assert page.locator("#results .result h3").first.inner_text() == "Orchard Harvest"
    ask(page, "What did dessert apples sell for?")
    assert "£1.20" in page.locator(".answer-box .answer-text").inner_text()
    assert "**" not in page.locator("#answer-region").inner_text()
    page.locator("#results .result .context").first.click()
    page.wait_for_selector("article h2")
    assert page.locator("article h2").inner_text() == "Prices"  # a heading reads as a heading, not as text
    assert "#" not in page.locator(".article-text").inner_text()


@pytest.mark.expects_http_error
def test_errors_are_shown_in_the_page(page, server):
    page.goto(server + "/")
    page.get_by_label("Article text").fill("   ")
    page.get_by_role("button", name="Add article").click()
    page.wait_for_selector("#add-status .error")
    assert "Paste the article text, choose a file or give its address" in page.locator("#add-status").inner_text()
    page.get_by_label("Article text").fill("... !!! ???")
    with page.expect_response(lambda r: "/api/articles" in r.url and r.status == 400):
        page.get_by_role("button", name="Add article").click()
    page.wait_for_selector("#add-status .error")
    assert "has no sentences" in page.locator("#add-status").inner_text()


def test_stored_and_typed_markup_renders_as_text(page, server):
    evil_title = '<img src=x onerror="window.__xss=1">Evil'
    evil_text = ("The vole festival <script>window.__xss=2</script> drew crowds on Sunday. "
                 "Organisers said <b onmouseover=\"window.__xss=3\">bold</b> claims were false.")
    page.goto(server + "/")
    add_by_paste(page, evil_title, evil_text)
    ask(page, "When was the vole festival?")
    first = page.locator("#results .result").first
    assert first.locator("h3").inner_text() == evil_title
    assert "<script>window.__xss=2</script>" in first.locator(".passage").inner_text()
    assert page.locator("#answer-region img").count() == 0 and page.locator("#answer-region script").count() == 0
    ask(page, '<script>window.__xss=4</script> vole festival')
    page.goto(server + "/?q=" + "%3Cimg%20src%3Dx%20onerror%3D%22window.__xss%3D5%22%3E%20vole")
    page.wait_for_selector("#results .result")
    assert page.locator("#answer-region img").count() == 0
    page.locator("#results .context").first.click()
    page.wait_for_selector("article h1")
    assert page.locator("article h1").inner_text() == evil_title
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_phone_width_and_keyboard(browser, server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(server + "/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"
        page.keyboard.type("Which country did Russia invade in 2008?")  # the question box has the focus
        page.keyboard.press("Enter")
        page.wait_for_selector("#results .result mark")
        assert "Georgia" in page.locator("#results .result mark").first.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        for field in ("Your question", "Title", "Author", "Date", "Publication", "Article text"):
            assert page.get_by_label(field).count() == 1, f"no label for {field}"
        screenshot(page, "phone-results")
    finally:
        context.close()


def test_the_api_docs_page_loads_with_no_other_host(page, server):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(server + "/api/docs")
    page.wait_for_selector("#swagger-ui .info .title")
    assert "qa: ask questions of news articles" in page.locator("#swagger-ui .info .title").inner_text()
    page.get_by_text("/api/ask", exact=True).first.wait_for()
    assert requested and all(url.startswith(server) or url.startswith("data:") for url in requested), requested
    screenshot(page, "api-docs")


def test_a_long_article_shows_its_progress_and_the_corpus_folder_is_re_read(page, served):
    base, root = served
    page.goto(base + "/")
    text = "\n\n".join(f"Section {n} of the harbour survey counted {n % 9 + 2} moorings at pier {n}. "
                         f"Pier {n} was last dredged in {1990 + n % 30}." for n in range(160))
    page.get_by_label("Title").fill("Harbour Survey")
    page.get_by_label("Article text").fill(text)
    page.get_by_role("button", name="Add article").click()
    page.locator("#add-status", has_text=re.compile(r"of \d+ passages")).wait_for()
    progress = page.locator("#add-progress")
    assert progress.is_visible() and int(progress.get_attribute("max")) > 100
    page.wait_for_selector("#add-status .success", timeout=300_000)
    assert "Added “Harbour Survey”" in page.locator("#add-status").inner_text()

    (root / "corpus" / "ferry-timetable.txt").write_text(
        "Ferry timetable changes\n\nThe night ferry to Skerry Island will leave at 22:40 from Monday. "
        "The harbour master said the change follows the new tide tables.", encoding="utf-8")
    page.get_by_role("button", name="Re-read the corpus folder").click()
    page.wait_for_selector("#reindex-status .success")
    assert "1 added" in page.locator("#reindex-status").inner_text()
    assert page.locator("#article-list", has_text="Ferry timetable changes").count() == 1
    screenshot(page, "page-after-jobs")
