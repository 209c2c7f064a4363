"""Is it prose? Base64, hex dumps, minified code and tables of numbers are refused before they are
cut into thousands of passages no question can use.

Prose is mostly words: runs of letters (with the odd apostrophe, hyphen or trailing punctuation) of a
reasonable length. A text is refused when too few of its characters lie in such words. Scripts
written without spaces (Chinese, Japanese, Thai) make long runs of letters, and count as words.
Measured (``python benchmarks/prose.py``): the seed article, every SciFact abstract and all of our
test articles score 0.71 or more; base64, hex dumps, minified code, number tables and JSON 0.29 or less.
"""

from __future__ import annotations

import re

from qa.errors import BadInput

MIN_WORD_SHARE = 0.45  # share of non-space characters that lie in words
MIN_CHARS = 200        # shorter texts are judged by the other checks (sentences, length) alone
_TOKEN = re.compile(r"\S+")
_ALNUM = re.compile(r"[^\W_]")
_LATIN_WORD = re.compile(r"[(\"'“‘\[]*[^\W\d_]{1,24}(?:['’\-][^\W\d_]{1,24})*[)\"'”’\].,;:!?%]*")
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def word_share(text: str) -> float:
    """The share of the text's characters that lie in words (of the tokens holding a letter or digit)."""
    total = words = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if not _ALNUM.search(token):  # dot leaders, bullets, dashes: neither words nor not
            continue
        total += len(token)
        if _LATIN_WORD.fullmatch(token) or len(_UNSPACED.findall(token)) * 2 >= len(token):
            words += len(token)
    return words / total if total else 0.0


def check_prose(text: str) -> str:
    """``text``, or a 400 ``not_prose`` when it is not written language."""
    if len(text) >= MIN_CHARS:
        share = word_share(text)
        if share < MIN_WORD_SHARE:
            raise BadInput("not_prose", f"this does not read as an article: only {share:.0%} of it is words "
                                        "(base64, hex, code or tables of numbers are not indexed)")
    return text
