"""What kind of answer a question asks for, and which sentences could hold one.

A classic open-domain QA signal: "how many ..." wants a number, "when ..." a
date, "who ..." a person or an organisation, "where ..." a place, "why ..." a
reason. Sentences that hold that kind of answer get a small bonus when
ranking passages and picking the answer sentence. A question about the
article itself (who wrote it, its headline, where it was published) is the
only kind the header card may answer.

These are patterns over the sentence's words, not a named-entity model: on
this machine spaCy's small English model tagged 3,600 words/s (minutes added
to indexing SciFact) and still took castles for people (docs/evaluation.md).
"""

from __future__ import annotations

import re

_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
           r"monday|tuesday|wednesday|thursday|friday|saturday|sunday")
_ORDINALS = (r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
             r"fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first|\d+(?:st|nd|rd|th)")
_ROLES = (r"person|man|woman|people|official|officials|leader|president|minister|author|writer|journalist|"
          r"reporter|king|queen|emperor|empress|prince|princess|ruler|architect|scientist|researcher|engineer|"
          r"composer|painter|artist|player|coach|manager|councillor|councilor|mayor|judge|lawyer|senator|"
          r"governor|chief|director|founder|owner|company|companies|firm|organisation|organization|group|team|"
          r"club|party|agency|body|institution|university|bank|court|council|analyst|firefighter|officer|spokesman|"
          r"spokeswoman|spokesperson|campaigners?|residents?|member|members|witness|victim|suspect")
_NAME = r"[A-Z][a-z\u00e0-\u00ff]+(?:-[A-Z][a-z\u00e0-\u00ff]+)?"
_PARTICLE = r"(?:ibn|bin|bint|al|el|de|da|di|del|della|van|von|der|den|du|la|le|of|y|St\.?)"
_ORG_WORD = (r"Council|Committee|Commission|Company|Corporation|Bank|Agency|Ministry|Department|University|"
             r"College|Party|Association|Group|Inc|Ltd|Union|Court|Authority|Board|Institute|Foundation|Club|"
             r"Police|Service|Trust|Society|Federation|League|Army|Navy|Office|Fund|Organisation|Organization")
_PLACE_WORD = (r"river|sea|ocean|lake|bay|coast|island|islands|mountains?|hills?|valley|desert|forest|city|town|"
               r"village|capital|province|region|county|state|district|street|square|road|bridge|port|harbour|"
               r"harbor|airport|station|spring|border|peninsula|park|stadium|hospital|palace|castle|cathedral")

_QUESTION_TYPES = [
    ("quantity", re.compile(r"\bhow\s+(many|much|large|big|long|far|old|often|high|tall|deep|wide|heavy|fast|"
                            r"small|low)\b|\b(what|which)\s+(percentage|proportion|share|number|amount|size|"
                            r"price|cost|figure|total|sum|rate|population|length|area|distance)\b", re.IGNORECASE)),
    ("time", re.compile(r"^\W*when\b|\b(what|which|in what)\s+(year|date|day|month|decade|century|time|season)\b|"
                        r"\bsince when\b|\bhow long ago\b", re.IGNORECASE)),
    ("person", re.compile(rf"^\W*(who|whom)\b|\bwhose\b|\b(what|which)\s+(\w+\s+){{0,2}}({_ROLES})\b",
                          re.IGNORECASE)),
    ("place", re.compile(r"^\W*where\b|\b(what|which)\s+(\w+\s+)?(place|city|town|country|countries|nation|"
                         r"region|area|village|location|island|state|province|street|venue|river|site)\b",
                         re.IGNORECASE)),
    ("reason", re.compile(r"^\W*why\b|\bfor what reason\b|\bwhat (caused|led to|prompted|made)\b|\bhow come\b",
                          re.IGNORECASE)),
]
_SMALL = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|a few|several"
_UNITS = (r"hundreds?|thousands?|millions?|billions?|trillions?|dozens?|percent|per cent|decades?|centuries|years|"
          r"months|weeks|days|hours|minutes|times|kilometres|kilometers|miles|metres|meters|tonnes|tons|countries|"
          r"people|members|votes")
_ANSWERS = {
    "quantity": re.compile(rf"\d|\b(hundreds|thousands|millions|billions|dozens)\b|\b({_SMALL})\s+({_UNITS})\b",
                           re.IGNORECASE),
    "time": re.compile(rf"\b(1[0-9]\d\d|20\d\d)\b|\b({_MONTHS})\b|\b(yesterday|today|tomorrow|ago)\b|"
                       rf"\blast\s+(week|month|year)\b|\b({_ORDINALS})\s+centur(y|ies)\b", re.IGNORECASE),
    # Two or more capitalized words not opening the sentence, joined by particles ("Ibrahim ibn Yaqub"); a
    # first name may be hyphenated ("Jean-Pierre"); a compound of nationalities ("Turkish-Russian
    # Partnership") is not a name. Or one capitalized word after a role ("the architect Apollodorus").
    "person": re.compile(rf"(?<!^)(?<![.!?]\s)(?<![-\w])(?![A-Z][a-z]*(?:ish|ian|ese|can|ch|ic|i)-[A-Z])"
                         rf"{_NAME}(?:\s+[A-Z]\.)?(?:\s+{_PARTICLE})*\s+{_NAME}"
                         rf"|\b(?i:architect|councillor|mayor|dr|mr|mrs|ms|sir|lord|lady|saint|king|queen|lieutenant|"
                         rf"captain|sergeant|judge|professor)\.?\s+{_NAME}"),
    "place": re.compile(rf"\b(in|at|near|from|to|into|across|outside|inside|towards|off|on|beneath|beside)\s+"
                        rf"(the\s+)?{_NAME}|\b({_PLACE_WORD})\b"),
    "reason": re.compile(r"\b(because|due to|owing to|as a result|in order to|so that|so as to|thanks to|caused by|"
                         r"led to|leads to|result of|reason|since|named after|takes its name|named for|after|"
                         r"following|amid|citing|blamed|therefore|thus|hence|so)\b", re.IGNORECASE),
}
# A question about the article itself: its author, headline, date or publication.
_ABOUT_THE_ARTICLE = re.compile(
    r"\b(headline|byline|dateline)\b|\bwho\s+(wrote|authored|penned)\b|\bwho\s+is\s+the\s+(author|writer|reporter)\b"
    r"|\b(published|printed|carried|ran|appeared|written|dated)\b.*\b(it|this|the\s+(article|piece|story|analysis|"
    r"report|column|item))\b|\b(it|this|the\s+(article|piece|story|analysis|report|column|item))\b.*"
    r"\b(published|printed|carried|written|dated)\b|\b(which|what)\s+(newspaper|magazine|publication|outlet|paper|"
    r"journal|website|site|volume|issue)\b", re.IGNORECASE)


def question_type(question: str) -> str | None:
    """``quantity``, ``time``, ``person``, ``place``, ``reason``, or None when the question does not say."""
    for name, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


def about_the_article(question: str) -> bool:
    """Whether the question asks about the article itself (who wrote it, its headline, where it ran)."""
    return bool(_ABOUT_THE_ARTICLE.search(question))


_FIELDS = [("Date", re.compile(r"\b(when|date|day|year|dated|dateline)\b", re.IGNORECASE)),
           ("Author", re.compile(r"\b(who|author|writer|reporter|wrote|written|byline)\b", re.IGNORECASE)),
           ("Source", re.compile(r"\b(newspaper|magazine|publication|outlet|paper|journal|website|site|volume|issue|"
                                 r"publisher|published|carried|ran|printed)\b", re.IGNORECASE)),
           ("Headline", re.compile(r"\b(headline|title|called|named)\b", re.IGNORECASE))]


def article_field(question: str) -> str | None:
    """The header field a question about the article asks for: ``Source``, ``Author``, ``Date`` or
    ``Headline`` (the labels the model reads before header lines), or None."""
    if not about_the_article(question):
        return None
    return next((label for label, pattern in _FIELDS if pattern.search(question)), None)


def has_answer(kind: str | None, sentence: str) -> bool:
    """Whether ``sentence`` holds an answer of that kind (always False without a kind)."""
    return bool(kind) and bool(_ANSWERS[kind].search(sentence))
