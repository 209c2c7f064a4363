"""Lexical analysis shared by the BM25 query and the answer-sentence scorer.

The BM25 scoring itself is SQLite FTS5's (Porter stemming, Unicode folding);
this module only turns a question into an FTS5 query and words into stems.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nltk.stem.porter import PorterStemmer

# The classic English stop-word list (as used by NLTK, Lucene and BEIR's BM25 baselines).
STOP_WORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
down during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's
her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it
it's its itself let's me more most mustn't my myself no nor not of off on once only or other ought
our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such
than that that's the their theirs them themselves then there there's these they they'd they'll
they're they've this those through to too under until up very was wasn't we we'd we'll we're we've
were weren't what what's when when's where where's which while who who's whom why why's will with
won't would wouldn't you you'd you'll you're you've your yours yourself yourselves
s t d ll m re ve y also does did many much according
""".split())

_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?", re.UNICODE)
_FTS_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Martin Porter's own variant matches the stems SQLite's porter tokenizer stores.
_stemmer = PorterStemmer(mode=PorterStemmer.MARTIN_EXTENSIONS)


def words(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits; an inner apostrophe is kept)."""
    return [w.replace("\u2019", "'") for w in _TOKEN.findall(text.lower())]


def content_words(text: str) -> list[str]:
    """Words without stop words; all words if the text is nothing but stop words."""
    tokens = words(text)
    content = [w for w in tokens if w not in STOP_WORDS]
    return content or tokens


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stem(word)


def terms(text: str) -> list[str]:
    """Content words as FTS5 stores them (unicode61 folding, then Porter stems), without repeats."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", " ".join(content_words(text)))
                     if not unicodedata.combining(c))
    return list(dict.fromkeys(stem(t) for t in _FTS_TOKEN.findall(folded)))


def fts_query(question: str) -> str | None:
    """An FTS5 OR-query of the question's content words, each quoted so no word is read as syntax."""
    terms = dict.fromkeys(w.replace("'", " ") for w in content_words(question))
    if not terms:
        return None
    return " OR ".join(f'"{t}"' for t in terms)
