"""Safe fetching against a local site: what is refused is refused before any request is sent, every
redirect is checked again, and each failure is a clear error."""

import pytest

from qa.config import FetchConfig
from qa.errors import QAError
from qa.sources import Fetcher
from web_site import Route, Site

PAGE = b"<html><body><article><h1>Harbour fire</h1><p>A fire broke out at the harbour.</p></article></body></html>"


@pytest.fixture
def site():
    site = Site()
    site.routes["/page"] = Route(PAGE)
    yield site
    site.close()


def fetcher(**config):
    return Fetcher(FetchConfig(**config))


def code_of(call) -> str:
    with pytest.raises(QAError) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize("url", [
    "{base}/page", "http://localhost:{port}/page", "http://[::1]:{port}/page", "http://0.0.0.0:{port}/page",
    "http://10.0.0.7/page", "http://192.168.1.1/", "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/", "http://[::ffff:127.0.0.1]:{port}/page", "http://100.64.0.1/",
])
def test_private_addresses_are_refused_before_any_request(site, url):
    url = url.format(base=site.base, port=site.port)
    assert code_of(lambda: fetcher().fetch(url, {"text/html"})) == "fetch_refused"
    assert site.requests == []


@pytest.mark.parametrize("url,code", [
    ("file:///etc/passwd", "fetch_refused"), ("ftp://example.com/x", "fetch_refused"),
    ("gopher://example.com/", "fetch_refused"), ("http://user:secret@example.com/", "fetch_refused"),
    ("not a url", "fetch_refused"), ("http://", "invalid_url"), (5, "invalid_field"),
])
def test_other_schemes_and_bad_urls_are_refused(url, code):
    assert code_of(lambda: fetcher().fetch(url, {"text/html"})) == code


def test_an_allowed_network_is_fetched_and_each_redirect_checked_again(site):
    allowed = fetcher(allow=("127.0.0.1/32",))
    assert allowed.fetch(site.base + "/page", {"text/html"}).body == PAGE
    site.routes["/to-v6"] = Route(status=302, location=f"http://[::1]:{site.port}/page")
    site.routes["/to-private"] = Route(status=301, location="http://10.1.2.3/page")
    site.routes["/to-file"] = Route(status=302, location="file:///etc/passwd")
    site.routes["/relative"] = Route(status=302, location="/page")
    for hop in ("/to-v6", "/to-private", "/to-file"):
        assert code_of(lambda: allowed.fetch(site.base + hop, {"text/html"})) == "fetch_refused"
    assert allowed.fetch(site.base + "/relative", {"text/html"}).url == site.base + "/page"
    assert site.paths().count("/page") == 2  # the refused hops were never requested


def test_failures_are_clear_errors(site):
    web = fetcher(allow_private=True, max_bytes=1000, timeout_s=1.0, max_redirects=3)
    site.routes["/loop"] = Route(status=302, location="/loop")
    site.routes["/image"] = Route(b"\x89PNG", content_type="image/png")
    site.routes["/huge"] = Route(b"<p>" + b"x" * 5000 + b"</p>")
    site.routes["/slow"] = Route(PAGE, delay_s=3)
    site.routes["/broken"] = Route(b"oops", status=500, content_type="text/plain")
    assert code_of(lambda: web.fetch(site.base + "/missing", {"text/html"})) == "fetch_failed"
    assert code_of(lambda: web.fetch(site.base + "/broken", {"text/html"})) == "fetch_failed"
    assert code_of(lambda: web.fetch(site.base + "/loop", {"text/html"})) == "fetch_failed"
    assert code_of(lambda: web.fetch(site.base + "/image", {"text/html"})) == "unsupported_type"
    assert code_of(lambda: web.fetch(site.base + "/huge", {"text/html"})) == "too_large"
    assert code_of(lambda: web.fetch(site.base + "/slow", {"text/html"})) == "fetch_failed"
    with pytest.raises(QAError) as caught:
        web.fetch(site.base + "/missing", {"text/html"})
    assert "HTTP 404" in caught.value.message


def test_an_etag_makes_an_unchanged_page_a_304(site):
    site.routes["/feed"] = Route(b"<rss/>", content_type="application/rss+xml", etag='"v1"')
    web = fetcher(allow_private=True)
    first = web.fetch(site.base + "/feed", {"application/rss+xml"})
    assert first.etag == '"v1"' and not first.not_modified
    assert web.fetch(site.base + "/feed", {"application/rss+xml"}, etag=first.etag).not_modified
    assert site.requests[-1][1].get("If-None-Match") == '"v1"'
