"""The HTTP layer: a Flask app factory with thin routes over :class:`~qa.service.QAService`.

Routes parse input and call the service. Every error, expected or not, leaves as JSON
``{"error": {"code", "message"}}`` from one place, with the status its kind maps to (the HTML
pages show the same message in the page instead). Writes pass the guard in :mod:`qa.serve.guard`.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from qa import errors
from qa.serve.examples import examples
from qa.serve.guard import check_write
from qa.serve.presenting import grouped, in_words, reader_link, reader_blocks
from qa.serve.requests import article_from, int_arg, json_body
from qa.service import QAService

log = logging.getLogger("qa.web")
MAX_PAGE = 100
MAX_OFFSET = 10**9  # past any real corpus; larger numbers overflow SQLite

STATUS = {errors.BadInput: 400, errors.Unauthorized: 401, errors.Forbidden: 403, errors.NotFound: 404,
          errors.Conflict: 409, errors.TooLarge: 413, errors.Unsupported: 415, errors.Busy: 503,
          errors.SetupError: 500}


def status_of(exc: errors.QAError) -> int:
    """The HTTP status for an error of this kind."""
    return next((status for kind, status in STATUS.items() if isinstance(exc, kind)), 500)


def create_app(service: QAService) -> Flask:
    """A Flask app serving ``service``; the service outlives requests and is shared by all threads."""
    app = Flask(__name__)
    limit = service.settings.max_upload_bytes
    app.config["MAX_CONTENT_LENGTH"] = limit
    app.config["MAX_FORM_MEMORY_SIZE"] = limit  # a pasted article is a form field
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    @app.errorhandler(errors.QAError)
    def qa_error(exc: errors.QAError):
        response = _error(status_of(exc), exc.code, exc.message)
        if isinstance(exc, errors.Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="qa"'
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
                415: "unsupported_media_type"}.get(exc.code or 500, "http_error")
        message = {404: f"no route {request.path}", 405: f"{request.method} is not allowed on {request.path}",
                   413: f"request body is over the limit of {limit} bytes"}
        return _error(exc.code or 500, code, message.get(exc.code, exc.description or exc.name))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, "internal_error", "the server hit an unexpected error; it has been logged")

    # --- pages ---------------------------------------------------------------------

    app.jinja_env.globals["in_words"] = in_words

    @app.get("/")
    def home():
        question = request.args.get("q", "")
        return _page(question=question, **_answered(question))

    @app.get("/results")
    def results():
        """The answer and results of one question as an HTML fragment (the page's script shows it)."""
        return render_template("_results.html", **_answered(request.args.get("q", ""), required=True))

    @app.get("/articles/<article_id>")
    def article_page(article_id: str):
        """An article's body, with the passage ``start``..``end`` and its answer sentence (from a
        result) marked."""
        try:
            article = service.article(article_id)
        except errors.QAError as exc:  # a page, not JSON, for a browser that followed a stale link
            return _page(error=exc.message, status=status_of(exc))
        passage = _span(request, "start", "end", len(article["text"]))
        answer = _span(request, "answer_start", "answer_end", len(article["text"])) if passage else None
        byline = " · ".join(x for x in (article["author"], article["date"], article["source"]) if x)
        return render_template("article.html", article=article, byline=byline,
                               blocks=reader_blocks(article, passage, answer))

    @app.post("/")
    def add_from_form():
        """The no-JavaScript add-article form: same checks as the API, result shown in the page."""
        try:
            check_write(request, service.settings, form_token=request.form.get("token"))
            result = service.add(article_from(request))
            message = {"unchanged": f"“{result.title}” is already in the collection; nothing changed.",
                       "replaced": f"Updated “{result.title}”. Questions now find the new text.",
                       }.get(result.status, f"Added “{result.title}”. You can ask about it now.")
            return _page(added=message, status=201 if result.status == "added" else 200)
        except errors.QAError as exc:
            return _page(add_error=exc.message, form=request.form, status=status_of(exc))
        except RequestEntityTooLarge:
            return _page(add_error=f"the upload is over the limit of {limit} bytes", status=413)

    # --- API -----------------------------------------------------------------------

    @app.get("/api/health")
    def health():
        return jsonify(service.stats())

    @app.route("/api/ask", methods=["GET", "POST"])
    def ask():
        if request.method == "POST":
            body = json_body(request)
            return jsonify(service.ask(body.get("question"), body.get("k", 5)))
        return jsonify(service.ask(request.args.get("q"), request.args.get("k", 5)))

    @app.get("/api/articles")
    def list_articles():
        offset = int_arg(request, "offset", 0, 0, MAX_OFFSET)
        limit_ = int_arg(request, "limit", 20, 1, MAX_PAGE)
        return jsonify(service.articles(offset, limit_))

    @app.post("/api/articles")
    def add_article():
        check_write(request, service.settings)
        result = service.add(article_from(request))
        return jsonify(result.as_dict()), 201 if result.status == "added" else 200

    @app.get("/api/articles/<article_id>")
    def get_article(article_id: str):
        return jsonify(service.article(article_id))

    @app.delete("/api/articles/<article_id>")
    def delete_article(article_id: str):
        check_write(request, service.settings)
        return jsonify({"id": article_id, "status": "removed", "passages": service.remove(article_id)})

    def _answered(question: str, required: bool = False) -> dict:
        """The template context for a question's answer: the reply and its groups, or the error."""
        if not question.strip() and not required:
            return {}
        try:
            reply = service.ask(question, request.args.get("k", 5))
        except errors.BadInput as exc:
            return {"error": exc.message}
        answer = reply["answer"]
        return {"reply": reply, "groups": grouped(reply["results"]),
                "answer_link": reader_link(answer["article"]["id"], *_passage_of(reply, answer),
                                           (answer["start"], answer["end"])) if answer else None}

    def _page(status: int = 200, **context):
        context.setdefault("question", "")
        html = render_template("index.html", stats=service.stats(), articles=service.articles(0, MAX_PAGE),
                               examples=examples(service), token_required=bool(service.settings.api_token),
                               **context)
        return html, status

    return app


def _passage_of(reply: dict, answer: dict) -> tuple[int, int]:
    """The passage the answer sentence was taken from."""
    result = reply["results"][answer["rank"] - 1]
    return result["start"], result["end"]


def _span(request, start_name: str, end_name: str, length: int) -> tuple[int, int] | None:
    """A ``start``..``end`` range of the article text from the query, if one is given and valid."""
    start, end = request.args.get(start_name, type=int), request.args.get(end_name, type=int)
    return (start, end) if start is not None and end is not None and 0 <= start < end <= length else None


def _error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response
