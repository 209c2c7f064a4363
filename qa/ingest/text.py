"""Plain text made clean: line breaks and spaces normalized, hard-wrapped lines re-flowed, and
page furniture ("Privacy Policy | Terms of Use", "Sign In", ...) dropped so that it can never
come back as an answer."""

from __future__ import annotations

import re

_CHROME = re.compile(
    r"privacy policy|terms (?:of|and) (?:use|service|conditions)|cookie (?:policy|settings|preferences)"
    r"|sign(?:ed)? ?in|sign ?up|log ?in|log ?out|forgot(?: your)? password|not a member|create an account"
    r"|subscribe(?: now)?|newsletter|all rights reserved|copyrights?|\u00a9|share (?:this|on)|follow us"
    r"|advertisement|skip to (?:main )?content|related (?:articles|posts|stories)|read more|click here"
    r"|back to top|print this|email this|contact us|about us|site ?map|accessibility",
    re.IGNORECASE,
)
WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[.!?:;\"'\u201d\u2019)\]]$")


def is_chrome(line: str) -> bool:
    """A short line made of site furniture (navigation, legal, account links)."""
    stripped = line.strip()
    if not stripped or len(stripped) > 80 or not _CHROME.search(stripped):
        return False
    if re.match(r"(?:copyrights?\b|\u00a9|\(c\)\s)", stripped, re.IGNORECASE):
        return True
    return len(WORD.findall(_CHROME.sub(" ", stripped))) <= 2


def clean_text(raw: str) -> str:
    """Normalize line breaks and spaces, re-flow hard-wrapped lines, drop chrome lines."""
    text = raw.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\t", " ")
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    lines = [line for line in _reflow(lines) if not is_chrome(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _reflow(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines: a line that does not end a sentence followed by one starting in lower case.

    Each joined line is kept as its pieces and their separators and joined once, so a long
    hard-wrapped text costs linear time (joining as it went made a 5 MB file take minutes)."""
    out: list[list[str]] = []
    for line in lines:
        last = out[-1][-1] if out else ""
        if last and line and line[0].islower() and not _SENTENCE_END.search(last):
            if last.endswith("-") and last[-2:-1].isalpha():  # a word hyphenated across lines
                out[-1][-1] = last[:-1]
                out[-1] += ["", line]
            else:
                out[-1] += [" ", line]
        else:
            out.append([line])
    return ["".join(pieces) for pieces in out]
