"""Fetching a page or a feed from the web, safely: a URL a client sends must not reach this
machine's own services, the private network or a cloud metadata endpoint.

Only http and https. Every connection, the first and each one after a redirect, goes to an address
that was checked after DNS resolution: the check happens where the socket is opened (a network
backend under httpx), so a name that resolves to a public address for the check and a private one
for the connection cannot slip through. Loopback, private, link-local (the metadata address
169.254.169.254 among them), multicast, reserved and unspecified addresses are refused unless
``QA_FETCH_ALLOW_PRIVATE=1`` or the address lies in ``QA_FETCH_ALLOW``. A size cap, a time limit
for the whole fetch, a redirect limit and a content-type check bound the rest.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Iterable, Iterator

import httpcore
import httpx

from qa.config import FetchConfig
from qa.errors import BadInput, TooLarge, Unsupported

PAGE_TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt",
              "text/markdown": ".md", "text/x-markdown": ".md", "application/pdf": ".pdf"}
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml",
              "application/feed+xml", "application/rdf+xml"}
_USER_AGENT = "qa-news-reader/0.1 (+https://github.com/)"


class Refused(BadInput):
    """``fetch_refused``: a URL or address this server does not fetch."""

    def __init__(self, message: str):
        super().__init__("fetch_refused", message)


def fetch_failed(message: str) -> BadInput:
    """``fetch_failed``: the page could not be fetched (its HTTP status, if it answered, in the message)."""
    return BadInput("fetch_failed", message)


@dataclass(frozen=True)
class Fetched:
    url: str                 # after redirects
    content_type: str        # without parameters
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # a conditional request answered 304


class AddressPolicy:
    """Which resolved addresses a fetch may connect to."""

    def __init__(self, config: FetchConfig):
        self.allow_private = config.allow_private
        try:
            self.allowed = [ipaddress.ip_network(n, strict=False) for n in config.allow]
        except ValueError as exc:
            raise BadInput("invalid_setting", f"QA_FETCH_ALLOW: {exc}") from None

    def check(self, host: str, port: int) -> str:
        """An address of ``host`` that may be reached; every one it resolves to must be."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise fetch_failed(f"cannot resolve {host!r}: {exc}") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            if not self.allowed_ip(ip):
                raise Refused(f"{host} resolves to {ip}, a {_kind(ip)} address; this server does not fetch from "
                              "its own machine or private networks (QA_FETCH_ALLOW_PRIVATE=1 allows it)")
        return addresses[0]

    def allowed_ip(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if self.allow_private or any(ip in network for network in self.allowed):
            return True
        return ip.is_global and not ip.is_multicast


def _kind(ip) -> str:
    for attribute, name in (("is_loopback", "loopback"), ("is_link_local", "link-local"),
                            ("is_private", "private"), ("is_multicast", "multicast"),
                            ("is_unspecified", "unspecified"), ("is_reserved", "reserved")):
        if getattr(ip, attribute):
            return name
    return "non-public"


class _CheckedBackend(httpcore.SyncBackend):
    """Opens each connection to an address the policy allows (checked after resolution, here)."""

    def __init__(self, policy: AddressPolicy):
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        return super().connect_tcp(self.policy.check(host, port), port, timeout, local_address, socket_options)


class _Transport(httpx.BaseTransport):
    """httpx over an httpcore pool whose connections go through :class:`_CheckedBackend`."""

    def __init__(self, policy: AddressPolicy):
        self.pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                            network_backend=_CheckedBackend(policy))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        response = self.pool.handle_request(httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions))
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_Stream(response), extensions=response.extensions)

    def close(self) -> None:
        self.pool.close()


class _Stream(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response):
        self.response = response

    def __iter__(self) -> Iterator[bytes]:
        yield from self.response.iter_stream()

    def close(self) -> None:
        self.response.close()


class Fetcher:
    """Fetches pages and feeds under one policy; one connection pool."""

    def __init__(self, config: FetchConfig):
        self.config = config
        self.client = httpx.Client(transport=_Transport(AddressPolicy(config)), follow_redirects=False,
                                   trust_env=False, headers={"User-Agent": _USER_AGENT},
                                   timeout=httpx.Timeout(config.timeout_s))

    def fetch(self, url: object, types: Iterable[str], etag: str | None = None,
              last_modified: str | None = None) -> Fetched:
        """The body at ``url`` (after at most ``max_redirects`` redirects), of one of ``types``."""
        types = set(types)
        current = check_url(url)
        deadline = time.monotonic() + self.config.timeout_s
        headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
        for _ in range(self.config.max_redirects + 1):
            try:
                with self.client.stream("GET", current, headers=headers) as response:
                    if response.status_code in (301, 302, 303, 307, 308):
                        location = response.headers.get("location", "")
                        current = check_url(str(response.url.join(location)))
                        continue
                    if response.status_code == 304:
                        return Fetched(current, "", b"", etag, last_modified, not_modified=True)
                    if response.status_code >= 400:
                        raise fetch_failed(f"{current} answered HTTP {response.status_code}")
                    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    if content_type not in types:
                        raise Unsupported("unsupported_type", f"{current} is {content_type or 'of no stated type'}; "
                                                              f"expected one of {', '.join(sorted(types))}")
                    body = self._read(response, current, deadline)
                    return Fetched(str(response.url), content_type, body, response.headers.get("etag"),
                                   response.headers.get("last-modified"))
            except (httpx.TimeoutException, httpcore.TimeoutException):
                raise fetch_failed(f"{current} did not answer within {self.config.timeout_s:g} s") from None
            except (httpx.HTTPError, httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
                raise fetch_failed(f"cannot fetch {current}: {exc or type(exc).__name__}") from None
        raise fetch_failed(f"{url} redirected more than {self.config.max_redirects} times")

    def _read(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.config.max_bytes:
            raise TooLarge("too_large", f"{url} is {int(declared)} bytes; the limit is {self.config.max_bytes}")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.config.max_bytes:
                raise TooLarge("too_large", f"{url} is over the limit of {self.config.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise fetch_failed(f"{url} took longer than {self.config.timeout_s:g} s to send")
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.client.close()


def check_url(url: object) -> str:
    """An absolute http(s) URL with a host, or ``fetch_refused``."""
    if not isinstance(url, str) or not url.strip():
        raise BadInput("invalid_field", "'url' must be a non-empty string")
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError) as exc:
        raise BadInput("invalid_url", f"not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise Refused(f"only http and https URLs are fetched, not {parsed.scheme or 'a relative URL'!r}")
    if not parsed.host:
        raise BadInput("invalid_url", "the URL has no host")
    if parsed.userinfo:
        raise Refused("URLs with a user name or password are not fetched")
    return str(parsed)
