"""The HTTP layer: a Flask app factory with thin routes over :class:`~qa.service.QAService`.

Routes parse input and call the service; every error, expected or not,
leaves through :func:`_error` as JSON ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from qa.errors import BadInput, QAError
from qa.service import QAService

log = logging.getLogger("qa.web")


def create_app(service: QAService) -> Flask:
    """A Flask app serving ``service``; the service outlives requests and is shared by all threads."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = service.settings.max_upload_bytes
    app.json.sort_keys = False
    app.extensions["qa"] = service

    @app.errorhandler(QAError)
    def qa_error(exc: QAError):
        return _error(exc.status, exc.code, exc.message)

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

    @app.get("/")
    def home():
        question = request.args.get("q", "")
        answer, error = None, None
        if question.strip():
            try:
                answer = service.ask(question, request.args.get("k", 5))
            except BadInput as exc:
                error = exc.message
        return render_template("index.html", question=question, answer=answer, error=error,
                               stats=service.stats())

    @app.get("/api/health")
    def health():
        return jsonify(service.stats())

    @app.route("/api/ask", methods=["GET", "POST"])
    def ask():
        if request.method == "POST":
            body = _json_body()
            return jsonify(service.ask(body.get("question"), body.get("k", 5)))
        return jsonify(service.ask(request.args.get("q"), request.args.get("k", 5)))

    return app


def _json_body() -> dict:
    """The request's JSON object, or a clear 4xx."""
    if not request.is_json:
        raise BadInput("unsupported_media_type", "send JSON with 'Content-Type: application/json'", status=415)
    body = request.get_json(silent=True)
    if body is None:
        raise BadInput("malformed_json", "request body is not valid JSON")
    if not isinstance(body, dict):
        raise BadInput("malformed_json", "request body must be a JSON object")
    return body


def _error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response
