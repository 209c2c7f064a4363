"""The text analysis both lexical engines share: letters-and-digits tokens, lower-cased, folded to
ASCII, stripped of stop words and stemmed (Snowball English), by tantivy's analyser.

One analysis for every engine means a question's terms are the terms any index holds, and that
BM25 over the same passages counts the same terms whichever engine scores it.
"""

from __future__ import annotations

import math
from functools import lru_cache

import tantivy

ANALYZER_NAME = "qa_english"

# The classic English stop-word list (as used by NLTK, Lucene and BEIR's BM25 baselines), in the
# single-token form the analyser sees, plus question words that carry no topic.
STOP_WORDS = tuple(sorted(set("""
a about above after again against all am an and any are as at be because been before being below between
both but by can cannot could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself me more most my myself no nor
not of off on once only or other ought our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours yourself
yourselves s t d ll m re ve y also many much according
""".split())))


@lru_cache(maxsize=1)
def analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.custom_stopword(list(STOP_WORDS)))
            .filter(tantivy.Filter.stemmer("english"))
            .build())


def tokens(text: str) -> list[str]:
    """Every index term of ``text``, repeats included, in order (what BM25 counts)."""
    return analyzer().analyze(text)


@lru_cache(maxsize=65536)
def terms(text: str) -> tuple[str, ...]:
    """The distinct index terms of ``text``, in order. Cached: the same sentences recur in answers."""
    return tuple(dict.fromkeys(analyzer().analyze(text)))


def fold(value: str) -> str:
    """A filter value lower-cased as SQLite's NOCASE compares (ASCII letters only): how every engine
    matches sources and authors without regard to case."""
    return value.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def day(date: str | None) -> int:
    """``YYYY-MM-DD`` as the number ``YYYYMMDD`` that date filters compare; 0 for no date."""
    return int(date.replace("-", "")) if date else 0


def idf(total: int, df: int) -> float:
    """Tantivy's (Lucene's) BM25 idf; a term in no passage counts as rarest."""
    return math.log(1 + (total - df + 0.5) / (df + 0.5))
