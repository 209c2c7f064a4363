"""Markdown read as Markdown (markdown-it-py): the text a reader sees, without markup.

Headings become lines of their own, returned apart so that they are read as section labels
(never as sentences); emphasis and links reduce to their text; each list item and table row is
a line of its own; code blocks, HTML blocks and images are not prose and are dropped.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

_DROPPED_BLOCKS = {"fence", "code_block", "html_block", "hr"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def markdown_text(source: str) -> tuple[str, list[str]]:
    """``(text, headings)``: blocks separated by blank lines, and the text of every heading in order."""
    blocks: list[str] = []
    headings: list[str] = []
    row: list[str] | None = None
    in_heading = False
    for token in _parser().parse(source):
        if token.type in _DROPPED_BLOCKS:
            continue
        if token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append("; ".join(cell for cell in row if cell))
            row = None
        elif token.type == "inline":
            text = _inline_text(token.children or [])
            if row is not None:
                row.append(text.replace("\n", " ").strip())
            elif text.strip():
                blocks.append(text.strip())
                if in_heading:
                    headings.append(" ".join(text.split()))
                    blocks[-1] = headings[-1]
    return "\n\n".join(blocks), headings


def _inline_text(children: list[Token]) -> str:
    """The visible text of an inline run: emphasis, links and code spans as their text."""
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append("\n")
        elif child.type == "hardbreak":
            parts.append("\n")
    return "".join(parts)
