"""The local engine's files: restart keeps everything; the vector and lexical indexes are caches of
SQLite that catch up from its change log, or are rebuilt from it, without re-embedding."""

import logging
import shutil
import sqlite3

import pytest

from qa.config import VectorIndexConfig
from qa.engines.local.store import Store
from qa.engines.local.vectors import FaissIndex
from qa.errors import Conflict
from qa.ingest import Article

QUESTION = "Who is building Turkey's nuclear reactors?"


def top_answer(service):
    return service.ask(QUESTION, 1)["results"][0]["answer"]


@pytest.fixture
def no_embedding(monkeypatch, test_encoder):
    def refuse(*args, **kwargs):
        raise AssertionError("passages were embedded again")
    return lambda: monkeypatch.setattr(test_encoder, "encode_passages", refuse)


def in_step(stats):
    return stats["passages"] == stats["vectors"] == stats["lexical"]


def notes(n, start=0):
    return [Article(f"note-{i}", f"Note {i}", f"Observer {i} counted {i + 3} finches near marker Q{i}. "
                                             f"The count at Q{i} was confirmed.") for i in range(start, start + n)]


def test_restart_keeps_articles_passages_and_vectors(make_service, test_encoder, no_embedding):
    first = make_service(encoder=test_encoder)
    first.sync()
    before, answer = first.stats(), top_answer(first)
    first.close()
    no_embedding()
    second = make_service(encoder=test_encoder)
    assert second.sync().unchanged == 1
    assert second.stats() == before and in_step(before)
    assert top_answer(second) == answer


@pytest.mark.parametrize("damage", ["missing", "garbage", "flipped bytes"])
def test_a_missing_or_damaged_vector_file_is_logged_and_rebuilt_from_sqlite(damage, make_service, tmp_path,
                                                                           test_encoder, no_embedding, caplog):
    first = make_service(encoder=test_encoder)
    first.sync()
    stats, answer = first.stats(), top_answer(first)
    first.close()
    path = tmp_path / "index" / "vectors.faiss"
    if damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"this is not a faiss index")
    else:
        raw = bytearray(path.read_bytes())
        for at in range(len(raw) - 400, len(raw) - 380):
            raw[at] ^= 0x5A
        path.write_bytes(bytes(raw))
    no_embedding()
    with caplog.at_level(logging.WARNING, logger="qa"):
        second = make_service(encoder=test_encoder)
    if damage != "missing":
        assert "unreadable FAISS index" in caplog.text and "rebuilding it from the vectors in SQLite" in caplog.text
    assert second.stats() == stats and top_answer(second) == answer
    assert path.exists(), "the rebuilt index is saved again"


@pytest.mark.parametrize("log_kept", [True, False])
def test_indexes_saved_behind_the_database_catch_up(log_kept, make_service, tmp_path, test_encoder, caplog):
    """A crash after writes were committed but before the derived files were saved: they catch up
    from the store's change log, or, when it no longer reaches back, by comparing every id."""
    service = make_service(corpus_files=(), encoder=test_encoder)
    service.add_many(notes(5))
    service.close()
    index = tmp_path / "index"
    shutil.copy(index / "vectors.faiss", tmp_path / "old.faiss")
    shutil.copytree(index / "lexical", tmp_path / "old-lexical")
    service = make_service(corpus_files=(), encoder=test_encoder)
    service.add_many(notes(3, start=5))
    service.remove("note-0")
    service.add(Article("note-1", "Note 1", "Observer 1 moved to marker R1. No finches were seen there."))
    expected = service.stats()
    with sqlite3.connect(index / "qa.sqlite3") as live, sqlite3.connect(tmp_path / "crash.sqlite3") as copy:
        live.backup(copy)  # the database as the crash left it
    service.close()
    for leftover in index.glob("qa.sqlite3*"):
        leftover.unlink()
    shutil.copy(tmp_path / "crash.sqlite3", index / "qa.sqlite3")
    shutil.copy(tmp_path / "old.faiss", index / "vectors.faiss")
    shutil.rmtree(index / "lexical")
    shutil.copytree(tmp_path / "old-lexical", index / "lexical")
    store = Store(index / "qa.sqlite3")
    if not log_kept:
        store.forget_changes(store.generation())
    saved_at = FaissIndex.load(index / "vectors.faiss")[1]
    assert (store.changes_since(saved_at) is not None) == log_kept
    store.close()
    with caplog.at_level(logging.INFO, logger="qa"):
        again = make_service(corpus_files=(), encoder=test_encoder)
    assert again.stats() == expected and in_step(expected)
    assert "vector index brought up to date: 4 added, 2 removed" in caplog.text  # notes 5-7 and the new note 1
    assert "lexical index brought up to date: 4 added, 2 removed" in caplog.text
    assert again.ask("finches near marker Q6", 1)["results"][0]["article"]["id"] == "note-6"
    assert all(r["article"]["id"] != "note-0" for r in again.ask("finches near marker Q0", 10)["results"])


def test_the_index_refuses_another_model(make_service, tmp_path, test_encoder):
    service = make_service(encoder=test_encoder)
    service.sync()
    service.engine.store.set_meta("build", "some-other-model | window=3")
    service.close()
    with pytest.raises(Conflict) as err:
        make_service(encoder=test_encoder)
    assert "some-other-model" in err.value.message and "--rebuild" in err.value.message


def test_ivf_is_used_when_asked_and_reused_after_a_restart(make_service, test_encoder):
    ivf = VectorIndexConfig(kind="ivf", ivf_min=20)
    service = make_service(encoder=test_encoder)
    service.sync()
    service.close()
    service = make_service(encoder=test_encoder, vector_index=ivf)
    stats = service.stats()
    assert stats["vector_index"] == "ivf" and in_step(stats)
    assert "nuclear reactors" in top_answer(service)
    service.close()
    reopened = make_service(encoder=test_encoder, vector_index=ivf)  # the saved IVF file is reused
    assert reopened.stats() == stats


