"""What the model reads: how an article is cut into passages that fit the model, the text the model
sees for each (the title first; the header card as a labelled record), and the build id that
names all of it.

A body passage is read with the article title first, for context. The header card is read as a
labelled record ("Headline: ...", "Author: ...", "Date: ..."), so that questions about the article
itself (who wrote it, its headline) find it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

from qa.config import ChunkingConfig, ModelInputConfig
from qa.ingest.article import Article
from qa.ingest.dates import find_date
from qa.ingest.header import MAX_HEADER_LINES, names_its_field, parse_text
from qa.passages.chunking import Passage, chunk
from qa.passages.sentences import Span

HEADER_LABEL_TOKENS = 3 * MAX_HEADER_LINES  # "Headline: ", "Byline: ", ... (3 word pieces at most)

# An article that exercises every rule of cutting and reading: a header card with a byline and a
# date, a long title, windows of sentences, and one sentence too long for the model. Its passages
# and model texts, hashed, are part of the build id, so any change in how passages are cut or read
# marks older indexes as needing a rebuild without anyone editing a version string.
_CANARY = ("Harbour Council Votes to Rebuild the Old Pier Before Winter Storms Arrive Again\n"
           "By Jane Doe | The Coastal Times\nJune 5, 2022\n\n"
           "The council voted on Monday to rebuild the pier. Work starts in July, the mayor said. "
           "Fishermen welcomed the news, though some asked why it took so long. "
           + " ".join(f"segment{n}" for n in range(400)) + ". "
           "The vote was seven to two. Two councillors said the cost, $4.2 million, was too high.")


class Tokenizer(Protocol):
    """What cutting passages needs from the model: its input limit and its word pieces."""

    max_tokens: int

    def token_len(self, text: str) -> int: ...

    def truncate(self, text: str, max_tokens: int) -> str: ...


class ModelInput:
    """Cuts articles into passages and says what the model reads for each."""

    def __init__(self, tokenizer: Tokenizer, chunking: ChunkingConfig = ChunkingConfig(),
                 config: ModelInputConfig = ModelInputConfig()):
        self.tokenizer = tokenizer
        self.chunking = chunking
        self.config = config

    def passages(self, article: Article) -> list[Passage]:
        """The article's passages: each, with what the model reads before it (the title and the
        section heading, or the header card's labels), fits the model, which would drop the rest."""
        room = self.tokenizer.max_tokens - 2  # the model adds two special tokens
        headings = [article.text[a:b] for a, b in article.headings]

        def section_max_tokens(n: int) -> int:
            prefix = self._prefix(article, headings[n - 1] if n else None)
            return min(self.chunking.max_tokens, room - self.tokenizer.token_len(prefix))

        return chunk(article.text, article.body_start, self.chunking, self.tokenizer.token_len,
                     header_max_tokens=min(self.chunking.max_tokens, room - HEADER_LABEL_TOKENS),
                     headings=article.headings, section_max_tokens=section_max_tokens)

    def text(self, article: Article, passage: Passage) -> tuple[str, list[Span]]:
        """The text the model sees for a passage, and its sentences' offsets in that text."""
        if passage.start < article.body_start:
            lines = [field_label(article, article.text[a:b]) + article.text[a:b] for a, b in passage.sentences]
            starts, at = [], 0
            for line in lines:
                starts.append(at)
                at += len(line) + 1
            return "\n".join(lines), [(start, start + len(line)) for start, line in zip(starts, lines)]
        prefix = self._prefix(article, section(article, passage))
        shift = len(prefix) - passage.start
        return prefix + article.text[passage.start:passage.end], [(a + shift, b + shift) for a, b in passage.sentences]

    def build_id(self, model_identity: str) -> str:
        """What the stored vectors depend on: the model, the passage settings, and how this version
        cuts and reads an article (a digest of the canary article's passages and model texts)."""
        c, m = self.chunking, self.config
        canary = parse_text(_CANARY)
        article = Article("canary", canary.title, canary.text, canary.author, canary.date, canary.source,
                          canary.body_start)
        digest = hashlib.sha256()
        for passage in self.passages(article):
            text, spans = self.text(article, passage)
            digest.update(repr((passage.start, passage.end, passage.sentences, text, spans)).encode())
        return (f"{model_identity} | window={c.size} stride={c.stride} max_chars={c.max_chars} "
                f"max_tokens={c.max_tokens} title={m.title_tokens if m.embed_title else 0} | "
                f"cut {digest.hexdigest()[:12]}")

    def _prefix(self, article: Article, heading: str | None) -> str:
        """What the model reads before a body passage: the title (at most ``title_tokens`` word
        pieces), then the heading of the passage's section (as many)."""
        lines = [article.title] if self.config.embed_title else []
        lines += [heading] if heading else []
        return "".join(f"{self.tokenizer.truncate(line, self.config.title_tokens)}\n" for line in lines)


def section(article: Article, passage: Passage) -> str | None:
    """The heading of the section a body passage belongs to (None before the first heading)."""
    before = [(a, b) for a, b in article.headings if b <= passage.start]
    return article.text[before[-1][0]:before[-1][1]] if before else None


def field_label(article: Article, line: str) -> str:
    """What a header line holds, as a label for the model to read before it: ``"Headline: "``,
    ``"Author: "``, ``"Source: "``, ``"Byline: "`` (author and publication), ``"Date: "`` or ``""``
    (also for a line that names its field itself, such as ``"Author: Jane Doe"``)."""
    text = line.strip().lstrip("#").strip()
    if names_its_field(text):
        return ""
    if text == article.title:
        return "Headline: "
    held = [name for name, value in (("Author", article.author), ("Source", article.source))
            if value and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text)]
    if held:
        return "Byline: " if len(held) == 2 else f"{held[0]}: "
    return "Date: " if find_date(text) else ""
