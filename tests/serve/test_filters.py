"""Filters, grouping, date order and facets over real HTTP, the real model and real engines, on 300
articles from five sources (benchmarks/newsroom.py); and through the CLI, both with and without a server."""

import json
import sys
from collections import Counter

import httpx
import pytest

from conftest import ENGINES, EngineUnderTest
from helpers import ROOT, serving
from qa.serve.backends import record_server
from qa.serve.cli import main

sys.path.insert(0, str(ROOT / "benchmarks"))
from newsroom import NEEDLE, SOURCES, articles  # noqa: E402  (shared with the benchmark)

COST = "How much would the project cost?"
STORIES = articles()


def satisfies(article: dict, filters: dict) -> bool:
    """Whether an article (as a result carries it) is one ``filters`` (the API's form) allows."""
    def among(field: str, value) -> bool:
        wanted = filters.get(field)
        if wanted is None:
            return True
        wanted = [wanted] if isinstance(wanted, str) else wanted
        return value is not None and value.lower() in [w.lower() for w in wanted]

    date = article["date"]
    return (among("source", article["source"]) and among("author", article["author"])
            and among("article", article["id"])
            and (not filters.get("date_from") or (date is not None and date >= filters["date_from"]))
            and (not filters.get("date_to") or (date is not None and date <= filters["date_to"])))


@pytest.fixture(scope="module", params=ENGINES)
def newsroom(request, tmp_path_factory, embedder):
    from qa.config import Settings
    from qa.service import QAService

    root = tmp_path_factory.mktemp("newsroom")
    (root / "corpus").mkdir()
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    service = QAService(settings.with_(**EngineUnderTest.of(request.param).settings), encoder=embedder)
    service.add_many(STORIES)
    yield service
    service.close()


@pytest.fixture(scope="module")
def client(newsroom):
    with serving(newsroom) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client


def ask(client, filters, question=COST, k=10, **options):
    response = client.post("/api/ask", json={"question": question, "k": k, "filters": filters, **options})
    assert response.status_code == 200, response.text
    return response.json()


FILTERS = [
    {"source": "Valley Times"},
    {"source": ["harbour gazette", "City Ledger"]},  # any case
    {"author": "Dev Patel"},
    {"author": ["Ana Silva", "Eva Novak"]},
    {"article": ["story-3", "story-40", "story-41"]},
    {"date_from": "2024-11-01"},
    {"date_to": "2024-02-10"},
    {"date_from": "2024-05-01", "date_to": "2024-05-31"},
    {"source": "Northern Post", "date_from": "2024-03-01", "date_to": "2024-08-31"},
    {"source": ["Valley Times", "Evening Courier"], "author": "Ben Okafor", "date_to": "2024-09-30"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: json.dumps(f))
def test_every_result_satisfies_its_filter(client, filters):
    allowed = [a for a in STORIES if satisfies({"id": a.id, "source": a.source, "author": a.author,
                                                "date": a.date}, filters)]
    body = ask(client, filters)
    results = body["results"]
    assert len(results) == min(10, len(allowed)), "a filter trims nothing away: k results whenever k are allowed"
    assert all(satisfies(r["article"], filters) for r in results), [r["article"] for r in results]
    if body["answer"]:
        assert satisfies(body["answer"]["article"], filters)


def test_get_parameters_are_the_same_filter(client):
    filters = {"source": ["Valley Times", "City Ledger"], "date_from": "2024-04-01", "date_to": "2024-10-31"}
    got = client.get("/api/ask", params=[("q", COST), ("k", 8), ("source", "Valley Times"), ("source", "City Ledger"),
                                         ("from", "2024-04-01"), ("to", "2024-10-31")])
    assert got.status_code == 200, got.text
    assert [r["text"] for r in got.json()["results"]] == [r["text"] for r in ask(client, filters, k=8)["results"]]
    assert all(satisfies(r["article"], filters) for r in got.json()["results"])


def test_a_date_bound_leaves_undated_articles_out(client):
    undated = next(a for a in STORIES if a.date is None)
    assert [r["article"]["id"] for r in ask(client, {"article": undated.id}, k=3)["results"]] == [undated.id]
    assert ask(client, {"article": undated.id, "date_from": "2000-01-01"})["results"] == []


def test_the_one_allowed_article_is_found_though_it_ranks_below_the_unfiltered_top_100(client, newsroom):
    unfiltered = {hit.passage.article_id for hit in newsroom.search(COST, 100)}
    assert NEEDLE.id not in unfiltered, "the needle must be out of reach of a post-filter for this test to mean anything"
    results = ask(client, {"article": NEEDLE.id})["results"]
    assert results and {r["article"]["id"] for r in results} == {NEEDLE.id}
    assert "hives" in results[0]["text"]


def test_group_by_article_keeps_each_articles_best_passage_and_counts_its_matches(client):
    question = "What did the council decide about the harbour plan?"
    grouped = ask(client, None, question, k=5, group="article")["results"]
    ungrouped = ask(client, None, question, k=20)["results"]  # the passages the grouping ranked
    ids = [r["article"]["id"] for r in grouped]
    assert len(ids) == len(set(ids)) == 5
    counts = Counter(r["article"]["id"] for r in ungrouped)
    assert [r["matches"] for r in grouped] == [counts[i] for i in ids]
    first_of_each = list(dict.fromkeys(r["article"]["id"] for r in ungrouped))[:5]
    assert ids == first_of_each  # in order of each article's best passage
    assert [r["rank"] for r in grouped] == [1, 2, 3, 4, 5]


def test_sort_by_date_orders_the_same_results_newest_first(client):
    by_relevance = ask(client, {"source": "City Ledger"}, k=10)["results"]
    by_date = ask(client, {"source": "City Ledger"}, k=10, sort="date")["results"]
    assert sorted(r["text"] for r in by_date) == sorted(r["text"] for r in by_relevance)
    dates = [r["article"]["date"] or "" for r in by_date]
    assert dates == sorted(dates, reverse=True)
    assert [r["rank"] for r in by_date] == list(range(1, 11))


def test_facets_count_the_stored_articles_by_source_and_month(client):
    filters = {"source": "Valley Times", "date_from": "2024-03-01", "date_to": "2024-06-30"}
    facets = ask(client, filters, facets=True)["facets"]
    listed = client.get("/api/articles", params={"limit": 100, "offset": 0}).json()["total"]
    stored = [a for offset in range(0, listed, 100)
              for a in client.get("/api/articles", params={"limit": 100, "offset": offset}).json()["articles"]]
    assert len(stored) == len(STORIES)
    in_dates = [a for a in stored if a["date"] and "2024-03-01" <= a["date"] <= "2024-06-30"]
    # the source facet counts as if the source were not chosen, the months as if the dates were not
    assert {f["value"]: f["count"] for f in facets["source"]} == Counter(a["source"] for a in in_dates)
    assert set(SOURCES) == {f["value"] for f in facets["source"]}
    of_source = [a for a in stored if a["source"] == "Valley Times" and a["date"]]
    assert {f["value"]: f["count"] for f in facets["month"]} == Counter(a["date"][:7] for a in of_source)
    assert "facets" not in ask(client, filters)


@pytest.mark.parametrize("filters, field", [
    ({"publication": "Valley Times"}, "publication"),
    ({"source": 7}, "source"),
    ({"source": []}, "source"),
    ({"author": ["Ana Silva", None]}, "author"),
    ({"article": ""}, "article"),
    ({"date_from": "2024-02-30"}, "date_from"),
    ({"date_to": "31.01.2024"}, "date_to"),
    ({"date_from": 20240101}, "date_from"),
    ({"date_from": "2024-06-01", "date_to": "2024-05-01"}, "date_from"),
    ("Valley Times", "filters"),
    (["source"], "filters"),
])
def test_a_bad_filter_is_a_400_naming_the_field_and_changes_nothing(client, filters, field):
    before = client.get("/api/health").json()
    response = client.post("/api/ask", json={"question": COST, "filters": filters})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_filter" and field in error["message"], error
    assert client.get("/api/health").json() == before


@pytest.mark.parametrize("params, code", [
    ([("from", "2024-1-5")], "invalid_filter"),
    ([("from", "2024-06-01"), ("to", "2024-05-01")], "invalid_filter"),
    ([("group", "source")], "invalid_group"),
    ([("sort", "oldest")], "invalid_sort"),
])
def test_bad_get_parameters_are_400s(client, params, code):
    response = client.get("/api/ask", params=[("q", COST), *params])
    assert response.status_code == 400 and response.json()["error"]["code"] == code, response.text


def test_the_article_list_is_paged_searchable_and_sorted(client):
    first = client.get("/api/articles", params={"limit": 7, "sort": "title"}).json()
    second = client.get("/api/articles", params={"limit": 7, "offset": 7, "sort": "title"}).json()
    titles = [a["title"] for a in first["articles"] + second["articles"]]
    assert titles == sorted(titles, key=str.lower) and first["total"] == len(STORIES)
    found = client.get("/api/articles", params={"title": "BEEKEEPERS", "limit": 5}).json()
    assert found["total"] == 1 and found["articles"][0]["id"] == NEEDLE.id
    newest = client.get("/api/articles", params={"sort": "date", "limit": 20}).json()["articles"]
    assert [a["date"] for a in newest] == sorted((a["date"] for a in newest), reverse=True)
    bad = client.get("/api/articles", params={"sort": "size"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_sort"


def test_the_cli_filters_with_and_without_a_server(newsroom, client, capsys):
    settings = newsroom.settings
    argv = ["ask", COST, "--source", "Evening Courier", "--from", "2024-07-01", "--to", "2024-12-31",
            "--group", "article", "--sort", "date", "--json", "--index-dir", str(settings.index_dir),
            "--corpus-dir", str(settings.corpus_dir), "--engine", settings.engine]
    filters = {"source": "Evening Courier", "date_from": "2024-07-01", "date_to": "2024-12-31"}
    assert main(argv) == 0  # no server recorded: the index itself
    local = json.loads(capsys.readouterr().out)["results"]
    record_server(settings, int(str(client.base_url).rsplit(":", 1)[1]))
    try:
        assert main(argv) == 0  # through the running server's API
        remote = json.loads(capsys.readouterr().out)["results"]
        assert main(["ask", "Who keeps bees?", "--article", NEEDLE.id, "--index-dir", str(settings.index_dir)]) == 0
        assert "Beekeepers Count Their Hives" in capsys.readouterr().out
    finally:
        (settings.index_dir / "server.json").unlink()
    assert [r["text"] for r in local] == [r["text"] for r in remote] and len(local) == 5
    assert all(satisfies(r["article"], filters) for r in local)
    assert len({r["article"]["id"] for r in local}) == 5 and all(r["matches"] >= 1 for r in local)
    dates = [r["article"]["date"] for r in local]
    assert dates == sorted(dates, reverse=True)
    assert main(["ask", COST, "--from", "2024-13-01", "--index-dir", str(settings.index_dir)]) == 2
    assert "date_from" in capsys.readouterr().err
