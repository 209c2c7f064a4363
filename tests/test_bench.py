"""The benchmark's cached corpora: reused only when built the way this version builds."""

import sqlite3

from qa import bench
from qa.articles import Article


def test_cached_corpora_built_another_way_are_dropped(tmp_path, embedder):
    base = tmp_path / "scifact"
    service = bench._service(base, embedder)
    service.add(Article(id="a", title="Tides", text="The tide rose at noon. It fell again by night."))
    service.close()
    (base / "complete").write_text("ok")
    (tmp_path / "size-10000").mkdir()
    bench.forget_stale(tmp_path, embedder)
    assert (base / "complete").exists() and (tmp_path / "size-10000").exists()  # same build: kept
    with sqlite3.connect(base / "qa.sqlite3") as conn:
        conn.execute("UPDATE meta SET value = 'an older way of cutting passages' WHERE key = 'build'")
    bench.forget_stale(tmp_path, embedder)
    assert not base.exists() and not (tmp_path / "size-10000").exists()
