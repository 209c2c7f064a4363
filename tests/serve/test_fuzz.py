"""Fuzzing the ask and upload routes with Hypothesis, over real HTTP with the real model: whatever is sent,
the answer is a 2xx or a 4xx with the API's error shape (never a 500, never a traceback), and a write
that answers an error has changed nothing. Bounded: a fixed number of examples per route."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import SEED, minimal_pdf, serving
from qa.config import Settings
from qa.service import QAService

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ANSWERS = {200, 201, 400, 404, 409, 413, 415}


@pytest.fixture(scope="module")
def client(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "corpus").mkdir()
    (root / "corpus" / SEED.name).write_bytes(SEED.read_bytes())
    service = QAService(Settings(corpus_dir=root / "corpus", index_dir=root / "index"), encoder=embedder)
    service.sync()
    with serving(service) as base, httpx.Client(base_url=base, timeout=120) as client:
        yield client
    service.close()


def check(response: httpx.Response) -> None:
    assert response.status_code in ANSWERS, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"]


def counts(client) -> dict:
    stats = client.get("/api/health").json()
    return {key: stats[key] for key in ("articles", "passages", "vectors", "lexical")}


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)  # what a URL or a form can carry
json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3), max_leaves=8)


@FUZZ
@given(question=st.one_of(text, st.text(max_size=1200), json_value), k=st.one_of(st.integers(-3, 60), json_value))
def test_ask_answers_anything_with_a_2xx_or_a_4xx(client, question, k):
    check(client.post("/api/ask", json={"question": question, "k": k}))
    if isinstance(question, str) and question == question.encode("utf-8", "ignore").decode():  # URL-safe text
        check(client.get("/api/ask", params={"q": question, "k": str(k)}))


def html_page(parts: list[str]) -> bytes:
    return ("<html><head><meta charset='" + parts[0] + "'></head><body>" + "".join(parts[1:]) + "</body></html>").encode()


html_part = st.one_of(text, st.sampled_from(['<div class="ad">', "</div>", "<p>", "</p>", "<article>", "<nav>",
                                              "<script>", "<!--", "<br>", "<h2>", "&amp;", "&#0;", "<![CDATA["]))
file_bytes = st.one_of(
    st.binary(max_size=3000),
    text.map(str.encode),
    st.lists(html_part, min_size=1, max_size=40).map(html_page),
    text.map(minimal_pdf),
    st.binary(max_size=200).map(lambda junk: minimal_pdf("x")[:-40] + junk),
)


@FUZZ
@given(data=file_bytes, suffix=st.sampled_from([".txt", ".md", ".html", ".htm", ".pdf", ".docx", ""]),
       fields=st.dictionaries(st.sampled_from(["id", "title", "author", "date", "source"]), text, max_size=3))
def test_upload_answers_anything_and_a_refusal_changes_nothing(client, data, suffix, fields):
    before = counts(client)
    response = client.post("/api/articles", files={"file": ("fuzz" + suffix, data)}, data=fields)
    check(response)
    if response.status_code >= 400:
        assert counts(client) == before


@FUZZ
@given(body=st.dictionaries(st.sampled_from(["text", "title", "author", "date", "source", "id"]), json_value,
                            max_size=6))
def test_json_add_answers_anything_and_a_refusal_changes_nothing(client, body):
    before = counts(client)
    response = client.post("/api/articles", content=json.dumps(body), headers={"Content-Type": "application/json"})
    check(response)
    if response.status_code >= 400:
        assert counts(client) == before
