"""Injected faults of the disk under the index (issue 16), over real HTTP with the real model: a failing
disk answers 503/507 and changes nothing; a lexical index that cannot be written does not fail a write
SQLite committed, and catches up without a restart; the saver's error log backs off."""

from __future__ import annotations

import errno
import logging
import sqlite3
import time

import httpx
import pytest

from helpers import serving
from qa.engines.local import engine as local_engine
from qa.engines.local import vectors as faiss_files


@pytest.fixture
def served(make_service):
    service = make_service()
    service.sync()
    with serving(service) as base, httpx.Client(base_url=base, timeout=120) as client:
        yield service, client


def counts(client) -> dict:
    stats = client.get("/api/health").json()
    return {key: stats[key] for key in ("articles", "passages", "vectors", "lexical")}


def story(title: str) -> dict:
    return {"title": title, "text": f"{title}: the ferry left at noon. It came back with forty cars on board."}


@pytest.fixture
def failing_disk(monkeypatch):
    """Make the store's writes fail as SQLite reports a read-only or a full disk."""
    def fail_with(service, message: str) -> None:
        def fail(*args, **kwargs):
            raise sqlite3.OperationalError(message)
        monkeypatch.setattr(service.engine.store, "put", fail)
        monkeypatch.setattr(service.engine.store, "delete", fail)
    return fail_with


@pytest.mark.parametrize("message,status,code", [
    ("attempt to write a readonly database", 503, "storage_unavailable"),
    ("disk I/O error", 503, "storage_unavailable"),
    ("database or disk is full", 507, "storage_full"),
])
def test_a_failing_disk_is_a_503_or_507_and_changes_nothing(served, failing_disk, message, status, code):
    service, client = served
    kept = client.post("/api/articles", json=story("Kept Story")).json()["id"]
    before = counts(client)
    failing_disk(service, message)
    for response in (client.post("/api/articles", json=story("Disk Probe")),
                     client.delete(f"/api/articles/{kept}"),
                     client.post("/", data={"title": "Form Probe", "text": story("Form Probe")["text"]})):
        assert response.status_code == status, response.text
        assert "Traceback" not in response.text
    assert client.post("/api/articles", json=story("Disk Probe")).json()["error"]["code"] == code
    assert counts(client) == before


def test_an_unwritable_lexical_index_fails_no_write_and_catches_up(served, monkeypatch, caplog):
    service, client = served
    lexical = service.engine.lexical
    healthy_commit = lexical.commit

    def unwritable(generation):
        raise OSError(errno.EACCES, "Permission denied", str(lexical.path))

    monkeypatch.setattr(lexical, "commit", unwritable)
    with caplog.at_level(logging.ERROR, logger="qa.engine"):
        first = client.post("/api/articles", json=story("Ferry One"))
        second = client.post("/api/articles", json=story("Ferry Two"))
        removed = client.delete(f"/api/articles/{first.json()['id']}")
    assert (first.status_code, second.status_code, removed.status_code) == (201, 201, 200)
    assert "could not write the lexical index" in caplog.text
    stats = counts(client)
    assert stats["articles"] == 2 and stats["passages"] == stats["vectors"]
    monkeypatch.setattr(lexical, "commit", healthy_commit)  # the folder is writable again
    deadline = time.time() + 30
    while counts(client)["lexical"] != counts(client)["passages"]:
        assert time.time() < deadline, f"the lexical index never caught up: {counts(client)}"
        time.sleep(0.2)
    top = client.get("/api/ask", params={"q": "Ferry Two forty cars", "k": 1}).json()["results"][0]
    assert top["article"]["id"] == second.json()["id"]


def test_the_savers_error_log_backs_off(make_service, test_encoder, monkeypatch, caplog):
    monkeypatch.setattr(local_engine, "RETRY_S", (0.01, 0.08))  # before the saver thread starts
    service = make_service(encoder=test_encoder)
    service.sync()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(faiss_files, "save", full)
    with caplog.at_level(logging.ERROR, logger="qa.engine"):
        service.add(service_article("Saver Probe"))
        deadline = time.time() + 30
        while len(retries := [r for r in caplog.records if "trying again in" in r.getMessage()]) < 5:
            assert time.time() < deadline, caplog.text
            time.sleep(0.05)
    delays = [float(r.args[-1]) for r in retries[:5]]
    assert delays == [0.02, 0.04, 0.08, 0.08, 0.08]
    monkeypatch.undo()


def service_article(title: str):
    from qa.ingest import from_fields

    return from_fields(story(title)["text"], title)
