"""The copy check against the copies benchmark's own edits of our real-looking articles: every light
edit is found as a copy of its own original, and no two different stories are ever merged (the near-
topic corpus holds pairs of outlets' separate stories about the same events)."""

import random
import sys

from helpers import ROOT
from qa.ingest import article_files, read_file
from qa.service.copies import Originals, signature

sys.path.insert(0, str(ROOT / "benchmarks"))
import copies as bench_copies  # noqa: E402  (the benchmark program, outside the package)


def test_light_edits_are_copies_and_different_stories_never_are():
    articles = [read_file(p) for p in article_files(ROOT / "tests" / "data" / "near_topic")]
    signatures = {a.id: signature(a) for a in articles}
    originals = Originals(signatures)
    assert [a.id for a in articles if originals.original_of(signatures[a.id], exclude=a.id)] == []
    rng = random.Random(3)
    missed = []
    for n, article in enumerate(articles[:60]):
        for kind, copy in bench_copies.edits(article, articles[n + 1], rng).items():
            if kind != "heavy (1/3 dropped)" and originals.original_of(signature(copy), copy.id) != article.id:
                missed.append((article.id, kind))
    assert len(missed) <= 1, missed
