"""The HTTP API over a real server (waitress on 127.0.0.1) and the real model: every route, every error."""

import json
import re

import httpx
import pytest

from conftest import ENGINES
from helpers import SEED_ID, serving


@pytest.fixture(scope="module", params=ENGINES)
def seed_service(request, seed_service_on):
    """The seed article on each engine: every route runs on both."""
    return seed_service_on(request.param)


@pytest.fixture(scope="module")
def client(seed_service):
    with serving(seed_service) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text


def test_health(client, seed_service):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["articles"] == 1
    assert body["passages"] == body["vectors"] == body["lexical"] > 10
    assert body["engine"] == seed_service.settings.engine and body["vector_index"] == "flat"


def test_ask_post_returns_ranked_passages_with_answer(client):
    response = client.post("/api/ask", json={"question": "What air defense system did Turkey buy?", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["question"] == "What air defense system did Turkey buy?"
    assert body["took_ms"] >= 0
    results = body["results"]
    assert [r["rank"] for r in results] == [1, 2, 3]
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"]
    top = results[0]
    assert "S-400" in top["answer"]
    assert top["answer"] in top["text"]
    assert top["article"] == {"id": SEED_ID, "title": "Analyzing Turkish-Russian Partnership",
                              "author": "Ahmet Mehmet", "date": "2020-11-01", "source": "Crescent International",
                              "url": None}
    assert top["start"] <= top["answer_start"] < top["answer_end"] <= top["end"]


def test_ask_get_matches_post(client):
    get = client.get("/api/ask", params={"q": "How many Russian tourists visited Turkey?", "k": 2}).json()
    post = client.post("/api/ask", json={"question": "How many Russian tourists visited Turkey?", "k": 2}).json()
    assert [r["text"] for r in get["results"]] == [r["text"] for r in post["results"]]
    assert len(get["results"]) == 2
    assert "seven million" in get["results"][0]["answer"]


def test_offsets_point_into_the_article(client):
    result = client.get("/api/ask?q=nuclear+reactors&k=1").json()["results"][0]
    text = client.get(f"/api/articles/{result['article']['id']}").json()["text"]
    assert text[result["start"]:result["end"]] == result["text"]
    assert text[result["answer_start"]:result["answer_end"]] == result["answer"]


@pytest.mark.parametrize("body,code", [
    ({}, "missing_question"),
    ({"question": ""}, "missing_question"),
    ({"question": "   "}, "missing_question"),
    ({"question": 42}, "missing_question"),
    ({"question": "x" * 1001}, "question_too_long"),
    ({"question": "who\ud800"}, "undecodable"),  # an unpaired surrogate, as JSON can carry
    ({"question": "ok", "k": 0}, "invalid_k"),
    ({"question": "ok", "k": 51}, "invalid_k"),
    ({"question": "ok", "k": "many"}, "invalid_k"),
    ({"question": "ok", "k": True}, "invalid_k"),
    ({"question": "ok", "k": 2.5}, "invalid_k"),
])
def test_ask_rejects_bad_input(client, body, code):
    # json.dumps escapes non-ASCII, so even an unpaired surrogate travels as a client could send it
    response = client.post("/api/ask", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert_error(response, 400, code)


@pytest.mark.parametrize("query", ["", "?q=", "?q=ok&k=0", "?q=ok&k=abc", "?k=3"])
def test_ask_get_rejects_bad_input(client, query):
    response = client.get("/api/ask" + query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("missing_question", "invalid_k")


def post_raw(client, path, data, content_type="application/json"):
    return client.post(path, content=data, headers={"Content-Type": content_type})


def test_malformed_json(client):
    assert_error(post_raw(client, "/api/ask", "{not json"), 400, "malformed_json")
    assert_error(post_raw(client, "/api/ask", "[1, 2]"), 400, "malformed_json")
    assert_error(post_raw(client, "/api/ask", "[" * 100_000), 400, "malformed_json")


def test_wrong_content_type(client):
    assert_error(post_raw(client, "/api/ask", "question=hi", "application/x-www-form-urlencoded"),
                 415, "unsupported_media_type")


def test_unknown_route_and_method(client):
    assert_error(client.get("/api/nope"), 404, "not_found")
    assert_error(client.delete("/api/ask"), 405, "method_not_allowed")
    assert_error(client.post("/api/health"), 405, "method_not_allowed")


def test_oversized_body_is_413(client, seed_service):
    big = b'{"question": "' + b"x" * (seed_service.settings.max_upload_bytes + 10) + b'"}'
    assert_error(post_raw(client, "/api/ask", big), 413, "too_large")


def test_unexpected_errors_are_json_without_traceback(client, seed_service, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")
    monkeypatch.setattr(seed_service.searcher, "search", boom)
    response = client.post("/api/ask", json={"question": "anything"})
    assert_error(response, 500, "internal_error")
    assert "secret internal detail" not in response.text


def test_web_form_renders_results_server_side(client):
    page = client.get("/?q=Who+is+building+Turkey%27s+nuclear+reactors%3F").text
    assert re.search(r'<form [^>]*method="get"', page) and 'name="q"' in page
    assert "<mark>Russia is also building Turkey\u2019s two nuclear reactors.</mark>" in page
    assert "Analyzing Turkish-Russian Partnership" in page


def test_web_form_escapes_the_question(client):
    page = client.get("/", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
