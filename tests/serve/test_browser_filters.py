"""The page's filters, grouping and date order, and its article list (paged, searched, sorted,
deleted with the token), in Chromium with JavaScript on and off, over a real server with a token."""

import random
import re

import pytest

from browsing import browser, page, screenshot  # noqa: F401 (fixtures)
from helpers import http, start_server, stop

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOKEN = "s3cret"
SOURCES = ("Harbour Gazette", "Valley Times", "City Ledger")
QUESTION = "How much would the project cost?"


WORDS = ("ferries", "lorries", "anglers", "bakers", "nurses", "tenants", "piers", "kiosks", "canals", "mills",
         "gardens", "benches", "orchards", "tunnels", "chapels", "lanterns", "quarries", "meadows", "cyclists", "farmers")


def story(i: int) -> dict:
    """Stories alike in shape but each with its own details (near-identical ones would be copies)."""
    rng = random.Random(i)
    details = " ".join(f"Earlier the {a} and the {b} near the {c} were {d} checked by {e}."
                       for a, b, c, d, e in (rng.sample(WORDS, 5) for _ in range(2)))
    return {"id": f"plan-{i}", "title": f"Plan {i:02d} for the Harbour", "author": "Sam Lee",
            "date": f"2024-{1 + i % 6:02d}-{10 + i % 9:02d}", "source": SOURCES[i % 3],
            "text": f"The council approved harbour plan {i} on Monday. The project would cost {i + 3} million "
                    f"euros. Residents welcomed the decision. {details}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process, base = start_server(tmp_path_factory.mktemp("filters-page"), env={"QA_API_TOKEN": TOKEN})
    try:
        for i in range(24):
            status, body = http("POST", base + "/api/articles", story(i), timeout=120,
                                headers={"Authorization": f"Bearer {TOKEN}"})
            assert status == 201, body
        yield base
    finally:
        stop(process)


def bylines(page) -> list[str]:
    return page.locator("#results .result > .meta:not(.matches)").all_inner_texts()


def test_filters_grouping_and_order_with_javascript_off(browser, server):  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server + "/")
        page.get_by_label("Your question").fill(QUESTION)
        page.locator("#source-filter").select_option("Valley Times")
        page.locator("#from").fill("2024-02-01")
        page.locator("#to").fill("2024-05-31")
        page.locator("#sort").select_option("date")
        page.get_by_label("One passage per article").check()
        page.get_by_role("button", name="Ask", exact=True).click()
        page.wait_for_selector("#results .result")
        assert re.search(r"source=Valley\+Times.*from=2024-02-01.*to=2024-05-31.*sort=date.*group=article", page.url)
        lines = bylines(page)
        assert lines and all("Valley Times" in line for line in lines), lines
        dates = [re.search(r"2024-\d\d-\d\d", line).group() for line in lines]
        assert dates == sorted(dates, reverse=True) and all("2024-02-01" <= d <= "2024-05-31" for d in dates)
        assert page.locator("#results .matches").count() == len(lines)  # grouped: each article's matches
        assert page.locator("#source-filter").input_value() == "Valley Times"  # the controls keep their values
        page.locator("a.chip", has_text="City Ledger").click()  # a facet chip is a plain link
        page.wait_for_selector("#results .result")
        assert all("City Ledger" in line for line in bylines(page))
        screenshot(page, "filters-no-js")
        page.goto(server + "/articles/plan-7")  # the reader page: this article only
        page.get_by_label("Search this article only").fill(QUESTION)
        page.get_by_label("Search this article only").press("Enter")
        page.wait_for_selector("#results .result")
        assert page.locator("#results .result h3").all_inner_texts() == ["Plan 07 for the Harbour"]
        assert "Only in" in page.locator(".only").inner_text()
    finally:
        context.close()


def test_filters_and_facets_with_javascript_on(page, server):  # noqa: F811
    page.goto(server + "/")
    page.get_by_label("Your question").fill(QUESTION)
    with page.expect_response(lambda r: "/results?" in r.url):
        page.get_by_label("Your question").press("Enter")
    page.wait_for_selector("#results .result")
    assert {s for line in bylines(page) for s in SOURCES if s in line} != {"Harbour Gazette"}
    with page.expect_response(lambda r: "/results?" in r.url and "source=Harbour" in r.url):
        page.locator("#source-filter").select_option("Harbour Gazette")  # a change asks again
    page.locator("#answer-region:not([aria-busy])").wait_for()
    assert all("Harbour Gazette" in line for line in bylines(page)), bylines(page)
    assert "source=Harbour+Gazette" in page.url  # the address says what is shown
    with page.expect_response(lambda r: "/results?" in r.url and "from=2024-04-01" in r.url):
        page.locator("a.chip", has_text="2024-04").click()
    page.locator("#answer-region:not([aria-busy])").wait_for()
    lines = bylines(page)
    assert lines and all("2024-04-" in line and "Harbour Gazette" in line for line in lines), lines
    assert page.locator("#from").input_value() == "2024-04-01" and page.locator("#to").input_value() == "2024-04-30"
    with page.expect_response(lambda r: "/results?" in r.url and "sort=date" in r.url):
        page.locator("#sort").select_option("date")
    page.locator("#answer-region:not([aria-busy])").wait_for()
    screenshot(page, "filters-js")


@pytest.mark.parametrize("javascript", [True, False])
def test_the_article_list_pages_searches_and_sorts(browser, server, javascript):  # noqa: F811
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    try:
        page.goto(server + "/")
        items = page.locator("#article-list li")
        assert items.count() == 20 and "1–20 of 25" in page.locator(".pager").inner_text()
        assert "Harbour Gazette · 2024-01-10" in items.nth(1).inner_text()  # source and date shown
        page.get_by_role("link", name="Next").click()
        page.wait_for_selector("text=21–25 of 25")
        assert items.count() == 5
        page.get_by_label("Find an article").fill("plan 1")
        page.get_by_role("button", name="Find").click()
        page.wait_for_selector("text=1–10 of 10")  # Plan 10 to Plan 19
        page.get_by_label("List order").select_option("date")
        page.get_by_label("Find an article").fill("")
        page.get_by_role("button", name="Find").click()
        page.wait_for_selector("text=1–20 of 25")
        dates = re.findall(r"20\d\d-\d\d-\d\d", page.locator("#article-list").inner_text())
        assert dates == sorted(dates, reverse=True) and len(dates) == 20
        first = items.first.locator("a").get_attribute("href")
        assert re.fullmatch(r"/articles/[\w-]+", first)
    finally:
        context.close()


def test_delete_needs_the_token_and_works_without_javascript(browser, server):  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server + "/?list_title=Plan+23")
        page.get_by_role("button", name="Delete Plan 23 for the Harbour").click()
        assert "token" in page.locator("#articles-region .error").inner_text().lower()
        assert http("GET", server + "/api/articles/plan-23")[0] == 200  # refused: nothing changed
        page.goto(server + "/?list_title=Plan+23")
        page.locator("#delete-token").fill(TOKEN)
        page.get_by_role("button", name="Delete Plan 23 for the Harbour").click()
        assert "Removed “Plan 23 for the Harbour”" in page.locator("#articles-region .success").inner_text()
        assert http("GET", server + "/api/articles/plan-23")[0] == 404
        assert page.locator("#article-list", has_text="Plan 23").count() == 0
        screenshot(page, "article-list-deleted")
    finally:
        context.close()
