"""Adding, replacing, listing and removing articles over real HTTP with the real model: formats,
guards and errors."""

import io
import json

import httpx
import pytest

from helpers import SEED_ID, minimal_pdf, serving

BRIDGE = {"title": "Bridge Reopens", "author": "Sam Lee", "date": "2024-03-01", "source": "City News",
          "text": "The old Kelvin bridge over the river reopened on Friday after two years of repairs. "
                  "Traffic is expected to return to normal within a week, the mayor said."}


@pytest.fixture
def service(make_service, engine):
    service = make_service(**engine.settings)
    service.sync()
    return service


@pytest.fixture
def client(service):
    with serving(service) as base, httpx.Client(base_url=base, timeout=120) as client:
        yield client


def counts(service):
    stats = service.stats()
    return {key: stats[key] for key in ("articles", "passages", "lexical", "vectors")}


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def post_raw(client, path, data, content_type="application/json"):
    return client.post(path, content=data, headers={"Content-Type": content_type})



def test_add_json_is_searchable_at_once(client, service):
    before = counts(service)
    response = client.post("/api/articles", json=BRIDGE)
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": "bridge-reopens", "status": "added", "passages": body["passages"], "title": "Bridge Reopens"}
    assert body["passages"] >= 1
    after = counts(service)
    assert after["articles"] == before["articles"] + 1
    assert after["passages"] == after["lexical"] == after["vectors"] == before["passages"] + body["passages"]
    top = client.post("/api/ask", json={"question": "When did the Kelvin bridge reopen?"}).json()["results"][0]
    assert top["article"]["id"] == "bridge-reopens"
    assert "reopened on Friday" in top["answer"]
    assert top["article"]["author"] == "Sam Lee"


def test_identical_add_is_a_no_op_without_embedding(client, service, embedder, monkeypatch):
    client.post("/api/articles", json=BRIDGE)
    before = counts(service)

    def refuse(*args, **kwargs):
        raise AssertionError("embedded again")
    monkeypatch.setattr(embedder, "encode_passages", refuse)
    response = client.post("/api/articles", json=BRIDGE)
    assert response.status_code == 200
    assert response.json()["status"] == "unchanged"
    response = client.post("/api/articles", json={**BRIDGE, "id": "bridge-reopens"})
    assert response.json()["status"] == "unchanged"
    assert counts(service) == before


def test_same_title_different_text_gets_its_own_id(client):
    first = client.post("/api/articles", json=BRIDGE).json()
    second = client.post("/api/articles", json={**BRIDGE, "text": "A second story with the same headline. "
                                                                  "It is about a different bridge entirely."})
    assert second.status_code == 201
    assert second.json()["id"] == first["id"] + "-2"


def test_replace_leaves_no_old_passage_anywhere(client, service):
    client.post("/api/articles", json={**BRIDGE, "id": "bridge"})
    lexical = service.engine.lexical
    old_ids = {pid for pid, _ in lexical.search(lexical.terms("Kelvin"), 10)}
    assert old_ids
    response = client.post("/api/articles", json={"id": "bridge", "title": "Ferry Returns",
                                                  "text": "The harbour ferry returned to service on Monday. "
                                                          "Commuters welcomed the shorter crossing."})
    assert response.status_code == 200 and response.json()["status"] == "replaced"
    assert not lexical.search(lexical.terms("Kelvin"), 10), "old rows still in the lexical index"
    old_vector = service.encoder.start_query(BRIDGE["title"] + "\n" + BRIDGE["text"])()
    assert not old_ids & {pid for pid, _ in service.engine.vectors.search(old_vector, 50)}, "old vectors still there"
    c = counts(service)
    assert c["passages"] == c["lexical"] == c["vectors"]
    for question in ("Kelvin bridge reopened repairs", "When did the bridge reopen?"):
        for r in client.get("/api/ask", params={"q": question, "k": 10}).json()["results"]:
            assert "Kelvin" not in r["text"]
    assert client.get("/api/articles/bridge").json()["title"] == "Ferry Returns"


def test_delete_removes_everywhere(client, service):
    client.post("/api/articles", json={**BRIDGE, "id": "bridge"})
    before = counts(service)
    response = client.delete("/api/articles/bridge")
    assert response.status_code == 200
    assert response.json()["status"] == "removed"
    after = counts(service)
    assert after["articles"] == before["articles"] - 1
    assert after["passages"] == after["lexical"] == after["vectors"] < before["passages"]
    for r in client.get("/api/ask", params={"q": "Kelvin bridge reopened", "k": 10}).json()["results"]:
        assert r["article"]["id"] != "bridge"
    assert_error(client.delete("/api/articles/bridge"), 404, "article_not_found")
    assert_error(client.get("/api/articles/bridge"), 404, "article_not_found")
    page = client.get("/articles/bridge")  # a stale "read in context" link
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "no article with id" in page.text


def test_list_and_read(client):
    for n in range(3):
        client.post("/api/articles", json={"title": f"Note {n}", "text": f"This is note number {n}. It is short."})
    page = client.get("/api/articles?offset=1&limit=2").json()
    assert page["total"] == 4 and page["offset"] == 1 and page["limit"] == 2
    assert len(page["articles"]) == 2
    assert {"id", "title", "author", "date", "source", "passages"} <= set(page["articles"][0])
    one = client.get("/api/articles/turkish-russian-partnership").json()
    assert one["title"] == "Analyzing Turkish-Russian Partnership" and one["passages"] > 10
    assert one["text"].startswith("Analyzing Turkish-Russian Partnership")
    assert_error(client.get("/api/articles?limit=0"), 400, "invalid_limit")
    assert_error(client.get("/api/articles?limit=1000"), 400, "invalid_limit")
    assert_error(client.get("/api/articles?offset=-1"), 400, "invalid_offset")
    assert_error(client.get("/api/articles?offset=x"), 400, "invalid_offset")
    assert_error(client.get("/api/articles?offset=99999999999999999999"), 400, "invalid_offset")


@pytest.mark.parametrize("filename,data,expect", [
    ("story.txt", b"Harbour Storm\n\nBy Ann Fox\n\nA storm closed the harbour on Sunday. Dozens of boats stayed in port.",
     "storm closed the harbour"),
    ("story.md", b"# Harbour Storm\n\nA storm closed the **harbour** on Sunday. Dozens of boats stayed in port.",
     "storm closed the harbour on Sunday"),  # Markdown read as Markdown: no markup in the text
    ("story.html", b"<html><head><title>Harbour Storm</title><script>var x='hidden script';</script></head>"
                   b"<body><nav>Home | Sign In</nav><article><h1>Harbour Storm</h1><p>A storm closed the "
                   b"harbour on Sunday.</p><p>Dozens of boats stayed in port.</p></article></body></html>",
     "A storm closed the harbour on Sunday."),
    ("story.pdf", minimal_pdf("A storm closed the harbour on Sunday. Dozens of boats stayed in port."),
     "storm closed the harbour"),
])
def test_upload_formats(client, filename, data, expect):
    response = client.post("/api/articles", files={"file": (filename, io.BytesIO(data))}, data={"author": "Desk"})
    assert response.status_code == 201, response.text
    article = client.get(f"/api/articles/{response.json()['id']}").json()
    assert expect in article["text"]
    assert article["author"] == "Desk"
    assert "hidden script" not in article["text"] and "Sign In" not in article["text"]
    top = client.get("/api/ask?q=Why+did+boats+stay+in+port&k=1").json()["results"][0]
    assert top["article"]["id"] == article["id"]


@pytest.mark.parametrize("payload,status,code", [
    ({"title": "x", "text": ""}, 400, "empty_text"),
    ({"title": "x"}, 400, "empty_text"),
    ({"title": "x", "text": "  \n\t "}, 400, "empty_text"),
    ({"title": "x", "text": "... !!! ???"}, 400, "no_sentences"),
    ({"title": "x", "text": "Fine text here.", "id": "../etc/passwd"}, 400, "invalid_id"),
    ({"title": "x", "text": "Fine text here.", "id": "a/b"}, 400, "invalid_id"),
    ({"title": "x", "text": "Fine text here.", "id": "has space"}, 400, "invalid_id"),
    ({"title": 5, "text": "Fine text here."}, 400, "invalid_field"),
    ({"title": "x", "text": "Fine text.\u0000 Hidden after a NUL."}, 400, "undecodable"),
    ({"title": "x\udc00", "text": "Fine text here."}, 400, "undecodable"),
    ({"title": "x", "text": ["not", "a", "string"]}, 400, "empty_text"),
    ({"title": "x", "text": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpams=\n" * 40}, 400, "not_prose"),
])
def test_bad_articles_are_refused_and_change_nothing(client, service, payload, status, code):
    before = counts(service)
    assert_error(post_raw(client, "/api/articles", json.dumps(payload)), status, code)
    assert counts(service) == before


def test_bad_uploads(client, service):
    before = counts(service)
    upload = {"file": ("x.txt", io.BytesIO(b"caf\xe9 cr\xe8me br\xfbl\xe9e is lovely."))}
    assert_error(client.post("/api/articles", files=upload), 400, "undecodable")
    upload = {"file": ("x.docx", io.BytesIO(b"PK\x03\x04 binary"))}
    assert_error(client.post("/api/articles", files=upload), 415, "unsupported_type")
    upload = {"file": ("x.pdf", io.BytesIO(b"%PDF-1.4 garbage"))}
    assert client.post("/api/articles", files=upload).status_code == 400
    assert_error(post_raw(client, "/api/articles", "plain", "text/plain"), 415, "unsupported_media_type")
    assert_error(post_raw(client, "/api/articles", "{oops"), 400, "malformed_json")
    hexdump = "\n".join(f"{at:08x}: 4865 6c6c 6f20 776f 726c 6421 0a00" for at in range(0, 4000, 16)).encode()
    assert_error(client.post("/api/articles?wait=false", files={"file": ("dump.txt", io.BytesIO(hexdump))}),
                 400, "not_prose")
    assert_error(client.get("/api/articles/a..b"), 400, "invalid_id")
    assert client.delete("/api/articles/a/b").status_code in (404, 405)
    assert counts(service) == before


def secured(make_service, **settings):
    """A client of a server over a fresh service with these settings."""
    service = make_service(corpus_files=(), **settings)
    with serving(service) as base, httpx.Client(base_url=base, timeout=120) as client:
        yield service, client


@pytest.fixture
def small(make_service):
    yield from secured(make_service, max_upload_bytes=2000)


@pytest.fixture
def tokened(make_service):
    yield from secured(make_service, api_token="s3cret")


@pytest.fixture
def exposed(make_service):
    yield from secured(make_service, host="0.0.0.0")


def test_body_over_the_limit_is_413(small):
    service, client = small
    response = client.post("/api/articles", json={"title": "big", "text": "Word. " * 1000})
    assert_error(response, 413, "too_large")
    page = client.post("/", data={"title": "big", "text": "Word. " * 1000})  # the page answers as a page
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert "over the limit of 2000 bytes" in page.text
    assert service.stats()["articles"] == 0


def test_token_guards_writes_but_not_reads(tokened):
    _, client = tokened
    assert_error(client.post("/api/articles", json=BRIDGE), 401, "unauthorized")
    response = client.post("/api/articles", json=BRIDGE, headers={"Authorization": "Bearer wrong"})
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    ok = client.post("/api/articles", json=BRIDGE, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 201
    assert client.get("/api/articles").status_code == 200
    assert client.get("/api/ask?q=bridge").status_code == 200
    assert_error(client.delete("/api/articles/bridge-reopens"), 401, "unauthorized")
    assert client.delete("/api/articles/bridge-reopens", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_no_token_means_no_writes_off_loopback(exposed):
    _, client = exposed
    assert_error(client.post("/api/articles", json=BRIDGE), 403, "writes_disabled")
    assert client.get("/api/health").status_code == 200


def test_writes_from_another_site_are_refused(client, service):
    before = counts(service)
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},  # a sandboxed frame
                    {"Host": "rebound.example:8000"}):  # a DNS-rebinding page
        response = client.post("/api/articles", json=BRIDGE, headers=headers)
        assert_error(response, 403, "cross_origin")
    assert counts(service) == before
    same = client.post("/api/articles", json=BRIDGE, headers={"Origin": str(client.base_url).rstrip("/")})
    assert same.status_code == 201


def test_web_form_adds_and_reports(client, service):
    response = client.post("/", data={"title": "Form Story", "text": "Pasted into the page form. It has two sentences."},
                           files={"file": ("", b"")})
    assert response.status_code == 201
    page = response.text
    assert "Added “Form Story”. You can ask about it now." in page
    response = client.post("/", data={"title": "Empty", "text": "   "}, files={"file": ("", b"")})
    assert response.status_code == 400
    assert "paste the article text or choose a file" in response.text


def test_web_form_takes_a_paste_as_large_as_an_upload(client, service):
    # Flask caps a form field at 500 kB unless told otherwise; the limit is the upload limit.
    text = "Pasted into the page form." + " " * 600_000 + "It has two sentences."
    response = client.post("/", data={"title": "Long Paste", "text": text}, files={"file": ("", b"")})
    assert response.status_code == 201, response.text[:300]
    assert "Long Paste" in response.text


def test_an_article_from_the_corpus_folder_changes_only_with_its_file(client, service, tmp_path):
    seed = SEED_ID
    before = counts(service)
    response = client.delete(f"/api/articles/{seed}")
    assert_error(response, 409, "corpus_article")
    message = response.json()["error"]["message"]
    assert "the file corpus/turkish-russian-partnership.txt: delete the file" in message
    other = {"id": seed, "title": "Another Text", "text": "A different text under the seed article's id. It is refused."}
    assert_error(client.post("/api/articles", json=other), 409, "corpus_article")
    assert counts(service) == before and service.article(seed)["origin"] == "corpus"
    # the same text again changes nothing and is no conflict
    same = service.article(seed)
    again = client.post("/api/articles", json={k: same[k] for k in ("id", "title", "author", "date", "source", "text")})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    # the file goes: so does the article
    for file in (tmp_path / "corpus").iterdir():
        file.unlink()
    assert service.sync().removed == 1 and counts(service)["articles"] == 0
