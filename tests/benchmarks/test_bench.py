"""The benchmark's cached corpora: reused only when built the way this version builds."""

import sys

from helpers import ROOT
from qa.ingest import Article

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench  # noqa: E402  (the benchmark program, outside the package)


def test_cached_corpora_built_another_way_are_dropped(tmp_path, test_encoder):
    base = tmp_path / "scifact"
    service = bench.open_service(base, test_encoder)
    service.add(Article(id="a", title="Tides", text="The tide rose at noon. It fell again by night."))
    service.close()
    (base / "complete").write_text("ok")
    (tmp_path / "size-10000").mkdir()
    bench.forget_stale(tmp_path, test_encoder)
    assert (base / "complete").exists() and (tmp_path / "size-10000").exists()  # same build: kept
    service = bench.open_service(base, test_encoder)
    service.engine.store.set_meta("build", "an older way of cutting passages")
    service.close()
    bench.forget_stale(tmp_path, test_encoder)
    assert not base.exists() and not (tmp_path / "size-10000").exists()


def test_a_larger_corpus_is_cloned_with_its_vectors(tmp_path, test_encoder, monkeypatch):
    base = tmp_path / "scifact"
    service = bench.open_service(base, test_encoder)
    service.add_many([Article(id=f"doc{n}", title=f"Doc {n}", text=f"Fact {n} is true. Fact {n} was tested.")
                      for n in range(5)])
    service.close()
    monkeypatch.setattr(test_encoder, "encode_passages", lambda *a: (_ for _ in ()).throw(AssertionError("embedded")))
    bench.clone(base, tmp_path / "size-12", 12, test_encoder)
    copy = bench.open_service(tmp_path / "size-12", test_encoder)
    try:
        stats = copy.stats()
        assert stats["passages"] == stats["vectors"] == stats["lexical"] == 12
        assert {"doc0", "doc0~1", "doc1~2"} <= {a["id"] for a in copy.articles(0, 100)["articles"]}
    finally:
        copy.close()
