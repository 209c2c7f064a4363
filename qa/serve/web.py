"""The HTTP layer: a Flask app factory with thin routes over :class:`~qa.service.QAService`.

Routes parse input and call the service. Requests are validated by the schemas in
:mod:`qa.serve.schemas` (spectree), which also give the OpenAPI document at `/api/openapi.json`
and the docs page at `/api/docs`. Every error, expected or not, leaves as JSON
`{"error": {"code", "message"}}` from one place, with the status its kind maps to (the HTML pages
show the same message in the page instead). Writes pass the guard in :mod:`qa.serve.guard`, and
every request its Host check. Every response carries the security headers (a Content-Security-Policy
with no inline script: the pages' scripts are files under static/). Every request is logged and
counted (:mod:`qa.serve.metrics`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import flask_swagger_ui
import orjson
from flask import Flask, g, jsonify, render_template, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from spectree import Response, SpecTree
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from qa import __version__, errors
from qa.config import MAX_OFFSET
from qa.serve import schemas
from qa.serve.examples import examples
from qa.serve.guard import check_host, check_write
from qa.serve.metrics import Metrics
from qa.serve.presenting import facet_links, grouped, in_words, list_link, reader_blocks, reader_link
from qa.serve.requests import ask_options, article_from, json_body
from qa.service import QAService

log = logging.getLogger("qa.web")
SWAGGER_UI = Path(flask_swagger_ui.__file__).parent / "dist"  # Swagger UI 5 reads OpenAPI 3.1

STATUS = {errors.BadInput: 400, errors.Unauthorized: 401, errors.Forbidden: 403, errors.NotFound: 404,
          errors.Conflict: 409, errors.TooLarge: 413, errors.Unsupported: 415, errors.Busy: 503,
          errors.StorageUnavailable: 503, errors.StorageFull: 507, errors.SetupError: 500}
# The errors every route may answer, and those of writes, for the OpenAPI document.
_ANY_ERRORS = {"HTTP_400": schemas.ErrorReply, "HTTP_403": schemas.ErrorReply, "HTTP_413": schemas.ErrorReply,
               "HTTP_415": schemas.ErrorReply, "HTTP_500": schemas.ErrorReply}
_WRITE_ERRORS = {**_ANY_ERRORS, "HTTP_401": schemas.ErrorReply, "HTTP_409": schemas.ErrorReply,
                 "HTTP_503": schemas.ErrorReply, "HTTP_507": schemas.ErrorReply}
_PAGE = Response(HTTP_200=None)  # an HTML page
RETRY_AFTER_S = 5  # what a 503 tells a client to wait before trying again
MAX_FORM_PARTS = 1000  # fields and files of one multipart/form upload (werkzeug's default, named here)
# Swagger UI sets style attributes from its script, hence 'unsafe-inline' for styles (never for scripts).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: under no-referrer a browser posts the no-JavaScript form with
    # "Origin: null", which the write guard refuses as another site.
    "Referrer-Policy": "same-origin",
}
LIST_PAGE = 20  # articles per page of the page's list


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON written by orjson, a faster encoder than the standard library's (under load it
    measured within noise of it: docs/performance.md). Keys keep their order and text stays
    unescaped, as before; Flask's own `response` wraps it, and what orjson cannot write goes to
    Flask's fallback."""

    options = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS  # numpy figures, and any key as text

    def dumps(self, obj, **kwargs) -> str:
        return orjson.dumps(obj, default=self.default, option=self.options).decode()


def status_of(exc: errors.QAError) -> int:
    """The HTTP status for an error of this kind."""
    return next((status for kind, status in STATUS.items() if isinstance(exc, kind)), 500)


def _validation_failed(req, resp, error, instance, model_adapter) -> None:
    """spectree's hook before each view: a request that failed its schema is the API's usual error."""
    if error is not None:
        raise schemas.bad_input(error)


def create_app(service: QAService) -> Flask:
    """A Flask app serving `service`; the service outlives requests and is shared by all threads."""
    app = Flask(__name__)
    limit = service.settings.max_upload_bytes
    app.config["MAX_CONTENT_LENGTH"] = limit
    app.config["MAX_FORM_MEMORY_SIZE"] = limit  # a pasted article is a form field
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.jinja_env.globals["in_words"] = in_words
    app.jinja_env.globals["list_link"] = list_link
    shapes = schemas.build(service.settings)
    # spectree leaves the routes under its own `path` out of the document, so that is not /api; its
    # pages would load Swagger UI from a CDN, so it has none, and /api/docs serves the bundled copy.
    api = SpecTree("flask", title="qa: ask questions of news articles", version=__version__, path="openapi",
                   page_templates={}, before=_validation_failed, validation_error_status=400, annotations=False)
    metrics = Metrics(service)
    if hasattr(service.encoder, "observer"):
        service.encoder.observer = metrics.observe_batch
    service.jobs.start()  # the app writes through the job queue
    service.feeds.start()

    # --- every request: parsed JSON first, then logged and counted -------------------------

    @app.before_request
    def started():
        g.started = time.perf_counter()
        check_host(request, service.settings)
        if request.is_json and request.method in ("POST", "PUT", "PATCH"):
            json_body(request)  # malformed or too deeply nested JSON is a 400 before any schema sees it

    @app.after_request
    def finished(response):
        response.headers.update(SECURITY_HEADERS)
        took = time.perf_counter() - g.get("started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        metrics.latency.labels(route).observe(took)
        log.info("%s %s %s %.1f ms", request.method, request.full_path.rstrip("?"), response.status_code,
                 1000 * took, extra={"method": request.method, "path": request.path,
                                     "status": response.status_code, "ms": round(1000 * took, 1)})
        return response

    # --- errors, from one place -----------------------------------------------------------

    @app.errorhandler(errors.QAError)
    def qa_error(exc: errors.QAError):
        response = _error(status_of(exc), exc.code, exc.message)
        if isinstance(exc, errors.Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="qa"'
        if isinstance(exc, (errors.Busy, errors.StorageUnavailable)):
            response.headers["Retry-After"] = str(RETRY_AFTER_S)
        metrics.errors.labels(exc.code).inc()
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
                415: "unsupported_media_type"}.get(exc.code or 500, "http_error")
        message = {404: f"no route {request.path}", 405: f"{request.method} is not allowed on {request.path}",
                   413: _too_large()}
        metrics.errors.labels(code).inc()
        return _error(exc.code or 500, code, message.get(exc.code, exc.description or exc.name))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        known = errors.storage_error(exc)
        if known is not None:  # the disk, not a bug: no traceback, the status that says so
            log.error("%s %s: %s", request.method, request.path, exc)
            return qa_error(known)
        log.exception("unhandled error on %s %s", request.method, request.path)
        metrics.errors.labels("internal_error").inc()
        return _error(500, "internal_error", "the server hit an unexpected error; it has been logged")

    # --- pages ---------------------------------------------------------------------

    @app.get("/")
    @api.validate(resp=_PAGE, tags=["pages"])
    def home():
        """The page: ask a question (`?q=`), see the answer and the articles, add one."""
        question = request.args.get("q", "")
        return _page(question=question, **_answered(question))

    @app.get("/results")
    @api.validate(resp=_PAGE, tags=["pages"])
    def results():
        """The answer and results of one question (`?q=`) as an HTML fragment, for the page's script."""
        return render_template("_results.html", **_answered(request.args.get("q", ""), required=True))

    @app.get("/article-list")
    @api.validate(resp=_PAGE, tags=["pages"])
    def article_list():
        """The page's article list (`list_title`, `list_sort`, `list_offset`) as an HTML fragment, for its script."""
        return render_template("_articles.html", **_listing(), token_required=bool(service.settings.api_token))

    @app.post("/articles/delete")
    @api.validate(form=schemas.DeleteForm, resp=_PAGE, tags=["pages"], skip_validation=True)
    def delete_from_form():
        """The article list's delete button (works without JavaScript): the result shown in the page."""
        article_id = request.form.get("id", "")
        try:
            check_write(request, service.settings, form_token=request.form.get("token"))
            title = service.article(article_id)["title"]
            service.remove(article_id)
            metrics.writes.labels("removed").inc()
            return _page(list_message=f"Removed “{title}”.")
        except errors.QAError as exc:
            return _page(list_error=exc.message, status=status_of(exc))

    @app.get("/articles/<article_id>")
    @api.validate(resp=Response(HTTP_200=None, HTTP_404=None), tags=["pages"])
    def article_page(article_id: str):
        """An article's body, with the passage `start`..`end` and its answer sentence
        `answer_start`..`answer_end` (from a result) marked."""
        try:
            article = service.article(article_id)
        except errors.QAError as exc:  # a page, not JSON, for a browser that followed a stale link
            return _page(error=exc.message, status=status_of(exc))
        passage = _span("start", "end", len(article["text"]))
        answer = _span("answer_start", "answer_end", len(article["text"])) if passage else None
        byline = " · ".join(x for x in (article["author"], article["date"], article["source"]) if x)
        return render_template("article.html", article=article, byline=byline,
                               blocks=reader_blocks(article, passage, answer))

    @app.post("/")
    @api.validate(form=schemas.ArticleUpload, resp=Response(HTTP_200=None, HTTP_201=None), tags=["pages"],
                  skip_validation=True)  # documented only: the page reports its own errors in the page
    def add_from_form():
        """The no-JavaScript add-article form: same checks as the API, the result shown in the page."""
        try:
            check_write(request, service.settings, form_token=request.form.get("token"))
            result = _written(service.jobs.add_and_wait(article_from(request, service.from_url)))
            message = {"unchanged": f"“{result['title']}” is already in the collection; nothing changed.",
                       "replaced": f"Updated “{result['title']}”. Questions now find the new text.",
                       "duplicate": f"Stored “{result['title']}” as a copy of the article "
                                    f"{result.get('duplicate_of')}: answers show that story once and name "
                                    "this copy beside it.",
                       }.get(result["status"], f"Added “{result['title']}”. You can ask about it now.")
            return _page(added=message, status=_created(result))
        except errors.QAError as exc:
            return _page(add_error=exc.message, form=request.form, status=status_of(exc))
        except RequestEntityTooLarge:
            return _page(add_error=_too_large(), status=413)

    @app.post("/reindex")
    @api.validate(resp=Response(HTTP_202=None), tags=["pages"], skip_validation=True)
    def reindex_from_form():
        """The no-JavaScript 'Re-read the corpus folder' button: a sync job, reported in the page."""
        try:
            check_write(request, service.settings, form_token=request.form.get("token"))
            job = service.jobs.sync()
        except errors.QAError as exc:
            return _page(reindex_error=exc.message, status=status_of(exc))
        return _page(reindexed=f"Re-reading the corpus folder in the background (job {job}); reload the page "
                               "in a moment to see the articles.", status=202)

    # --- API -----------------------------------------------------------------------

    @app.get("/api/health")
    @api.validate(resp=Response(HTTP_200=schemas.Health), tags=["service"])
    def health():
        """Counts of articles, passages and index entries; the model and the engine."""
        return jsonify(service.stats())

    @app.get("/api/ask")
    @api.validate(query=shapes.ask_query, resp=Response(HTTP_200=schemas.AskReply, **_ANY_ERRORS), tags=["ask"])
    def ask_get():
        """The answer to `q` and the `k` best passages, each with its answer sentence and confidence;
        `source=`, `author=`, `article=` (each repeatable), `from=`, `to=` restrict the articles."""
        query = request.context.query
        return jsonify(service.ask(query.question, query.k, **ask_options(request.args), facets=query.facets))

    @app.post("/api/ask")
    @api.validate(json=shapes.ask_body, resp=Response(HTTP_200=schemas.AskReply, **_ANY_ERRORS), tags=["ask"])
    def ask_post():
        """The answer to `question` and the `k` best passages (see `GET /api/ask`), among the articles
        `filters` allows, one per article with `group`, newest first with `sort`."""
        json_body(request)  # 415 unless the body is JSON (the schema is only checked for JSON)
        body = request.context.json
        return jsonify(service.ask(body.question, body.k, body.filters, body.group, body.sort, body.facets))

    @app.get("/api/articles")
    @api.validate(query=schemas.Paging, resp=Response(HTTP_200=schemas.ArticleList, **_ANY_ERRORS),
                  tags=["articles"])
    def list_articles():
        """Articles a page at a time, those whose titles hold `title`, in the order they were added
        (`sort=date`: newest first; `sort=title`)."""
        query = request.context.query
        return jsonify(service.articles(query.offset, query.limit, query.title, query.sort))

    @app.post("/api/articles")
    @api.validate(query=schemas.WriteOptions, json=schemas.ArticleFields, form=schemas.ArticleUpload,
                  resp=Response(HTTP_201=schemas.WriteReply, HTTP_200=schemas.WriteReply,
                                HTTP_202=schemas.JobAccepted, **_WRITE_ERRORS), tags=["articles"])
    def add_article():
        """Add an article (201), replace the one with its id (200), or nothing if identical (200).
        With `wait=false`: 202 and a job to follow at once, once the text is stored."""
        check_write(request, service.settings)
        if not request.context.query.wait:
            job = service.jobs.add(article_from(request, service.from_url))
            return jsonify({"job": job, "status_url": f"/api/jobs/{job}"}), 202
        result = _written(service.jobs.add_and_wait(article_from(request, service.from_url)))
        return jsonify(result), _created(result)

    @app.post("/api/index")
    @api.validate(resp=Response(HTTP_202=schemas.JobAccepted, **_WRITE_ERRORS), tags=["articles"])
    def reindex():
        """Re-read the corpus folder (new, changed and deleted files), as a job."""
        check_write(request, service.settings)
        job = service.jobs.sync()
        return jsonify({"job": job, "status_url": f"/api/jobs/{job}"}), 202

    @app.get("/api/jobs")
    @api.validate(resp=Response(HTTP_200=schemas.JobList), tags=["articles"])
    def jobs():
        """The latest jobs, newest first."""
        return jsonify({"jobs": service.jobs.recent()})

    @app.get("/api/jobs/<job_id>")
    @api.validate(resp=Response(HTTP_200=schemas.JobStatus, HTTP_404=schemas.ErrorReply), tags=["articles"])
    def job_status(job_id: str):
        """A job's state (queued, running, done, failed), its progress in passages, and its result or error."""
        return jsonify(service.jobs.status(job_id))

    @app.get("/api/feeds")
    @api.validate(resp=Response(HTTP_200=schemas.FeedList), tags=["feeds"])
    def feeds():
        """The feeds this server follows, with each one's last poll, items added and last error."""
        return jsonify({"feeds": service.feeds.all()})

    @app.post("/api/feeds")
    @api.validate(json=schemas.FeedFields, resp=Response(HTTP_201=schemas.Feed, **_WRITE_ERRORS), tags=["feeds"])
    def add_feed():
        """Follow an RSS or Atom feed: polled now, then every `every_minutes`; new items are added as jobs."""
        check_write(request, service.settings)
        body = json_body(request)
        return jsonify(service.feeds.add(body.get("url"), body.get("every_minutes", 30))), 201

    @app.get("/api/feeds/<feed_id>")
    @api.validate(resp=Response(HTTP_200=schemas.Feed, HTTP_404=schemas.ErrorReply), tags=["feeds"])
    def feed(feed_id: str):
        """One feed."""
        return jsonify(service.feeds.get(feed_id))

    @app.post("/api/feeds/<feed_id>/poll")
    @api.validate(resp=Response(HTTP_200=schemas.Feed, **_WRITE_ERRORS), tags=["feeds"])
    def poll_feed(feed_id: str):
        """Poll a feed now (its new items are queued as jobs); the feed after the poll."""
        check_write(request, service.settings)
        return jsonify(service.feeds.poll(feed_id))

    @app.delete("/api/feeds/<feed_id>")
    @api.validate(resp=Response(HTTP_200=schemas.Feed, **_WRITE_ERRORS), tags=["feeds"])
    def remove_feed(feed_id: str):
        """Stop following a feed (the articles it brought stay)."""
        check_write(request, service.settings)
        feed = service.feeds.get(feed_id)
        service.feeds.remove(feed_id)
        return jsonify(feed)

    @app.get("/api/articles/<article_id>")
    @api.validate(resp=Response(HTTP_200=schemas.StoredArticle, HTTP_404=schemas.ErrorReply, **_ANY_ERRORS),
                  tags=["articles"])
    def get_article(article_id: str):
        """An article: metadata, text, where its body starts and its headings."""
        return jsonify(service.article(article_id))

    @app.delete("/api/articles/<article_id>")
    @api.validate(resp=Response(HTTP_200=schemas.Removed, HTTP_404=schemas.ErrorReply, **_WRITE_ERRORS),
                  tags=["articles"])
    def delete_article(article_id: str):
        """Remove an article and all its passages."""
        check_write(request, service.settings)
        removed = service.remove(article_id)
        metrics.writes.labels("removed").inc()
        return jsonify({"id": article_id, "status": "removed", "passages": removed})

    @app.get("/metrics")
    @api.validate(resp=Response(HTTP_200=None), tags=["service"])
    def prometheus():
        """Prometheus metrics (text format)."""
        return metrics.exposition(), 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}

    @app.get("/api/docs")
    @api.validate(resp=_PAGE, tags=["service"])
    def docs():
        """This API's documentation (Swagger UI, served by this server)."""
        return render_template("docs.html")

    @app.get("/api/docs/<path:asset>")
    @api.validate(resp=Response(HTTP_200=None, HTTP_404=None), tags=["service"])
    def docs_asset(asset: str):
        """The Swagger UI files the docs page loads (Swagger UI 5, from the flask-swagger-ui package)."""
        response = send_from_directory(SWAGGER_UI, asset)
        response.direct_passthrough = False  # spectree reads every response it wraps
        return response

    @app.get("/api/openapi.json")
    @api.validate(resp=Response(HTTP_200=None), tags=["service"])
    def api_document():
        """This document: OpenAPI 3, generated from the schemas that validate each request."""
        return jsonify(api.spec)

    # --- helpers that need the service ----------------------------------------------------

    def _created(result: dict) -> int:
        """201 when a new article was stored (a copy too), 200 otherwise."""
        return 201 if result["status"] in ("added", "duplicate") else 200

    def _too_large() -> str:
        """Which limit a 413 met: the body's size, or (a smaller body) the number of form parts."""
        if request.content_length is not None and request.content_length <= limit:
            return f"the form has more than {MAX_FORM_PARTS} parts (fields and files)"
        return f"request body is over the limit of {limit} bytes"

    def _written(job: dict) -> dict:
        """A finished add job's result, counted."""
        metrics.writes.labels(job["result"]["status"]).inc()
        return job["result"]

    def _answered(question: str, required: bool = False) -> dict:
        """The template context for a question's answer (filtered, grouped and ordered as the query
        says): the reply, its groups and facet links, or the error."""
        if not question.strip() and not required:
            return {}
        try:
            reply = service.ask(question, request.args.get("k", 5), **ask_options(request.args), facets=True)
        except errors.BadInput as exc:
            return {"error": exc.message}
        answer = reply["answer"]
        return {"reply": reply, "groups": grouped(reply["results"]),
                "facet_links": facet_links(request.args.items(multi=True), reply["facets"]),
                "answer_link": reader_link(answer["article"]["id"], *_passage_of(reply, answer),
                                           (answer["start"], answer["end"])) if answer else None}

    def _listing() -> dict:
        """The article list as the query asks for it (`list_title`, `list_sort`, `list_offset`)."""
        offset = min(max(0, request.args.get("list_offset", 0, type=int)), MAX_OFFSET)
        title = request.args.get("list_title", "")[:200]
        try:
            return {"listing": service.articles(offset, LIST_PAGE, title, request.args.get("list_sort") or None)}
        except errors.BadInput as exc:
            return {"listing": service.articles(0, LIST_PAGE), "list_error": exc.message}

    def _chosen() -> dict:
        """The page's filter, grouping and order controls as the query sets them."""
        options = ask_options(request.args)
        filters = options["filters"]
        return {"source": filters.get("source", []), "date_from": filters.get("date_from", ""),
                "date_to": filters.get("date_to", ""), "group": options["group"], "sort": options["sort"]}

    def _page(status: int = 200, **context):
        context.setdefault("question", "")
        context = {**_listing(), **context}
        try:  # a search within one article ("this article only", from its page)
            only = service.article(request.args["article"]) if request.args.get("article") else None
        except errors.QAError:
            only = None
        html = render_template("index.html", stats=service.stats(), examples=examples(service),
                               token_required=bool(service.settings.api_token), chosen=_chosen(),
                               sources=[f["value"] for f in service.facets()["source"]],
                               only_article=only, **context)
        return html, status

    return app


def _passage_of(reply: dict, answer: dict) -> tuple[int, int]:
    """The passage the answer sentence was taken from."""
    result = reply["results"][answer["rank"] - 1]
    return result["start"], result["end"]


def _span(start_name: str, end_name: str, length: int) -> tuple[int, int] | None:
    """A `start`..`end` range of the article text from the query, if one is given and valid."""
    start, end = request.args.get(start_name, type=int), request.args.get(end_name, type=int)
    return (start, end) if start is not None and end is not None and 0 <= start < end <= length else None


def _error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response
