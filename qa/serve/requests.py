"""Reading HTTP input: JSON bodies, query numbers, and articles from JSON or form uploads.
Each failure is a clear 4xx, never a traceback."""

from __future__ import annotations

from typing import Callable

from flask import Request
from werkzeug.datastructures import MultiDict

from qa.errors import BadInput, Unsupported
from qa.ingest import Article, check_id, from_bytes, from_fields
from qa.ingest.decode import check_text

ARTICLE_FIELDS = ("title", "author", "date", "source", "id")
FILTER_PARAMS = {"source": "source", "author": "author", "article": "article", "from": "date_from", "to": "date_to"}


def ask_options(args: MultiDict) -> dict:
    """The filter, grouping and order of an ask from plain query parameters (``source=``,
    ``author=``, ``article=`` repeatable; ``from=``, ``to=``; ``group=``, ``sort=``), as the page's
    form sends them with or without JavaScript: an empty field is no choice. The service checks them."""
    filters: dict = {}
    for param, field in FILTER_PARAMS.items():
        values = [v for v in args.getlist(param) if v.strip()]
        if values:
            filters[field] = values if field in ("source", "author", "article") else values[-1]
    return {"filters": filters, "group": args.get("group") or None, "sort": args.get("sort") or None}


def json_body(request: Request) -> dict:
    """The request's JSON object."""
    if not request.is_json:
        raise Unsupported("unsupported_media_type", "send JSON with 'Content-Type: application/json'")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than Python's parser goes
        body = None
    if body is None:
        raise BadInput("malformed_json", "request body is not valid JSON (UTF-8)")
    if not isinstance(body, dict):
        raise BadInput("malformed_json", "request body must be a JSON object")
    _check_strings(body)
    return body


def _check_strings(body: dict) -> None:
    """Every string in the body is text that can be stored (JSON can carry unpaired surrogates)."""
    stack: list = [("body", body)]
    while stack:  # no recursion: the parser already accepted the nesting
        name, value = stack.pop()
        if isinstance(value, str):
            check_text(value, f"'{name}'")
        elif isinstance(value, dict):
            stack += [(key, item) for key, item in value.items()] + [(key, key) for key in value]
        elif isinstance(value, list):
            stack += [(name, item) for item in value]


def int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter from ``low`` to ``high``."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"invalid_{name}", f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise BadInput(f"invalid_{name}", f"{name} must be from {low} to {high}")
    return value


def article_from(request: Request, from_url: Callable[[str, str | None], Article]) -> Article:
    """An article from a JSON body or a multipart/form upload (a file, or pasted text), or fetched by
    ``from_url(url, id)`` from the ``url`` they give."""
    if request.is_json:
        body = json_body(request)
        values = {name: body.get(name) for name in ARTICLE_FIELDS}
        if body.get("url") is not None:
            if values["id"] is not None and not isinstance(values["id"], str):
                raise BadInput("invalid_field", "'id' must be a string")
            return from_url(body["url"], check_id(values["id"]) if values["id"] else None)
        return from_fields(body.get("text"), values["title"], values["author"], values["date"],
                           values["source"], values["id"] or None)
    if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise Unsupported("unsupported_media_type", "send JSON, or a multipart/form-data upload with a 'file' field")
    form = {name: (request.form.get(name) or "").strip() or None for name in ARTICLE_FIELDS}
    url = (request.form.get("url") or "").strip()
    if url:
        return from_url(url, check_id(form["id"]) if form["id"] else None)
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return from_bytes(upload.read(), upload.filename, form.pop("id"), **form)
    text = request.form.get("text")
    if text is None or not text.strip():
        raise BadInput("empty_text", "paste the article text or choose a file")
    return from_fields(text, form["title"], form["author"], form["date"], form["source"], form["id"])
