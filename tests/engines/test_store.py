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


def test_a_filter_resolves_to_exactly_the_passages_of_the_articles_it_allows(store, tmp_path):
    from dataclasses import replace

    from qa.engines.contracts import Filter

    sources, dates = ("City News", "valley times", None), ("2024-01-31", "2024-02-01", None, "2024-03-15")
    records = []
    for i in range(12):
        r = record(f"a{i}", n_passages=1 + i % 3)
        records.append(replace(r, article=replace(r.article, source=sources[i % 3], date=dates[i % 4],
                                                  author="Ana" if i % 2 else "Ben")))
    store.put(records[:6])
    store.put(records[6:])
    store.put([records[4]])  # replaced: new ids
    raw = sqlite3.connect(tmp_path / "qa.sqlite3", isolation_level=None)
    raw.execute("UPDATE articles SET first_passage = NULL, passage_count = NULL WHERE id = 'a7'")  # no run kept
    by_article = {row[0]: [] for row in raw.execute("SELECT id FROM articles")}
    for pid, article in raw.execute("SELECT id, article_id FROM passages"):
        by_article[article].append(pid)
    meta = {r.article.id: r.article for r in records}
    for where, wanted in [(Filter(sources=("CITY NEWS",)), lambda a: a.source == "City News"),
                          (Filter(sources=("Valley Times",), authors=("ana",)),
                           lambda a: a.source == "valley times" and a.author == "Ana"),
                          (Filter(date_from="2024-02-01"), lambda a: a.date and a.date >= "2024-02-01"),
                          (Filter(date_to="2024-01-31", articles=("a0", "a4", "a7")),
                           lambda a: a.id in ("a0", "a4", "a7") and a.date and a.date <= "2024-01-31"),
                          (Filter(articles=("a7",)), lambda a: a.id == "a7")]:
        expected = sorted(p for article_id, ids in by_article.items() if wanted(meta[article_id]) for p in ids)
        assert store.allowed(where).tolist() == expected, where
    store.close()
    for statement in ("DROP INDEX articles_source", "DROP INDEX articles_author", "DROP INDEX articles_date",
                      "ALTER TABLE articles DROP COLUMN passage_count", "ALTER TABLE articles DROP COLUMN first_passage"):
        raw.execute(statement)  # a database from before the runs were kept: they are found when it opens
    raw.close()
    migrated = Store(tmp_path / "qa.sqlite3")
    assert migrated.allowed(Filter(articles=("a7", "a4"))).tolist() == sorted(by_article["a7"] + by_article["a4"])
    migrated.close()
