"""The vector index interface: exact and IVF FAISS indexes behave the same way."""

import threading

import numpy as np
import pytest

from qa import ann, service as service_module
from qa.ann import FaissIndex, LockedIndex


def unit(rows):
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    centers = unit(rng.normal(size=(40, 32)))
    vectors = unit(centers[rng.integers(0, 40, 4000)] + 0.2 * rng.normal(size=(4000, 32)))
    return np.arange(10, 4010, dtype=np.int64), vectors


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_add_search_remove_save_load(kind, data, tmp_path):
    ids, vectors = data
    index = FaissIndex.flat(32) if kind == "flat" else FaissIndex.ivf(vectors)
    assert index.kind == kind
    index.add(ids, vectors)
    assert len(index) == 4000 and set(index.ids().tolist()) == set(ids.tolist())
    scores, found = index.search(vectors[5], 3)
    assert found[0][0] == ids[5] and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(index.vectors(ids[[7, 3]]), vectors[[7, 3]])
    index.remove(ids[:100])
    assert len(index) == 3900 and ids[5] not in set(index.ids().tolist())
    with pytest.raises(KeyError):
        index.vectors(ids[:1])
    assert ids[5] not in index.search(vectors[5], 10)[1][0]
    index.save(tmp_path / "v.faiss")
    loaded = FaissIndex.load(tmp_path / "v.faiss")
    assert loaded.kind == kind and len(loaded) == 3900
    assert loaded.search(vectors[200], 1)[1][0][0] == ids[200]


def test_ivf_recall_against_exact(data):
    ids, vectors = data
    exact, approx = FaissIndex.flat(32), FaissIndex.ivf(vectors)
    exact.add(ids, vectors)
    approx.add(ids, vectors)
    queries = unit(vectors[:200] + 0.05)
    truth = exact.search(queries, 10)[1]
    got = approx.search(queries, 10)[1]
    recall = np.mean([len(set(t) & set(g)) / 10 for t, g in zip(truth, got)])
    assert recall >= 0.95


def test_ivf_is_retrained_when_outgrown(data):
    ids, vectors = data
    index = FaissIndex.ivf(vectors[:1000])
    assert not index.outgrown(1000) and not index.outgrown(1500)
    assert index.outgrown(20000)
    assert not FaissIndex.flat(32).outgrown(10**9)


def test_unreadable_file_is_a_value_error(tmp_path):
    (tmp_path / "bad.faiss").write_bytes(b"nope")
    with pytest.raises(ValueError, match="unreadable FAISS index"):
        FaissIndex.load(tmp_path / "bad.faiss")


def test_locked_index_passes_through(data):
    ids, vectors = data
    locked = LockedIndex(FaissIndex.flat(32))
    locked.add(ids[:10], vectors[:10])
    assert len(locked) == 10 and locked.kind == "flat"
    locked.remove(ids[:5])
    assert sorted(locked.ids().tolist()) == ids[5:10].tolist()


def test_a_save_in_progress_holds_back_neither_writes_nor_searches(data, tmp_path, monkeypatch):
    ids, vectors = data
    index = LockedIndex(FaissIndex.flat(32))
    index.add(ids[:100], vectors[:100])
    writing, release = threading.Event(), threading.Event()
    real_write = ann.write_atomically

    def slow_disk(path, payload):
        writing.set()
        release.wait(10)
        real_write(path, payload)

    monkeypatch.setattr(ann, "write_atomically", slow_disk)
    saver = threading.Thread(target=index.save, args=(tmp_path / "v.faiss",))
    saver.start()
    assert writing.wait(10)
    writer = threading.Thread(target=index.add, args=(ids[100:200], vectors[100:200]))
    writer.start()
    writer.join(5)
    done_while_saving = not writer.is_alive()
    found_while_saving = index.search(vectors[150], 1)[1][0][0]  # a search, too, goes ahead
    release.set()
    saver.join()
    assert done_while_saving and found_while_saving == ids[150] and len(index) == 200
    assert len(FaissIndex.load(tmp_path / "v.faiss")) == 100  # the file holds the snapshot taken


def test_service_uses_ivf_when_asked(make_service, tmp_path, monkeypatch):
    monkeypatch.setattr(service_module, "IVF_MIN_VECTORS", 20)
    from qa.config import Settings

    base = make_service()
    base.sync()
    base.close()
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", ann="ivf")
    service = service_module.QAService(settings, embedder=base.embedder)
    try:
        assert service.index.kind == "ivf"
        assert len(service.index) == service.stats()["passages"]
        assert "S-400" in service.ask("What air defense system did Turkey buy?", 1)["results"][0]["answer"]
    finally:
        service.close()
    reopened = service_module.QAService(settings, embedder=base.embedder)  # the saved IVF file is reused
    try:
        assert reopened.index.kind == "ivf" and len(reopened.index) == reopened.stats()["passages"]
    finally:
        reopened.close()
