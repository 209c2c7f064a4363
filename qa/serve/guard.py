"""The write guard: who may add and remove articles.

With an API token set, writes need ``Authorization: Bearer <token>`` (or the
page form's token field). Without one the server accepts writes only when it
is bound to a loopback address and addressed by a loopback name (a page that
re-binds a DNS name to 127.0.0.1 is refused). A write whose ``Origin`` is
another site (or ``null``) is refused, so a web page cannot post articles
through a visitor's browser.
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
    if origin and urlsplit(origin).netloc != request.host:
        raise Forbidden("cross_origin", f"writes from another site ({origin}) are refused")
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
    elif not is_loopback(urlsplit(f"//{request.host}").hostname or ""):  # a DNS-rebound name, say
        raise Forbidden("cross_origin", "without an API token, writes must address the server as "
                                        "localhost or a loopback address")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
