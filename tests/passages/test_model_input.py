"""What the model reads: the title before each passage, the header card as a labelled record,
everything within the model's limit, and a build id that follows any change in how it is cut."""

import pytest

from fake_encoder import HashEncoder
from helpers import SEED
from qa.config import ChunkingConfig, ModelInputConfig
from qa.ingest import Article, from_bytes, from_fields, read_file
from qa.passages import ModelInput, field_label


def test_header_lines_are_labelled_by_the_field_they_hold():
    a = read_file(SEED)
    labels = {line: field_label(a, line) for line in a.text[:a.body_start].split("\n") if line}
    assert labels["Analyzing Turkish-Russian Partnership"] == "Headline: "
    assert labels["Ahmet Mehmet"] == "Author: "
    assert labels["Rabi' al-Awwal 15, 1442 2020-11-01"] == "Date: "
    assert labels[next(line for line in labels if line.startswith("by "))] == "Byline: "
    assert labels["News & Analysis"] == ""


@pytest.mark.parametrize("line,label", [
    ("# Storm Closes Harbour", "Headline: "),
    ("APRIL 5, 2022", "Date: "),            # the source "AP" is a word, not any two letters
    ("From AP and Reuters", "Source: "),
    ("Jane Doe", "Author: "),
    ("Author: Jane Doe", ""),               # says what it is already
])
def test_field_labels_match_whole_words_and_skip_named_fields(line, label):
    article = Article(id="a", title="Storm Closes Harbour", text="", author="Jane Doe", source="AP")
    assert field_label(article, line) == label


def test_the_header_card_is_read_as_a_labelled_record_and_body_passages_after_the_title(embedder):
    text = ("Storm Closes Harbour\n\nBy Jane Doe | The Coastal Times\n\nJune 5, 2022\n\n"
            "A storm closed the harbour on Sunday, stranding dozens of fishing boats until the wind dropped. "
            "Ferries will run again once engineers have inspected the damaged pier.")
    article = from_bytes(text.encode(), "storm.txt")
    reader = ModelInput(embedder)
    card, body = reader.passages(article)[:2]
    model_text, offsets = reader.text(article, card)
    assert [model_text[a:b] for a, b in offsets] == [
        "Headline: Storm Closes Harbour", "Byline: By Jane Doe | The Coastal Times", "Date: June 5, 2022"]
    model_text, offsets = reader.text(article, body)
    assert model_text.startswith("Storm Closes Harbour\nA storm closed the harbour")
    assert [model_text[a:b] for a, b in offsets] == [article.text[a:b] for a, b in body.sentences]


@pytest.mark.parametrize("title_words", [5, 60])
def test_every_passage_with_what_the_model_reads_before_it_fits_the_model(embedder, title_words, monkeypatch):
    # Codes cost several word pieces each: the token limit, not the character limit, cuts these windows.
    # A text of codes is no prose, which the API refuses; this test is about the model's limits only.
    monkeypatch.setattr("qa.ingest.reader.check_prose", lambda text: text)
    title = " ".join(f"k{n}v{n}" for n in range(title_words))[:300]
    header = "\n".join(["Jane Doe", "By Jane Doe | The Coastal Times", "June 5, 2022"]
                       + [" ".join(f"h{n}y{m}" for m in range(9)) for n in range(5)])
    body = " ".join(" ".join(f"x{n}q{m}z" for m in range(12)) + "." for n in range(40))
    article = from_fields(f"Storm Closes Harbour\n{header}\n\n{body}", title=title, author="Jane Doe",
                          source="The Coastal Times")
    reader = ModelInput(embedder)
    passages = reader.passages(article)
    assert article.body_start > 0 and len(passages) > 5
    for passage in passages:
        text, _ = reader.text(article, passage)
        assert embedder.token_len(text) + 2 <= embedder.max_tokens, text[:80]


def test_the_build_id_names_the_model_and_changes_with_any_change_in_cutting_or_reading():
    encoder = HashEncoder()
    build = ModelInput(encoder).build_id(encoder.identity)
    assert build.startswith("test-hash-encoder | window=3 stride=1")
    assert build == ModelInput(encoder).build_id(encoder.identity)  # derived, so stable
    others = {ModelInput(encoder, ChunkingConfig(size=2)).build_id(encoder.identity),
              ModelInput(encoder, config=ModelInputConfig(title_tokens=20)).build_id(encoder.identity),
              ModelInput(encoder, config=ModelInputConfig(embed_title=False)).build_id(encoder.identity),
              ModelInput(encoder).build_id("another-model")}
    assert build not in others and len(others) == 4


def test_the_build_id_follows_the_code_that_cuts_passages(monkeypatch):
    """A change in how passages are cut shows in the build id with no version string edited."""
    from qa.passages import model_input

    encoder = HashEncoder()
    before = ModelInput(encoder).build_id(encoder.identity)
    monkeypatch.setattr(model_input, "HEADER_LABEL_TOKENS", model_input.HEADER_LABEL_TOKENS + 220)
    assert ModelInput(encoder).build_id(encoder.identity) != before
