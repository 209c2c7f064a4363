"""The Milvus engine's own promises: everything lives in Milvus (a second server on an empty folder
sees it all), a write stopped half-way is finished or undone at the next start, a local index
migrates without re-embedding, and filter values cannot break out of their expression."""

import json
import shutil

import numpy as np
import pytest

from conftest import MILVUS_SERVER, EngineUnderTest
from helpers import http, kill, start_server, stop
from qa.engines.contracts import Filter
from qa.engines.milvus.collections import Clients, Names, query_all
from qa.engines.milvus.store import MilvusStore
from qa.ingest import Article
from qa.serve.cli import main

MILVUS_ENGINES = ["milvus"] + (["milvus-server"] if MILVUS_SERVER else [])

BRIDGE = Article("bridge", "Bridge Reopens", "The old Kelvin bridge over the river reopened on Friday after two "
                                             "years of repairs. Traffic returns to normal within a week.")
BRIDGE_2 = Article("bridge", "Bridge Reopens", "The Kelvin bridge reopened on Saturday, a day late, after the "
                                               "final inspection of its new steel deck found loose bolts.")


@pytest.fixture(params=MILVUS_ENGINES)
def milvus(request) -> EngineUnderTest:
    return EngineUnderTest.of(request.param)


@pytest.mark.slow
def test_a_second_server_on_an_empty_folder_sees_every_article(tmp_path, milvus):
    shared = {**milvus.env, "QA_MILVUS_URI": milvus.settings.get("milvus_uri") or str(tmp_path / "milvus.db")}
    (tmp_path / "a").mkdir()
    first, base = start_server(tmp_path / "a", env=shared)
    status, body = http("POST", base + "/api/articles", {"id": "bridge", "title": BRIDGE.title, "text": BRIDGE.text})
    assert status == 201, body
    if milvus.name == "milvus":
        stop(first)  # Milvus Lite: one process per file
    # No index folder: all it has is the Milvus address, and the same corpus folder (replicas share
    # one: a server removes the articles of files its corpus folder no longer has).
    empty = tmp_path / "b"
    empty.mkdir()
    second, base = start_server(empty, env=shared)
    try:
        health = http("GET", base + "/api/health")[1]
        assert health["engine"] == "milvus" and health["articles"] == 2
        top = http("GET", base + "/api/ask?q=When+did+the+Kelvin+bridge+reopen%3F&k=1")[1]["results"][0]
        assert top["article"]["id"] == "bridge" and "reopened on Friday" in top["answer"]
        assert not (empty / "index" / "qa.sqlite3").exists()
    finally:
        kill(second)
        if milvus.name != "milvus":
            kill(first)


class Hooked:
    """A Milvus client whose ``method`` calls on ``collection`` run ``hook`` first (``after=False``)
    or once the call has answered: a crash at that step, or another writer's write mid-call."""

    def __init__(self, client, method: str, collection: str, hook, after: bool = False):
        self._client, self._method, self._collection, self._hook, self._after = client, method, collection, hook, after

    def __getattr__(self, name):
        call = getattr(self._client, name)
        if name != self._method:
            return call

        def hooked(collection, *args, **kwargs):
            if collection == self._collection and not self._after:
                self._hook()
            result = call(collection, *args, **kwargs)
            if collection == self._collection and self._after:
                self._hook()
            return result
        return hooked


def failing(client, method: str, collection: str) -> Hooked:
    """A client that fails ``method`` on ``collection``."""
    def fail():
        raise ConnectionError(f"{method} on {collection} failed")
    return Hooked(client, method, collection, fail)


def record_of(make_service, test_encoder, tmp_path, article):
    """``article`` as the writer makes it (passages and vectors), from a local index of its own."""
    other = make_service(corpus_files=(), index_dir=tmp_path / "other", encoder=test_encoder)
    other.add(article)
    return next(r for r in other.export() if r.article.id == article.id)


def df_is_exact(service, word):
    """The term count BM25's idf uses, against the passages that really hold the term."""
    term = service.engine.lexical.terms(word)[0]
    holding = sum(term in service.engine.lexical.terms(r.article.text[p.start:p.end] + " " + r.article.title)
                  for r in service.export() for p in r.passages)
    return service.engine.store.term_counts([term]).get(term, 0) == holding


@pytest.mark.parametrize("step, method, collection, visible", [
    ("before the flip", "upsert", "articles", BRIDGE),      # undone: the old version stays
    ("after the flip", "delete", "passages", BRIDGE_2),     # finished: the new version stays
])
def test_a_write_stopped_half_way_is_undone_or_finished_at_the_next_start(
        make_service, test_encoder, tmp_path, milvus, step, method, collection, visible):
    service = make_service(corpus_files=(), encoder=test_encoder, **milvus.settings)
    service.add(BRIDGE)
    before = service.stats()
    names = Names.of(service.settings.milvus_prefix)
    uri, token = service.settings.milvus_uri_or_default, service.settings.milvus_token
    client = Clients.take(uri, token)
    try:
        crashing = MilvusStore(failing(client, method, getattr(names, collection)), names, "crashing")
        with pytest.raises(ConnectionError):
            crashing.put([record_of(make_service, test_encoder, tmp_path, BRIDGE_2)])
        # Readers see one whole version while the write is stopped: never a mix of the two.
        texts = {r["text"] for r in service.ask("When did the Kelvin bridge reopen?", 10)["results"]}
        assert texts and all(t in visible.text for t in texts), step
    finally:
        Clients.give_back(uri, token)
    service.close()
    reopened = make_service(corpus_files=(), index_dir=service.settings.index_dir, encoder=test_encoder,
                            **milvus.settings)
    assert reopened.article("bridge")["text"] == visible.text
    stats = reopened.stats()
    passages = {p.start for r in reopened.export() for p in r.passages}
    assert stats["passages"] == stats["vectors"] == len(passages), "a stale or orphan passage is left"
    assert stats["articles"] == before["articles"]
    assert df_is_exact(reopened, "Kelvin") and df_is_exact(reopened, "Saturday") and df_is_exact(reopened, "Friday")


def test_term_counts_stay_exact_when_two_writers_write_at_once(make_service, test_encoder, tmp_path, milvus):
    """Two servers or indexing workers on one Milvus: each counts terms in rows of its own, so
    neither loses the other's counts (one shared row per term, read and written back, did)."""
    service = make_service(corpus_files=(), encoder=test_encoder, **milvus.settings)
    local = make_service(corpus_files=(), index_dir=tmp_path / "other", encoder=test_encoder)
    for n, text in enumerate(["The harbour crane lifted the first steel beams of the new pier on Friday.",
                              "Ferry crews at the harbour went on strike on Friday over night shifts.",
                              "A cargo ship ran aground outside the harbour; tugs freed it by Friday noon.",
                              "The harbour board approved higher mooring fees for yachts from Friday."]):
        local.add(Article(f"harbour-{n}", f"Harbour report {n}", text))
    records = {r.article.id: r for r in local.export()}
    names = Names.of(service.settings.milvus_prefix)
    uri, token = service.settings.milvus_uri_or_default, service.settings.milvus_token
    client = Clients.take(uri, token)
    try:
        west = MilvusStore(client, names, "west")
        west.put([records["harbour-0"]])
        meanwhile = [lambda: west.put([records["harbour-2"]]), lambda: west.put([records["harbour-3"]])]
        east = MilvusStore(Hooked(client, "get", names.terms, lambda: meanwhile and meanwhile.pop(0)(), after=True),
                           names, "east")
        east.put([records["harbour-1"]])  # west adds harbour-2 while east counts
        east.delete("harbour-0")  # west's article; west adds harbour-3 while east counts
        assert not meanwhile
    finally:
        Clients.give_back(uri, token)
    assert {a["id"] for a in service.articles()["articles"]} == {"harbour-1", "harbour-2", "harbour-3"}
    assert all(df_is_exact(service, word) for word in ("harbour", "Friday", "report", "ferry", "tugs", "crane"))


def test_a_folder_counts_terms_as_one_writer_across_restarts(make_service, test_encoder, milvus):
    """Restarts reuse the folder's writer (its rows grow with the terms, not with the restarts); a
    second process on the same folder counts as a writer of its own."""
    service = make_service(corpus_files=(), encoder=test_encoder, **milvus.settings)
    folder = service.settings.index_dir
    service.add(BRIDGE)
    service.close()
    again = make_service(corpus_files=(), index_dir=folder, encoder=test_encoder, **milvus.settings)
    again.add(Article("ferry", "Ferry Returns", "The river ferry returned to the Kelvin crossing on Monday."))
    beside = make_service(corpus_files=(), index_dir=folder, encoder=test_encoder, **milvus.settings)
    beside.add(Article("tug", "Tug Sinks", "A tug sank near the Kelvin bridge on Tuesday; its crew swam ashore."))
    uri, token = again.settings.milvus_uri_or_default, again.settings.milvus_token
    client = Clients.take(uri, token)
    try:
        writers = query_all(client, Names.of(again.settings.milvus_prefix).meta, 'key like "writer:%"', [], key="key")
    finally:
        Clients.give_back(uri, token)
    assert len(writers) == 2
    assert all(df_is_exact(again, word) for word in ("Kelvin", "ferry", "tug", "bridge"))


def test_filter_values_stay_inside_their_expression(make_service, test_encoder, milvus):
    service = make_service(corpus_files=(), encoder=test_encoder, **milvus.settings)
    quoted = 'The "Quoted" \\ Times'
    service.add(Article("a", "Harbour works", "The harbour works finished in May.", source=quoted))
    service.add(Article("b", "Harbour fees", "The harbour fees rose in June.", source="Plain News"))
    found = service.ask("harbour", 5, {"source": [quoted]})["results"]
    assert {r["article"]["id"] for r in found} == {"a"}
    breakout = 'x" or source_key != "'
    assert service.ask("harbour", 5, {"source": [breakout]})["results"] == []
    assert service.engine.store.facets(Filter(sources=(quoted.upper(),)))["source"] == [("Plain News", 1), (quoted, 1)]


@pytest.mark.slow
def test_a_local_index_migrates_to_milvus_without_re_embedding(make_service, embedder, tmp_path, milvus, monkeypatch):
    local = make_service(encoder=embedder)
    local.sync()
    local.add(BRIDGE)
    question = "Who is building Turkey's nuclear reactors?"
    expected = local.ask(question, 3)["results"]
    records = {r.article.id: r for r in local.export()}
    local.close()
    argv = ["index", "--migrate-to", "milvus", "--index-dir", str(local.settings.index_dir),
            "--corpus-dir", str(local.settings.corpus_dir), "--json"]
    if "milvus_uri" in milvus.settings:
        argv += ["--milvus-uri", milvus.settings["milvus_uri"]]
    if "QA_MILVUS_PREFIX" in milvus.env:
        monkeypatch.setenv("QA_MILVUS_PREFIX", milvus.env["QA_MILVUS_PREFIX"])
    assert main(argv) == 0
    moved = make_service(index_dir=local.settings.index_dir, encoder=embedder, **milvus.settings)
    assert moved.stats()["articles"] == len(records)
    for record in moved.export():
        original = records[record.article.id]
        assert record.article == original.article and record.origin == original.origin
        assert np.array_equal(np.stack([p.vector for p in record.passages]),
                              np.stack([p.vector for p in original.passages])), "vectors were re-made"
    got = moved.ask(question, 3)["results"]
    assert [r["text"] for r in got] == [r["text"] for r in expected]
    assert [r["score"] for r in got] == pytest.approx([r["score"] for r in expected], abs=1e-3)
    assert moved.sync().unchanged == 1  # the seed file is known as the same file: nothing re-read
    shutil.rmtree(local.settings.index_dir / "lexical")  # nothing the Milvus engine answers with is local
    assert json.dumps(moved.ask(question, 3)["results"]) == json.dumps(got)
