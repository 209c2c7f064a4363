"""The FAISS vector index: exact and IVF behave the same way; its file is verified on loading."""

import threading

import numpy as np
import pytest

from qa.config import VectorIndexConfig
from qa.engines.local import vectors as vector_files
from qa.engines.local.vectors import FaissIndex, LockedIndex, choose_kind


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
    (top, score), *_ = index.search(vectors[5], 3)
    assert top == ids[5] and score == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(index.vectors(ids[[7, 3]]), vectors[[7, 3]])
    index.remove(ids[:100])
    assert len(index) == 3900 and ids[5] not in set(index.ids().tolist())
    with pytest.raises(KeyError):
        index.vectors(ids[:1])
    assert ids[5] not in [pid for pid, _ in index.search(vectors[5], 10)]
    vector_files.save(tmp_path / "v.faiss", index.serialize(), generation=42)
    loaded, generation = FaissIndex.load(tmp_path / "v.faiss")
    assert loaded.kind == kind and len(loaded) == 3900 and generation == 42
    assert loaded.search(vectors[200], 1)[0][0] == ids[200]


def test_ivf_recall_against_exact(data):
    ids, vectors = data
    exact, approx = FaissIndex.flat(32), FaissIndex.ivf(vectors)
    exact.add(ids, vectors)
    approx.add(ids, vectors)
    queries = unit(vectors[:200] + 0.05)
    recall = np.mean([len({p for p, _ in exact.search(q, 10)} & {p for p, _ in approx.search(q, 10)}) / 10
                      for q in queries])
    assert recall >= 0.95


def test_ivf_is_retrained_when_outgrown(data):
    ids, vectors = data
    index = FaissIndex.ivf(vectors[:1000])
    assert not index.outgrown(1000) and not index.outgrown(1500)
    assert index.outgrown(20000)
    assert not FaissIndex.flat(32).outgrown(10**9)


def test_the_kind_is_chosen_by_size_unless_configured():
    auto = VectorIndexConfig()
    assert choose_kind(auto, auto.auto_ivf_from - 1) == "flat" and choose_kind(auto, auto.auto_ivf_from) == "ivf"
    assert choose_kind(VectorIndexConfig(kind="flat"), 10**6) == "flat"
    assert choose_kind(VectorIndexConfig(kind="ivf"), auto.ivf_min) == "ivf"
    assert choose_kind(VectorIndexConfig(kind="ivf"), auto.ivf_min - 1) == "flat"  # too few to cluster


def test_a_file_that_is_not_ours_or_damaged_is_a_value_error(data, tmp_path):
    (tmp_path / "bad.faiss").write_bytes(b"nope")
    with pytest.raises(ValueError, match="unreadable FAISS index"):
        FaissIndex.load(tmp_path / "bad.faiss")
    ids, vectors = data
    index = FaissIndex.flat(32)
    index.add(ids, vectors)
    vector_files.save(tmp_path / "v.faiss", index.serialize(), generation=1)
    raw = bytearray((tmp_path / "v.faiss").read_bytes())
    for at in range(len(raw) // 2, len(raw) // 2 + 20):  # 20 flipped bytes inside the vectors
        raw[at] ^= 0xFF
    (tmp_path / "v.faiss").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum"):
        FaissIndex.load(tmp_path / "v.faiss")
    vector_files.save(tmp_path / "v.faiss", index.serialize(), generation=1)
    raw = bytearray((tmp_path / "v.faiss").read_bytes())
    raw[len(b"QA-VECTORS-2\n")] ^= 0x04  # the generation it reflects: 1 becomes 5, and the catch-up would trust it
    (tmp_path / "v.faiss").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum"):
        FaissIndex.load(tmp_path / "v.faiss")


def test_locked_index_passes_through(data):
    ids, vectors = data
    locked = LockedIndex(FaissIndex.flat(32))
    locked.add(ids[:10], vectors[:10])
    assert len(locked) == 10 and locked.kind == "flat"
    locked.remove(ids[:5])
    assert sorted(locked.ids().tolist()) == ids[5:10].tolist()


def test_a_snapshot_being_written_holds_back_neither_writes_nor_searches(data, tmp_path):
    ids, vectors = data
    index = LockedIndex(FaissIndex.flat(32))
    index.add(ids[:100], vectors[:100])
    snapshot = index.serialize()
    writing, release = threading.Event(), threading.Event()

    def slow_disk():
        writing.set()
        release.wait(10)
        vector_files.save(tmp_path / "v.faiss", snapshot, generation=1)

    saver = threading.Thread(target=slow_disk)
    saver.start()
    assert writing.wait(10)
    writer = threading.Thread(target=index.add, args=(ids[100:200], vectors[100:200]))
    writer.start()
    writer.join(5)
    done_while_saving = not writer.is_alive()
    found_while_saving = index.search(vectors[150], 1)[0][0]
    release.set()
    saver.join()
    assert done_while_saving and found_while_saving == ids[150] and len(index) == 200
    assert len(FaissIndex.load(tmp_path / "v.faiss")[0]) == 100  # the file holds the snapshot taken


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("exact_up_to", [vector_files.EXACT_UP_TO, 50])  # 50: through FAISS's id selector
def test_a_filtered_search_ranks_only_the_allowed_ids(kind, exact_up_to, data, monkeypatch):
    monkeypatch.setattr(vector_files, "EXACT_UP_TO", exact_up_to)
    ids, vectors = data
    index = FaissIndex.flat(32) if kind == "flat" else FaissIndex.ivf(vectors)
    index.add(ids, vectors)
    rng = np.random.default_rng(3)
    for size in (3, 400):
        allowed = np.sort(rng.choice(ids, size=size, replace=False))
        query = vectors[int(rng.integers(0, 4000))]
        found = index.search(query, 10, allowed)
        expected = allowed[np.argsort(-(vectors[allowed - 10] @ query))[:10]]
        assert len(found) == min(10, size) and {pid for pid, _ in found} <= set(allowed.tolist())
        recall = len({pid for pid, _ in found} & set(expected.tolist())) / len(expected)
        assert recall == 1.0 if kind == "flat" or size <= exact_up_to else recall >= 0.8
    assert index.search(vectors[0], 10, np.zeros(0, np.int64)) == []


def test_an_allowed_id_missing_from_the_index_is_skipped(data):
    ids, vectors = data
    index = LockedIndex(FaissIndex.flat(32))
    index.add(ids[:100], vectors[:100])
    found = index.search(vectors[3], 5, np.array([ids[3], ids[4], 10**9], np.int64))  # removed, or not yet added
    assert [pid for pid, _ in found] == [ids[3], ids[4]]
