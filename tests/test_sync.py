"""The corpus folder: files dropped in, changed or deleted are mirrored by sync; rebuilds re-embed."""

import os

import pytest

from qa.articles import Article, read_file
from qa.chunking import ChunkingConfig
from qa.errors import Conflict


def test_sync_mirrors_the_folder(make_service, tmp_path):
    service = make_service()
    assert service.sync().as_dict() == {"added": 1, "updated": 0, "removed": 0, "unchanged": 0, "errors": []}
    corpus = tmp_path / "corpus"
    (corpus / "otters.md").write_text("# Otters Return\n\nOtters returned to the Wey river this spring. "
                                      "Anglers reported sightings near the old mill.\n")
    (corpus / "notes").mkdir()
    (corpus / "notes" / "weir.txt").write_text("Weir Repaired\n\nThe Thames Ditton weir was repaired in June. "
                                                "Boats can pass again.\n")
    (corpus / ".hidden.txt").write_text("Hidden files are not articles. They are skipped.")
    (corpus / "broken.txt").write_bytes(b"caf\xe9 au lait is not UTF-8 here.")
    report = service.sync()
    assert (report.added, report.unchanged) == (2, 1)
    assert report.errors == ["broken.txt: text is not valid UTF-8 (byte 3): save the file as UTF-8 and try again"]
    ids = {row["id"] for row in service.store.articles(0, 100)}
    assert ids == {"turkish-russian-partnership", "otters", "weir"}
    assert service.ask("Where were otters seen?", 1)["results"][0]["article"]["title"] == "Otters Return"

    (corpus / "otters.md").write_text("# Otters Return\n\nOtters returned to the Mole river this autumn. "
                                      "Walkers reported sightings near the bridge.\n")
    os.utime(corpus / "otters.md", ns=(1, 1))  # a changed stat even on coarse clocks
    (corpus / "notes" / "weir.txt").unlink()
    report = service.sync()
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    top = service.ask("Which river did the otters return to?", 1)["results"][0]
    assert "Mole river" in top["text"]
    assert "weir" not in {row["id"] for row in service.store.articles(0, 100)}
    stats = service.stats()
    assert stats["passages"] == stats["vectors"]
    assert service.sync().as_dict()["unchanged"] == 2


def test_files_with_the_same_name_in_two_folders_get_two_ids(make_service, tmp_path):
    service = make_service(corpus_files=())
    for folder in ("a", "b"):
        (tmp_path / "corpus" / folder).mkdir(parents=True)
        (tmp_path / "corpus" / folder / "story.txt").write_text(f"Story {folder}\n\nThis is the story kept in "
                                                                 f"folder {folder}. It differs from the other.\n")
    assert service.sync().added == 2
    assert {row["id"] for row in service.store.articles(0, 10)} == {"story", "story-2"}


def test_changed_passage_settings_need_a_rebuild(make_service, tmp_path, embedder):
    service = make_service()
    service.sync()
    before = service.stats()["passages"]
    answer = service.ask("What air defense system did Turkey buy?", 1)["results"][0]["answer"]
    service.close()
    narrow = ChunkingConfig(size=2, stride=1)
    with pytest.raises(Conflict) as err:
        make_service(chunking=narrow)
    assert "--rebuild" in err.value.message
    rebuilt = make_service(chunking=narrow, allow_rebuild=True)
    assert rebuilt.rebuild() == 1
    stats = rebuilt.stats()
    assert stats["passages"] == stats["vectors"] != before
    assert rebuilt.ask("What air defense system did Turkey buy?", 1)["results"][0]["answer"] == answer
    rebuilt.close()
    again = make_service(chunking=narrow)  # the rebuilt index is accepted as it is
    assert again.stats()["passages"] == stats["passages"]


def test_folder_never_overwrites_an_api_article_and_bad_files_do_not_stop_the_sync(make_service, tmp_path):
    service = make_service(corpus_files=())
    service.add(Article(id="ferry", title="Ferry", text="The ferry runs hourly again. Tickets cost two pounds."))
    corpus, outside = tmp_path / "corpus", tmp_path / "tram.txt"
    outside.write_text("Tram\n\nThe tram line opens in May. It crosses the river twice.\n")
    service.add(read_file(outside, "tram"))  # python run.py add tram.txt, then the file is copied in
    (corpus / "tram.txt").write_bytes(outside.read_bytes())
    (corpus / "ferry.txt").write_text("Ferry\n\nThe ferry is cancelled for the winter. Crews are retraining.\n")
    (corpus / "rule.md").write_text("***\n")  # no sentence at all
    (corpus / "locked.txt").write_text("Locked\n\nNobody can read this file.\n")
    (corpus / "locked.txt").chmod(0)
    readable = os.access(corpus / "locked.txt", os.R_OK)  # root reads anything
    report = service.sync()
    assert (report.added, report.unchanged) == (1 + readable, 1)
    assert "rule.md: no sentences to index" in report.errors
    assert readable or any(e.startswith("locked.txt: cannot read") for e in report.errors)
    ferry = service.article("ferry")
    assert ferry["origin"] == "api" and "hourly" in ferry["text"]  # the hand-added article is kept
    assert "cancelled" in service.article("ferry-2")["text"]      # the file got its own id
    assert service.article("tram")["origin"] == "corpus"          # identical content: the file took it over
    assert service.sync().added == 0                               # and it is not new next time


def test_the_same_id_twice_in_one_add_leaves_the_indexes_in_step(make_service):
    service = make_service(corpus_files=())
    first = Article(id="story", title="Story", text="The first draft says the vote is on Monday.")
    second = Article(id="story", title="Story", text="The final text says the vote moved to Thursday.")
    results = service.add_many([first, second])
    assert [r.status for r in results] == ["added", "replaced"]
    stats = service.stats()
    assert stats["passages"] == stats["vectors"] == stats["lexical"] == 1
    assert "Thursday" in service.ask("When is the vote?", 1)["results"][0]["text"]
