"""Errors the service raises on purpose; the web layer and the CLI turn them into messages."""

from __future__ import annotations


class QAError(Exception):
    """An error with a stable machine-readable code, a human message and an HTTP status."""

    status = 400

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


class BadInput(QAError):
    """The caller sent something we cannot use (400 unless said otherwise)."""


class NotFound(QAError):
    status = 404


class Conflict(QAError):
    """The stored index does not match the request, e.g. it was built by another model."""

    status = 409
