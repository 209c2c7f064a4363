"""Errors the service raises on purpose, by meaning; the HTTP layer maps each kind to a status
and the CLI prints its message on one line.

Every error carries a stable machine-readable ``code`` and a message written for a person.
"""

from __future__ import annotations


class QAError(Exception):
    """An expected failure: ``code`` for programs, ``message`` for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class BadInput(QAError):
    """The caller sent something we cannot use."""


class Unauthorized(QAError):
    """A write without the API token it needs."""


class Forbidden(QAError):
    """A request this server refuses whoever sends it (another site's page, writes switched off)."""


class NotFound(QAError):
    """No such article, route or job."""


class Conflict(QAError):
    """The request contradicts what is stored: another model's index, an article owned by a file."""


class TooLarge(QAError):
    """A body or file over the configured limit."""


class Unsupported(QAError):
    """A content type or file type we do not read."""


class Busy(QAError):
    """Another process holds what this request needs; trying again later may work."""


class SetupError(QAError):
    """The server cannot do this at all as configured (a model that cannot load, a missing extra)."""


class StorageUnavailable(QAError):
    """The index's files cannot be written (a read-only folder, a disk I/O error): nothing was changed."""


class StorageFull(QAError):
    """The disk holding the index is full: nothing was changed."""


def storage_error(exc: BaseException) -> QAError | None:
    """What a failure of the disk under the index means to a client, or None if it is no such failure.
    SQLite reports these as ``OperationalError`` text; the file system as ``OSError`` numbers."""
    import errno
    import sqlite3

    text = str(exc).lower()
    full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        isinstance(exc, sqlite3.OperationalError) and "full" in text)
    if full:
        return StorageFull("storage_full", "the disk holding the index is full; nothing was changed")
    if (isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO)) or (
            isinstance(exc, sqlite3.OperationalError) and ("readonly" in text or "disk i/o" in text)):
        return StorageUnavailable("storage_unavailable", "the index cannot be written just now (read-only or "
                                                         "failing storage); nothing was changed, try again later")
    return None
