"""The write guard: who may add and remove articles.

With an API token set, writes need ``Authorization: Bearer <token>`` (or the
page form's token field). Without one the server accepts writes only when it
is bound to a loopback address and addressed by a loopback name (a page that
re-binds a DNS name to 127.0.0.1 is refused). A write whose ``Origin`` is
another site (or ``null``, or no URL at all) is refused, so a web page cannot post articles
through a visitor's browser. A server bound to loopback answers nothing, reads included, to a
request addressed by another name: a DNS-rebinding page cannot read the corpus either.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from flask import Request

from qa.config import Settings
from qa.errors import Forbidden, Unauthorized


def check_write(request: Request, settings: Settings, form_token: str | None = None) -> None:
    """Raise unless this request may write."""
    origin = request.headers.get("Origin")  # "null" (sandboxed frames, data: pages) counts as foreign
    if origin and _netloc(origin) != request.host:
        raise Forbidden("cross_origin", f"writes from another site ({origin[:100]}) are refused")
    token = settings.api_token
    if token:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else (form_token or "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("unauthorized", "this write needs 'Authorization: Bearer <token>' "
                                               "with the server's API token")
    elif not is_loopback(settings.host):
        raise Forbidden("writes_disabled", "the server is reachable from other machines and has no API token: "
                                           "set QA_API_TOKEN (or --token) to allow writes")
    # Bound to loopback: check_host, before every route, refused any other name (a DNS-rebound one).


def check_host(request: Request, settings: Settings) -> None:
    """Raise if a server bound to loopback is addressed by another name (every route, reads too)."""
    if is_loopback(settings.host) and not is_loopback(_hostname(request.host)):
        raise Forbidden("cross_origin", "this server answers only requests addressed to localhost or a loopback "
                                        "address")


def _netloc(url: str) -> str | None:
    """The ``host:port`` of a URL; None when it is not one (``http://[``)."""
    try:
        return urlsplit(url).netloc
    except ValueError:
        return None


def _hostname(netloc: str) -> str:
    try:
        return urlsplit(f"//{netloc}").hostname or ""
    except ValueError:
        return ""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
