"""Changed passage settings or another model: the index refuses to open until it is rebuilt."""

import pytest

from qa.config import ChunkingConfig
from qa.errors import Conflict
from qa.ingest import Article


def test_changed_passage_settings_need_a_rebuild(make_service, test_encoder):
    service = make_service(encoder=test_encoder)
    service.sync()
    before = service.stats()["passages"]
    answer = service.ask("What air defense system did Turkey buy?", 1)["results"][0]["answer"]
    service.close()
    narrow = ChunkingConfig(size=2, stride=1)
    with pytest.raises(Conflict) as err:
        make_service(encoder=test_encoder, chunking=narrow)
    assert "--rebuild" in err.value.message
    rebuilt = make_service(encoder=test_encoder, chunking=narrow, allow_rebuild=True)
    with pytest.raises(Conflict) as err:  # nothing else is written into a mixed index
        rebuilt.add(Article(id="tram", title="Tram", text="The tram line opens in May. It crosses the river."))
    assert err.value.code == "model_mismatch"
    assert rebuilt.rebuild() == 1
    stats = rebuilt.stats()
    assert stats["passages"] == stats["vectors"] == stats["lexical"] != before
    assert rebuilt.ask("What air defense system did Turkey buy?", 1)["results"][0]["answer"] == answer
    rebuilt.close()
    again = make_service(encoder=test_encoder, chunking=narrow)  # the rebuilt index is accepted as it is
    assert again.stats()["passages"] == stats["passages"]


def test_an_interrupted_rebuild_is_reported(make_service, test_encoder):
    service = make_service(encoder=test_encoder)
    service.sync()
    service.close()
    narrow = ChunkingConfig(size=2, stride=1)
    rebuilding = make_service(encoder=test_encoder, chunking=narrow, allow_rebuild=True)
    rebuilding.engine.store.set_meta("build", "rebuilding:" + rebuilding.build_id)  # as a crash would leave it
    rebuilding.close()
    with pytest.raises(Conflict) as err:
        make_service(encoder=test_encoder, chunking=narrow)
    assert "was interrupted" in err.value.message
