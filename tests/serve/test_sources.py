"""Articles by URL and followed feeds, over real HTTP with the real model, against a local site."""

import time

import httpx
import pytest

from helpers import serving
from web_site import Route, Site

ARTICLE = """<html><head><title>Harbour fire | The Gazette</title>
<meta name="author" content="Ruth Okafor"><meta property="article:published_time" content="2025-03-14"></head>
<body><nav><a href="/">Home</a> <a href="/sport">Sport</a> <a href="/weather">Weather</a></nav>
<div class="ad">Buy cheap ferry tickets now! Limited offer!</div>
<article><h1>Fire destroys fish market at Kelby harbour</h1>
<p>A fire destroyed the old fish market at Kelby harbour early on Friday, the fire service said.</p>
<p>Station officer Dana Kerr said forty firefighters fought the blaze for six hours before it was out.</p>
<p>The cause was an electrical fault in a freezer room, investigators found.</p></article>
<section class="comments"><h2>Comments</h2><p>Terrible news, hope everyone is safe!!!</p></section>
<footer>© The Gazette. Privacy. Cookies.</footer></body></html>"""


def story(title: str, sentences: list[str]) -> bytes:
    body = "".join(f"<p>{s}</p>" for s in sentences)
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>".encode()


LIBRARY = ["The Kelby town library will open on Sundays from April, the council announced on Monday.",
           "Councillor Amir Patel said the change would cost about forty thousand pounds a year.",
           "Volunteers from the Friends of Kelby Library will run a reading club for children on Sunday mornings.",
           "The library closed on Sundays in 2011 after budget cuts."]
BRIDGE = ["Engineers closed the Arnside rail bridge on Tuesday after a routine inspection found a cracked bearing.",
          "Trains between Arnside and Grange will be replaced by buses until at least the end of the month.",
          "Network Rail said the repair would need a crane barge brought from Liverpool.",
          "Commuters said the buses added forty minutes to the journey."]
BUSKER = ["A street musician in Kelby raised nine thousand pounds for the lifeboat station by playing for a week.",
          "Jonah Price played the fiddle for twelve hours a day outside the market hall.",
          "The lifeboat crew presented him with a model of their boat on Saturday."]


def rss(items: list[tuple[str, str]]) -> bytes:
    entries = "".join(f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid></item>" for t, link in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Kelby News</title><link>http://x/</link>'
            f"<description>d</description>{entries}</channel></rss>").encode()


@pytest.fixture
def site():
    site = Site()
    yield site
    site.close()


@pytest.fixture
def client(make_service):
    service = make_service(allow_private=True)
    service.sync()
    with serving(service) as base, httpx.Client(base_url=base, timeout=120) as client:
        yield client


def ask(client, question):
    return client.get("/api/ask", params={"q": question, "k": 5}).json()


def test_an_article_by_url_is_read_linked_and_refreshed(client, site):
    site.routes["/news/harbour-fire.html"] = Route(ARTICLE.encode())
    url = site.base + "/news/harbour-fire.html"
    added = client.post("/api/articles", json={"url": url})
    assert added.status_code == 201, added.text
    article_id = added.json()["id"]
    stored = client.get(f"/api/articles/{article_id}").json()
    assert stored["url"] == url and stored["title"] == "Fire destroys fish market at Kelby harbour"
    assert stored["author"] == "Ruth Okafor" and stored["date"] == "2025-03-14"
    for furniture in ("Buy cheap ferry tickets", "Terrible news", "Privacy", "Weather"):
        assert furniture not in stored["text"]
    reply = ask(client, "How many firefighters fought the blaze at Kelby harbour?")
    assert reply["results"][0]["article"]["url"] == url and "forty firefighters" in reply["answer"]["text"]
    page = client.get(f"/articles/{article_id}").text
    assert f'href="{url}"' in page

    again = client.post("/api/articles", json={"url": url})
    assert (again.status_code, again.json()["status"], again.json()["id"]) == (200, "unchanged", article_id)
    site.routes["/news/harbour-fire.html"] = Route(ARTICLE.replace("six hours", "nine hours").encode())
    updated = client.post("/api/articles?wait=false", json={"url": url})
    assert updated.status_code == 202
    for _ in range(600):
        job = client.get(updated.json()["status_url"]).json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert (job["state"], job["result"]["status"], job["result"]["id"]) == ("done", "replaced", article_id)
    assert "nine hours" in client.get(f"/api/articles/{article_id}").json()["text"]


def test_refused_and_failed_fetches_change_nothing(make_service, site):
    site.routes["/page.html"] = Route(ARTICLE.encode())
    site.routes["/photo.jpg"] = Route(b"\xff\xd8", content_type="image/jpeg")
    service = make_service()  # private addresses refused, as by default
    service.sync()
    with serving(service) as base, httpx.Client(base_url=base, timeout=60) as client:
        before = client.get("/api/health").json()
        for url, status, code in ((site.base + "/page.html", 400, "fetch_refused"),
                                  ("http://169.254.169.254/latest/meta-data/", 400, "fetch_refused"),
                                  ("file:///etc/passwd", 400, "fetch_refused"), (17, 400, "invalid_field")):
            response = client.post("/api/articles", json={"url": url})
            assert (response.status_code, response.json()["error"]["code"]) == (status, code)
        assert site.requests == []
        assert client.post("/api/feeds", json={"url": "ftp://example.com/rss"}).json()["error"]["code"] == \
            "fetch_refused"
        assert client.get("/api/health").json() == before
    service.close()
    service = make_service(allow_private=True)
    with serving(service) as base, httpx.Client(base_url=base, timeout=60) as client:
        for path, status, code in (("/photo.jpg", 415, "unsupported_type"), ("/gone.html", 400, "fetch_failed")):
            response = client.post("/api/articles", json={"url": site.base + path})
            assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_a_feed_is_polled_with_its_etag_and_republished_items_are_copies(client, site):
    for name, title, text in (("library", "Library to open on Sundays", LIBRARY),
                              ("bridge", "Rail bridge closed after crack found", BRIDGE),
                              ("busker", "Busker raises lifeboat money", BUSKER)):
        site.routes[f"/news/{name}.html"] = Route(story(title, text))
    # Another outlet runs the bridge story with a new headline and one sentence fewer.
    site.routes["/wire/bridge-copy.html"] = Route(story("Arnside bridge shut", BRIDGE[:3]))
    site.routes["/rss.xml"] = Route(rss([("Library", site.base + "/news/library.html"),
                                         ("Bridge", site.base + "/news/bridge.html")]),
                                    content_type="application/rss+xml", etag='"one"')
    feed = client.post("/api/feeds", json={"url": site.base + "/rss.xml", "every_minutes": 60})
    assert feed.status_code == 201, feed.text
    feed_id = feed.json()["id"]
    polled = client.post(f"/api/feeds/{feed_id}/poll").json()
    assert polled["items_added"] == 2 and polled["last_error"] is None and polled["last_poll"]

    site.routes["/rss.xml"] = Route(rss([("Library", site.base + "/news/library.html"),
                                         ("Busker", site.base + "/news/busker.html"),
                                         ("Bridge again", site.base + "/wire/bridge-copy.html")]),
                                    content_type="application/rss+xml", etag='"two"')
    fetched_before = site.paths().count("/news/library.html")
    polled = client.post(f"/api/feeds/{feed_id}/poll").json()
    assert polled["items_added"] == 4
    assert site.paths().count("/news/library.html") == fetched_before, "an unchanged item was fetched again"
    # the items are fetched by jobs that may still be running: the feed's own request, not the third from last
    feed_requests = [headers for path, headers in site.requests if path == "/rss.xml"]
    assert feed_requests[-1].get("If-None-Match") == '"one"'

    deadline = time.time() + 300
    while time.time() < deadline and any(j["state"] in ("queued", "running")
                                         for j in client.get("/api/jobs").json()["jobs"]):
        time.sleep(0.2)
    results = {j["result"]["id"]: j["result"] for j in client.get("/api/jobs").json()["jobs"] if j["result"]}
    copy = next(r for r in results.values() if r["title"] == "Arnside bridge shut")
    assert copy["status"] == "duplicate"
    assert client.get(f"/api/articles/{copy['duplicate_of']}").json()["url"] == site.base + "/news/bridge.html"
    reply = ask(client, "Why did engineers close the Arnside rail bridge?")
    top = reply["results"][0]
    assert top["article"]["url"] == site.base + "/news/bridge.html"
    assert [c["id"] for c in top["copies"]] == [copy["id"]]

    requests_before = len(site.requests)
    polled = client.post(f"/api/feeds/{feed_id}/poll").json()  # the same ETag: a 304, nothing fetched
    assert len(site.requests) == requests_before + 1 and polled["items_added"] == 4
    assert [f["id"] for f in client.get("/api/feeds").json()["feeds"]] == [feed_id]
    assert client.delete(f"/api/feeds/{feed_id}").status_code == 200
    assert client.get(f"/api/feeds/{feed_id}").status_code == 404
