"""The write path through the service: add, replace, no-op, remove, and the corpus-file rule."""

import pytest

from qa.errors import BadInput, Conflict, NotFound
from qa.ingest import Article


def test_the_same_id_twice_in_one_add_leaves_the_indexes_in_step(make_service, test_encoder):
    service = make_service(corpus_files=(), encoder=test_encoder)
    first = Article(id="story", title="Story", text="The first draft says the vote is on Monday.")
    second = Article(id="story", title="Story", text="The final text says the vote moved to Thursday.")
    results = service.add_many([first, second])
    assert [r.status for r in results] == ["added", "replaced"]
    stats = service.stats()
    assert stats["passages"] == stats["vectors"] == stats["lexical"] == 1
    assert "Thursday" in service.ask("When is the vote?", 1)["results"][0]["text"]


def test_an_article_without_an_id_gets_one_from_its_title_and_is_a_no_op_when_stored(make_service, test_encoder):
    service = make_service(corpus_files=(), encoder=test_encoder)
    story = Article(id="", title="Bridge Reopens", text="The bridge reopened on Friday. Traffic is back.")
    assert service.add(story).as_dict() == {"id": "bridge-reopens", "status": "added", "passages": 1,
                                            "title": "Bridge Reopens"}
    assert service.add(story).status == "unchanged"
    other = Article(id="", title="Bridge Reopens", text="Another bridge, another town. It opened in May.")
    assert service.add(other).id == "bridge-reopens-2"


def test_refused_writes_change_nothing(make_service, test_encoder):
    service = make_service(encoder=test_encoder)
    service.sync()
    before = service.stats()
    with pytest.raises(BadInput) as err:
        service.add(Article(id="dots", title="Dots", text="... !!! ???"))
    assert err.value.code == "no_sentences"
    with pytest.raises(Conflict) as err:  # the seed is a file in corpus/
        service.add(Article(id="turkish-russian-partnership", title="Other", text="Other text. Refused."))
    assert "corpus/turkish-russian-partnership.txt" in err.value.message
    with pytest.raises(Conflict):
        service.remove("turkish-russian-partnership")
    with pytest.raises(NotFound):
        service.remove("no-such-article")
    with pytest.raises(BadInput):
        service.remove("../escape")
    assert service.stats() == before


def test_import_copies_an_export_without_embedding(make_service, tmp_path, test_encoder, monkeypatch):
    source = make_service(encoder=test_encoder)
    source.sync()
    records = list(source.export())
    monkeypatch.setattr(test_encoder, "encode_passages", lambda *a: pytest.fail("embedded again"))
    copy = make_service(corpus_files=(), index_dir=tmp_path / "copy", encoder=test_encoder)
    assert copy.import_records(records) == 1
    assert copy.stats() == source.stats()
    question = "Who is building Turkey's nuclear reactors?"
    assert copy.ask(question, 3)["results"] == source.ask(question, 3)["results"]
