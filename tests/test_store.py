"""Durable storage: restart keeps everything; the FAISS file is a cache rebuilt from SQLite."""

import logging

import numpy as np
import pytest

from qa.config import Settings
from qa.errors import Conflict
from qa.service import QAService

QUESTION = "Who is building Turkey's nuclear reactors?"


def top_answer(service):
    return service.ask(QUESTION, 1)["results"][0]["answer"]


def forbid_embedding(monkeypatch, embedder):
    def refuse(*args, **kwargs):
        raise AssertionError("passages were embedded again")
    monkeypatch.setattr(embedder, "encode_passages", refuse)


def test_restart_keeps_articles_passages_and_vectors(make_service, tmp_path, embedder, monkeypatch):
    first = make_service()
    first.sync()
    before = first.stats()
    answer = top_answer(first)
    first.close()
    forbid_embedding(monkeypatch, embedder)
    second = make_service()
    assert second.sync().unchanged == 1
    assert second.stats() == before
    assert top_answer(second) == answer
    assert "nuclear reactors" in answer


def test_missing_faiss_file_is_rebuilt_from_sqlite_without_embedding(make_service, embedder, monkeypatch):
    first = make_service()
    first.sync()
    stats, answer = first.stats(), top_answer(first)
    first.close()
    first.index_path.unlink()
    forbid_embedding(monkeypatch, embedder)
    second = make_service()
    assert second.stats() == stats
    assert stats["vectors"] == stats["passages"] > 0
    assert top_answer(second) == answer
    assert second.index_path.exists(), "the rebuilt index is saved again"


def test_corrupt_faiss_file_is_logged_and_rebuilt(make_service, embedder, monkeypatch, caplog):
    first = make_service()
    first.sync()
    stats = first.stats()
    first.close()
    first.index_path.write_bytes(b"this is not a faiss index")
    forbid_embedding(monkeypatch, embedder)
    with caplog.at_level(logging.WARNING, logger="qa"):
        second = make_service()
    assert "unreadable FAISS index" in caplog.text
    assert second.stats() == stats


def test_index_behind_the_database_catches_up(make_service, embedder):
    service = make_service()
    service.sync()
    stale_ids = service.index.ids()
    service.save_index()
    doomed = int(stale_ids[0])
    # The database moves on while the saved FAISS and BM25 files stay behind: one passage gone.
    with service.store.transaction() as conn:
        conn.execute("DELETE FROM passages WHERE id = ?", (doomed,))
    service.close()
    service._dirty.clear()
    again = make_service()
    assert doomed not in set(again.index.ids().tolist())
    assert doomed not in set(again.bm25.ids().tolist())
    assert len(again.index) == len(again.bm25) == again.stats()["passages"] == len(stale_ids) - 1


def test_index_refuses_another_model(make_service, tmp_path, embedder):
    service = make_service()
    service.sync()
    service.close()
    with service.store.transaction() as conn:
        service.store.set_meta(conn, "build", "some-other-model | window=3")
    with pytest.raises(Conflict) as err:
        QAService(Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"), embedder=embedder)
    assert "some-other-model" in err.value.message and "--rebuild" in err.value.message


def test_stored_vectors_are_unit_length(make_service):
    service = make_service()
    service.sync()
    ids, vectors = service.store.vectors(service.store.passage_ids())
    assert len(ids) == service.stats()["passages"]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
