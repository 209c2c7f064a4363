"""Republished copies over real HTTP (real model): an exact or lightly edited copy under another id is
stored but not indexed again, answers show the story once and name its copies, removing the original
keeps the story findable, and two outlets' different stories about one event stay apart."""

from pathlib import Path

from helpers import ROOT, http, serving
from qa.ingest import read_file

NEAR_TOPIC = ROOT / "tests" / "data" / "near_topic"
STORY = NEAR_TOPIC / "a-caatsa-sanctions-ssb-demir-2020.txt"
OTHER_OUTLET = NEAR_TOPIC / "b-caatsa-sanctions-ssb-turkey-2020.txt"  # the same event, written apart
QUESTION = "Which Turkish agency did the United States sanction over the S-400 purchase?"


def _fields(path: Path, article_id: str, **changes) -> dict:
    article = read_file(path, article_id)
    fields = {"id": article_id, "title": article.title, "text": article.text, "source": article.source,
              "date": article.date, "author": article.author}
    return {**fields, **changes}


def _edited(fields: dict) -> dict:
    """A wire copy as another outlet runs it: new headline and source, a sentence dropped, one added."""
    paragraphs = fields["text"].split("\n\n")
    paragraphs.pop(len(paragraphs) // 2)
    paragraphs.append("The agency did not respond to a request for comment on Tuesday evening.")
    return {**fields, "id": "gazette-caatsa", "title": "Washington sanctions Ankara's arms agency",
            "source": "The Harbour Gazette", "text": "\n\n".join(paragraphs)}


def _ids(reply: dict) -> list[str]:
    return [r["article"]["id"] for r in reply["results"]]


def test_copies_are_stored_once_and_named_beside_the_original(make_service):
    service = make_service()
    service.sync()
    with serving(service) as base:
        original = _fields(STORY, "dispatch-caatsa")
        status, body = http("POST", base + "/api/articles", original, timeout=120)
        assert (status, body["status"]) == (201, "added")
        passages = service.stats()["passages"]

        status, body = http("POST", base + "/api/articles", _edited(original), timeout=120)
        assert status == 201 and body["status"] == "duplicate" and body["duplicate_of"] == "dispatch-caatsa"
        status, body = http("POST", base + "/api/articles", {**original, "id": "exact-caatsa"}, timeout=120)
        assert body["status"] == "duplicate" and body["duplicate_of"] == "dispatch-caatsa"
        assert service.stats()["passages"] == passages, "a copy added passages"

        status, body = http("POST", base + "/api/articles", _fields(OTHER_OUTLET, "other-outlet"), timeout=120)
        assert body["status"] == "added", "another outlet's own story on the same event was merged"

        reply = http("GET", base + "/api/ask?q=" + QUESTION.replace(" ", "+") + "&k=10")[1]
        ids = _ids(reply)
        assert "dispatch-caatsa" in ids and "other-outlet" in ids
        assert "gazette-caatsa" not in ids and "exact-caatsa" not in ids
        first = next(r for r in reply["results"] if r["article"]["id"] == "dispatch-caatsa")
        assert [c["id"] for c in first["copies"]] == ["gazette-caatsa", "exact-caatsa"]
        assert first["copies"][0]["source"] == "The Harbour Gazette"
        texts = [r["text"] for r in reply["results"]]
        assert len(texts) == len(set(texts)), "a passage shown twice"

        stored = http("GET", base + "/api/articles/gazette-caatsa")[1]
        assert stored["copy_of"] == "dispatch-caatsa" and stored["passages"] == 0
        assert stored["title"] == "Washington sanctions Ankara's arms agency"
        listed = {a["id"]: a for a in http("GET", base + "/api/articles?limit=100")[1]["articles"]}
        assert listed["exact-caatsa"]["copy_of"] == "dispatch-caatsa"

        # The original goes: its oldest copy takes its place, indexed from its own text.
        assert http("DELETE", base + "/api/articles/dispatch-caatsa", timeout=120)[0] == 200
        reply = http("GET", base + "/api/ask?q=" + QUESTION.replace(" ", "+") + "&k=10")[1]
        heir = next(r for r in reply["results"] if r["article"]["id"] == "gazette-caatsa")
        assert [c["id"] for c in heir["copies"]] == ["exact-caatsa"]
        health = http("GET", base + "/api/health")[1]
        assert health["passages"] == health["vectors"] == health["lexical"]
        assert http("GET", base + "/api/articles/gazette-caatsa")[1]["copy_of"] is None

        # Sending a copy again changes nothing.
        status, body = http("POST", base + "/api/articles", {**original, "id": "exact-caatsa"})
        assert (status, body["status"]) == (200, "unchanged")


def test_copies_are_recognised_after_a_restart_and_in_the_corpus_folder(make_service, tmp_path, test_encoder):
    service = make_service(encoder=test_encoder)
    service.sync()
    original = read_file(STORY, "dispatch-caatsa")
    assert service.add(original).status == "added"
    service.close()

    corpus = tmp_path / "corpus"
    (corpus / "wire-copy.txt").write_text(STORY.read_text(encoding="utf-8"), encoding="utf-8")
    reopened = make_service(encoder=test_encoder)
    report = reopened.sync()
    assert (report.added, report.copies) == (0, 1)
    stored = reopened.article("wire-copy")
    assert stored["copy_of"] == "dispatch-caatsa" and stored["passages"] == 0
    assert [c["id"] for c in reopened.article("dispatch-caatsa")["copies"]] == ["wire-copy"]
