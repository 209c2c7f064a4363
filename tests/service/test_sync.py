"""The corpus folder: files dropped in, changed or deleted are mirrored by sync."""

import os

import pytest

from qa.config import Settings
from qa.errors import BadInput, Conflict
from qa.ingest import Article, read_file


def test_sync_mirrors_the_folder(make_service, tmp_path, test_encoder):
    service = make_service(encoder=test_encoder)
    assert service.sync().as_dict() == {"added": 1, "updated": 0, "removed": 0, "unchanged": 0, "copies": 0,
                                      "errors": []}
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
    ids = {row["id"] for row in service.articles(0, 100)["articles"]}
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
    assert "weir" not in {row["id"] for row in service.articles(0, 100)["articles"]}
    stats = service.stats()
    assert stats["passages"] == stats["vectors"] == stats["lexical"]
    assert service.sync().as_dict()["unchanged"] == 2


def test_files_with_the_same_name_in_two_folders_get_two_ids(make_service, tmp_path, test_encoder):
    service = make_service(corpus_files=(), encoder=test_encoder)
    for folder in ("a", "b"):
        (tmp_path / "corpus" / folder).mkdir(parents=True)
        (tmp_path / "corpus" / folder / "story.txt").write_text(f"Story {folder}\n\nThis is the story kept in "
                                                                 f"folder {folder}. It differs from the other.\n")
    assert service.sync().added == 2
    assert {row["id"] for row in service.articles(0, 10)["articles"]} == {"story", "story-2"}


def test_folder_never_overwrites_an_api_article_and_bad_files_do_not_stop_the_sync(make_service, tmp_path,
                                                                                   test_encoder):
    service = make_service(corpus_files=(), encoder=test_encoder)
    service.add(Article(id="ferry", title="Ferry", text="The ferry runs hourly again. Tickets cost two pounds."))
    corpus, outside = tmp_path / "corpus", tmp_path / "tram.txt"
    outside.write_text("Tram\n\nThe tram line opens in May. It crosses the river twice.\n")
    service.add(read_file(outside, "tram"))  # python run.py add tram.txt, then the file is copied in
    (corpus / "tram.txt").write_bytes(outside.read_bytes())
    (corpus / "ferry.txt").write_text("Ferry\n\nThe ferry is cancelled for the winter. Crews are retraining.\n")
    (corpus / "rule.txt").write_text("***\n")  # no sentence at all
    (corpus / "locked.txt").write_text("Locked\n\nNobody can read this file.\n")
    (corpus / "locked.txt").chmod(0)
    readable = os.access(corpus / "locked.txt", os.R_OK)  # root reads anything
    report = service.sync()
    assert (report.added, report.unchanged) == (1 + readable, 1)
    assert "rule.txt: no sentences to index" in report.errors
    assert readable or any(e.startswith("locked.txt: cannot read") for e in report.errors)
    ferry = service.article("ferry")
    assert ferry["origin"] == "api" and "hourly" in ferry["text"]  # the hand-added article is kept
    assert "cancelled" in service.article("ferry-2")["text"]      # the file got its own id
    assert service.article("tram")["origin"] == "corpus"          # identical content: the file took it over
    assert service.sync().added == 0                               # and it is not new next time


def test_named_folders_share_one_index_and_each_mirrors_only_its_own(make_service, tmp_path, test_encoder,
                                                                      engine):
    """Replicas or bulk workers on one shared engine: each named folder adds and removes only its files."""
    index, desks = tmp_path / "shared-index", {}
    stories = {"politics": "Budget Vote\n\nParliament passed the budget by twelve votes. The opposition walked out.",
               "sport": "Derby Result\n\nCity beat United two goals to one. The winner came in the last minute."}
    for name, story in stories.items():
        desks[name] = tmp_path / name
        desks[name].mkdir()
        (desks[name] / "story.txt").write_text(story + "\n")

    def desk(name: str):
        return make_service(corpus_files=(), index_dir=index, encoder=test_encoder, corpus_dir=desks[name],
                            corpus_name=name, **engine.settings)

    politics = desk("politics")
    assert politics.sync().added == 1
    politics.close()
    sport = desk("sport")
    report = sport.sync()
    assert (report.added, report.removed) == (1, 0)
    assert {row["id"] for row in sport.articles(0, 10)["articles"]} == {"story", "story-2"}
    with pytest.raises(Conflict, match="story.txt of the corpus folder 'politics'"):
        sport.remove("story")  # another server's file: it would come back at that server's next sync
    (desks["sport"] / "story.txt").unlink()
    assert (sport.sync().removed, sport.stats()["articles"]) == (1, 1)
    sport.close()

    unnamed = make_service(corpus_files=(), index_dir=index, encoder=test_encoder, **engine.settings)  # empty
    assert unnamed.sync().as_dict() == {"added": 0, "updated": 0, "removed": 0, "unchanged": 0, "copies": 0,
                                        "errors": []}
    assert [row["id"] for row in unnamed.articles(0, 10)["articles"]] == ["story"]
    unnamed.close()
    assert desk("politics").sync().unchanged == 1


@pytest.mark.parametrize("name", ["", "-desk", "a/b", "desk//x", "x" * 65])
def test_a_corpus_name_that_could_not_be_told_from_a_path_is_refused(name, tmp_path):
    if not name:
        assert Settings(corpus_dir=tmp_path, index_dir=tmp_path).with_(corpus_name=name).corpus_name == ""
        return
    with pytest.raises(BadInput, match="corpus name must be"):
        Settings(corpus_dir=tmp_path, index_dir=tmp_path, corpus_name=name)
