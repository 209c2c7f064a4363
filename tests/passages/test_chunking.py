"""Passages: whole sentences, right offsets, under the token limit."""

import pytest

from helpers import SEED
from qa.config import ChunkingConfig
from qa.errors import BadInput
from qa.ingest import read_file
from qa.passages import chunk, split_lines, split_sentences


@pytest.fixture(scope="module")
def seed():
    return read_file(SEED)


def test_passages_are_whole_sentences_with_true_offsets(seed, embedder):
    config = ChunkingConfig()
    passages = chunk(seed.text, seed.body_start, config, embedder.token_len)
    sentence_spans = set(split_lines(seed.text, 0, seed.body_start)) | set(
        split_sentences(seed.text, seed.body_start))
    starts = {a for a, _ in sentence_spans}
    ends = {b for _, b in sentence_spans}
    assert len(passages) > 10
    for p in passages:
        assert p.start in starts and p.end in ends, "a passage starts or ends inside a sentence"
        assert set(p.sentences) <= sentence_spans
        assert p.sentences[0][0] == p.start and p.sentences[-1][1] == p.end
        assert 1 <= len(p.sentences) <= (config.size if p.start >= seed.body_start else 16)
        assert embedder.token_len(seed.text[p.start:p.end]) <= config.max_tokens
        assert len(seed.text[p.start:p.end]) <= config.max_chars or len(p.sentences) == 1
    covered = {s for p in passages for s in p.sentences}
    assert covered == sentence_spans, "every sentence is in some passage"


def test_windows_overlap_and_the_header_is_one_card_apart(seed):
    passages = chunk(seed.text, seed.body_start, ChunkingConfig(size=3, stride=2))
    body = [p for p in passages if p.start >= seed.body_start]
    header = [p for p in passages if p.start < seed.body_start]
    assert len(header) == 1 and header[0].end <= seed.body_start
    assert list(header[0].sentences) == split_lines(seed.text, 0, seed.body_start)
    overlaps = sum(1 for a, b in zip(body, body[1:]) if set(a.sentences) & set(b.sentences))
    assert overlaps >= len(body) // 2


def test_a_long_header_is_cut_into_cards_without_overlap():
    lines = [f"Header line number {n} of a long masthead" for n in range(8)]
    text = "\n".join(lines) + "\n\n" + "The body begins here with a sentence of its own. " * 3
    passages = chunk(text, len("\n".join(lines)) + 2, ChunkingConfig(max_chars=150))
    header = [p for p in passages if p.start < len("\n".join(lines))]
    assert len(header) >= 2
    assert all(len(text[p.start:p.end]) <= 150 for p in header)
    assert sum(len(p.sentences) for p in header) == 8  # every line once: cards do not overlap


def test_overlong_sentence_is_cut_at_words_under_the_limit(embedder):
    text = "Word " * 400 + "end."
    passages = chunk(text, 0, ChunkingConfig(max_tokens=100), embedder.token_len)
    assert len(passages) > 3
    for p in passages:
        piece = text[p.start:p.end]
        assert embedder.token_len(piece) <= 100
        assert not piece.startswith(" ") and not piece.endswith(" ")
    assert text[passages[-1].start:passages[-1].end].endswith("end.")


def test_no_sentences_no_passages():
    assert chunk("   \n\n  ", 0) == []


def test_a_stride_past_the_window_is_refused():
    with pytest.raises(BadInput, match="stride"):
        ChunkingConfig(size=2, stride=3)
