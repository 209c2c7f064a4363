"""What kind of answer a question asks for, and which sentences could hold one.

A classic open-domain QA signal: "how many ..." wants a number, "when ..." a
date, "who ..." a person. Sentences that hold that kind of answer get a small
bonus when ranking passages and picking the answer sentence.
"""

from __future__ import annotations

import re

_SMALL = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|a few|several"
_UNITS = (r"hundreds?|thousands?|millions?|billions?|trillions?|dozens?|percent|per cent|decades?|centuries|years|"
          r"months|weeks|days|hours|times|kilometres|kilometers|miles|tonnes|tons")
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
           r"monday|tuesday|wednesday|thursday|friday|saturday|sunday")

_QUESTION_TYPES = [
    ("quantity", re.compile(r"\bhow\s+(many|much|large|big|long|far|old|often|high|tall|deep|wide|heavy|fast|"
                            r"small|low)\b|\b(what|which)\s+(percentage|proportion|share|number|amount|size|"
                            r"price|cost|figure)\b", re.IGNORECASE)),
    ("time", re.compile(r"^\W*when\b|\b(what|which|in what)\s+(year|date|day|month|decade|century|time)\b|"
                        r"\bsince when\b|\bhow long ago\b", re.IGNORECASE)),
    ("person", re.compile(r"^\W*(who|whom)\b|\bwhose\b|\b(what|which)\s+(person|man|woman|official|leader|"
                          r"president|minister|author|writer|journalist|reporter)\b", re.IGNORECASE)),
]
_ANSWERS = {
    "quantity": re.compile(rf"\d|\b(hundreds|thousands|millions|billions|dozens)\b|\b({_SMALL})\s+({_UNITS})\b",
                           re.IGNORECASE),
    "time": re.compile(rf"\b(1[5-9]\d\d|20\d\d)\b|\b({_MONTHS})\b|\b(yesterday|today|tomorrow|ago)\b|"
                       r"\blast\s+(week|month|year)\b", re.IGNORECASE),
    # Two or more capitalized words not opening the sentence; a first name may be hyphenated
    # ("Jean-Pierre"), a compound of nationalities ("Turkish-Russian Partnership") is not a name.
    "person": re.compile(r"(?<!^)(?<![.!?]\s)(?<![-\w])(?![A-Z][a-z]*(?:ish|ian|ese|can|ch|ic|i)-[A-Z])"
                         r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?(?:\s+[A-Z]\.)?\s+[A-Z][a-z]+"),
}


def question_type(question: str) -> str | None:
    """``quantity``, ``time``, ``person``, or None when the question does not say."""
    for name, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


def has_answer(kind: str | None, sentence: str) -> bool:
    """Whether ``sentence`` holds an answer of that kind (always False without a kind)."""
    return bool(kind) and bool(_ANSWERS[kind].search(sentence))
