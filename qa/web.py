"""The HTTP layer: a Flask app factory with thin routes over :class:`~qa.service.QAService`.

Routes parse input and call the service; every error, expected or not,
leaves as JSON ``{"error": {"code", "message"}}`` (the HTML pages show the
same message in the page instead).

Writes (adding and removing articles) are guarded: with an API token set they
need ``Authorization: Bearer <token>``; without one the server accepts writes
only when bound to a loopback address and addressed by a loopback name. A write
whose ``Origin`` is another site (or ``null``) is refused, so a web page cannot
post articles through a visitor's browser.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from qa import articles
from qa.errors import BadInput, QAError
from qa.service import QAService

log = logging.getLogger("qa.web")
MAX_PAGE = 100
MAX_OFFSET = 10**9  # past any real corpus; larger numbers overflow SQLite


class Unauthorized(QAError):
    status = 401


class Forbidden(QAError):
    status = 403


def create_app(service: QAService) -> Flask:
    """A Flask app serving ``service``; the service outlives requests and is shared by all threads."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = service.settings.max_upload_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = service.settings.max_upload_bytes  # a pasted article is a form field
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["qa"] = service

    @app.errorhandler(QAError)
    def qa_error(exc: QAError):
        response = _error(exc.status, exc.code, exc.message)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="qa"'
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
                415: "unsupported_media_type"}.get(exc.code or 500, "http_error")
        message = {404: f"no route {request.path}",
                   405: f"{request.method} is not allowed on {request.path}",
                   413: f"request body is over the limit of {service.settings.max_upload_bytes} bytes"}
        return _error(exc.code or 500, code, message.get(exc.code, exc.description or exc.name))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, "internal_error", "the server hit an unexpected error; it has been logged")

    # --- pages ---------------------------------------------------------------------

    @app.get("/")
    def home():
        question = request.args.get("q", "")
        answer, error = None, None
        if question.strip():
            try:
                answer = service.ask(question, request.args.get("k", 5))
            except BadInput as exc:
                error = exc.message
        return _page(question=question, answer=answer, error=error)

    @app.get("/articles/<article_id>")
    def article_page(article_id: str):
        """An article in full, with the passage ``start``..``end`` (from a result) marked."""
        try:
            article = service.article(article_id)
        except QAError as exc:  # a page, not JSON, for a browser that followed a stale link
            return _page(error=exc.message, status=exc.status)
        text = article["text"]
        start = request.args.get("start", type=int)
        end = request.args.get("end", type=int)
        if start is None or end is None or not 0 <= start < end <= len(text):
            start = end = len(text)
        return render_template("article.html", article=article, before=text[:start],
                               marked=text[start:end], after=text[end:])

    @app.post("/")
    def add_from_form():
        """The no-JavaScript add-article form: same checks as the API, result shown in the page."""
        try:
            _check_write(form_token=request.form.get("token"))
            result = service.add(_article_from_request())
            message = (f"“{result.id}” was already indexed; nothing changed." if result.status == "unchanged"
                       else f"Article “{result.id}” {result.status}: {result.passages} passages, searchable now.")
            return _page(added=message, status=201 if result.status == "added" else 200)
        except QAError as exc:
            return _page(add_error=exc.message, form=request.form, status=exc.status)
        except RequestEntityTooLarge:
            return _page(add_error=f"the upload is over the limit of {service.settings.max_upload_bytes} bytes",
                         status=413)

    # --- API -----------------------------------------------------------------------

    @app.get("/api/health")
    def health():
        return jsonify(service.stats())

    @app.route("/api/ask", methods=["GET", "POST"])
    def ask():
        if request.method == "POST":
            body = _json_body()
            return jsonify(service.ask(body.get("question"), body.get("k", 5)))
        return jsonify(service.ask(request.args.get("q"), request.args.get("k", 5)))

    @app.get("/api/articles")
    def list_articles():
        offset = _int_arg("offset", 0, 0, MAX_OFFSET)
        limit = _int_arg("limit", 20, 1, MAX_PAGE)
        return jsonify(service.articles(offset, limit))

    @app.post("/api/articles")
    def add_article():
        _check_write()
        result = service.add(_article_from_request())
        return jsonify(result.as_dict()), 201 if result.status == "added" else 200

    @app.get("/api/articles/<article_id>")
    def get_article(article_id: str):
        return jsonify(service.article(article_id))

    @app.delete("/api/articles/<article_id>")
    def delete_article(article_id: str):
        _check_write()
        return jsonify({"id": article_id, "status": "removed", "passages": service.remove(article_id)})

    # --- helpers that need the service ----------------------------------------------------

    def _page(status: int = 200, **context):
        context.setdefault("question", "")
        listing = service.articles(0, MAX_PAGE)
        html = render_template("index.html", stats=service.stats(), articles=listing,
                               examples=service.examples(), token_required=bool(service.settings.api_token),
                               **context)
        return html, status

    def _check_write(form_token: str | None = None) -> None:
        origin = request.headers.get("Origin")  # "null" (sandboxed frames, data: pages) counts as foreign
        if origin and urlsplit(origin).netloc != request.host:
            raise Forbidden("cross_origin", f"writes from another site ({origin}) are refused")
        token = service.settings.api_token
        if token:
            header = request.headers.get("Authorization", "")
            given = header[7:].strip() if header.lower().startswith("bearer ") else (form_token or "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                raise Unauthorized("unauthorized", "this write needs 'Authorization: Bearer <token>' "
                                                   "with the server's API token")
        elif not _is_loopback(service.settings.host):
            raise Forbidden("writes_disabled", "the server is reachable from other machines and has no API token: "
                                               "set QA_API_TOKEN (or --token) to allow writes")
        elif not _is_loopback(urlsplit(f"//{request.host}").hostname or ""):  # a DNS-rebound name, say
            raise Forbidden("cross_origin", "without an API token, writes must address the server as "
                                            "localhost or a loopback address")

    return app


def _article_from_request() -> articles.Article:
    """An article from a JSON body or a multipart/form upload (a file, or pasted text)."""
    fields = ("title", "author", "date", "source", "id")
    if request.is_json:
        body = _json_body()
        values = {name: body.get(name) for name in fields}
        return articles.from_fields(body.get("text"), values["title"], values["author"], values["date"],
                                    values["source"], values["id"] or None)
    if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise BadInput("unsupported_media_type", "send JSON, or a multipart/form-data upload with a 'file' field",
                       status=415)
    form = {name: (request.form.get(name) or "").strip() or None for name in fields}
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return articles.from_bytes(upload.read(), upload.filename, form.pop("id"),
                                   **{k: v for k, v in form.items()})
    text = request.form.get("text")
    if text is None or not text.strip():
        raise BadInput("empty_text", "paste the article text or choose a file")
    return articles.from_fields(text, form["title"], form["author"], form["date"], form["source"], form["id"])


def _json_body() -> dict:
    """The request's JSON object, or a clear 4xx."""
    if not request.is_json:
        raise BadInput("unsupported_media_type", "send JSON with 'Content-Type: application/json'", status=415)
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than Python's parser goes
        body = None
    if body is None:
        raise BadInput("malformed_json", "request body is not valid JSON (UTF-8)")
    if not isinstance(body, dict):
        raise BadInput("malformed_json", "request body must be a JSON object")
    return body


def _int_arg(name: str, default: int, low: int, high: int) -> int:
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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response
