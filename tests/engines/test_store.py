"""The SQLite store: all-or-nothing writes, and the change log that derived indexes catch up from."""

import sqlite3

import numpy as np
import pytest

from qa.engines.contracts import ArticleRecord, FileStamp, PassageRecord
from qa.engines.local.store import Store
from qa.ingest import Article


def record(article_id, n_passages=2, text=None, file=None):
    text = text or " ".join(f"Sentence {i} of {article_id}." for i in range(n_passages))
    spans, at = [], 0
    for i in range(n_passages):
        sentence = f"Sentence {i} of {article_id}."
        start = text.index(sentence, at)
        spans.append((start, start + len(sentence)))
        at = start + len(sentence)
    rng = np.random.default_rng(len(article_id))
    passages = [PassageRecord(a, b, ((a, b),), rng.normal(size=8).astype(np.float32),
                              rng.normal(size=(1, 8)).astype(np.float32)) for a, b in spans]
    return ArticleRecord(Article(article_id, f"Title {article_id}", text), passages,
                         "corpus" if file else "api", file)


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "qa.sqlite3")
    yield store
    store.close()


def test_put_replace_delete_and_the_change_log(store):
    assert store.generation() == 0
    (first,), removed, g1 = store.put([record("a", 2)])
    assert removed == [] and len(first) == 2 and g1 > 0
    (second,), removed, g2 = store.put([record("a", 3)])  # a replacement
    assert sorted(removed) == sorted(first) and g2 > g1
    changes = store.changes_since(0)
    assert changes.added.tolist() == sorted(second)  # the first passages came and went
    assert sorted(changes.removed.tolist()) == sorted(first)
    assert store.changes_since(g2).added.size == 0
    deleted, g3 = store.delete("a")
    assert sorted(deleted) == sorted(second) and g3 > g2
    assert store.delete("a") is None
    assert store.counts() == (0, 0)


def test_a_forgotten_log_is_no_longer_offered(store):
    _, _, after_a = store.put([record("a")])
    _, _, generation = store.put([record("b")])
    store.forget_changes(after_a)
    assert store.changes_since(0) is None  # too far back: the caller compares ids instead
    assert store.changes_since(after_a).added.size == 2  # b's two passages
    assert store.changes_since(generation + 5) is None  # a generation from another store


def test_a_failed_put_stores_nothing(store):
    good = record("good")
    broken = ArticleRecord(Article("bad", None, "Text."), good.passages)  # a title is required
    with pytest.raises(sqlite3.IntegrityError):
        store.put([good, broken])
    assert store.counts() == (0, 0) and store.generation() == 0


def test_a_file_renamed_onto_another_articles_path_takes_it_over(store):
    store.put([record("old", file=FileStamp("story.txt", 1, 10))])
    store.put([record("new", file=FileStamp("story.txt", 2, 20))])
    assert store.article_ids() == ["new"]
    assert store.corpus_files() == {"story.txt": ("new", FileStamp("story.txt", 2, 20))}


def test_export_round_trips_what_was_put(store):
    original = record("a", 3)
    store.put([original])
    (exported,) = list(store.export())
    assert exported.article == original.article
    assert [(p.start, p.end, p.sentences) for p in exported.passages] == \
        [(p.start, p.end, p.sentences) for p in original.passages]
    assert np.allclose(exported.passages[1].vector, original.passages[1].vector)
    assert np.allclose(exported.passages[1].sentence_vectors, original.passages[1].sentence_vectors, atol=1e-2)
