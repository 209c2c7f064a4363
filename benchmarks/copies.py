"""Precision and recall of the republished-copy check on copies made from real article text.

Every article of the given folders (by default our near-topic corpus and the news question sets:
hundreds of stories, many on the same subjects) is stored as an original; then each gets edited
copies of the kinds a newsroom sees (the same text, a new headline, a sentence added, one dropped,
one reworded, all four at once) and a heavier rewrite (a third of its sentences dropped) that is
reported apart, as it is no longer a light edit. Recall: copies recognised as copies of their own
original. Precision: of everything recognised as a copy (edited copies, and every original checked
against all the others), the share that was right.

    python benchmarks/copies.py [FOLDER ...]
"""

from __future__ import annotations

import random
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.ingest import Article, article_files, read_file  # noqa: E402
from qa.service.copies import Originals, signature  # noqa: E402

DEFAULT_FOLDERS = [ROOT / "tests/data/near_topic", *sorted((ROOT / "tests/data/news").glob("*/articles")),
                   *sorted((ROOT / "tests/data/encyclopedia").glob("*/articles"))]
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def _sentences(article: Article) -> tuple[str, list[str]]:
    return article.text[:article.body_start], _SENTENCE.split(article.text[article.body_start:])


def _rebuilt(article: Article, head: str, sentences: list[str], title: str | None = None) -> Article:
    return replace(article, id=article.id + "-copy", title=title or article.title, text=head + " ".join(sentences))


def edits(article: Article, other: Article, rng: random.Random) -> dict[str, Article]:
    """The light edits of ``article`` (``other`` lends a sentence), and one heavy rewrite."""
    head, sentences = _sentences(article)
    _, lent = _sentences(other)
    at = rng.randrange(len(sentences))
    added = sentences[:at] + [rng.choice(lent)] + sentences[at:]
    dropped = sentences[:at] + sentences[at + 1:] if len(sentences) > 1 else sentences
    words = sentences[at].split()
    for i in rng.sample(range(len(words)), k=min(len(words), max(1, len(words) // 3))):
        words[i] = rng.choice(["reportedly", "officials", "said", "new", "the", "on", "Tuesday"])
    reworded = sentences[:at] + [" ".join(words)] + sentences[at + 1:]
    everything = [s for s in reworded if s != sentences[min(at + 1, len(sentences) - 1)]] + [rng.choice(lent)]
    keep = sorted(rng.sample(range(len(sentences)), k=max(1, (2 * len(sentences)) // 3)))
    return {
        "exact": _rebuilt(article, head, sentences),
        "headline": replace(_rebuilt(article, head, sentences), title="UPDATED: " + article.title[::-1]),
        "sentence added": _rebuilt(article, head, added),
        "sentence dropped": _rebuilt(article, head, dropped),
        "sentence reworded": _rebuilt(article, head, reworded),
        "all four": _rebuilt(article, head, everything, title="Wire: " + article.title),
        "heavy (1/3 dropped)": _rebuilt(article, head, [sentences[i] for i in keep]),
    }


def main(folders: list[Path]) -> None:
    articles = [read_file(path) for folder in folders for path in article_files(folder)]
    articles = list({a.id: a for a in articles}.values())
    started = time.perf_counter()
    signatures = {a.id: signature(a) for a in articles}
    per_article_ms = 1000 * (time.perf_counter() - started) / len(articles)
    originals = Originals(signatures)
    rng = random.Random(7)
    wrong = 0  # originals taken for copies of another article: different stories merged
    for a in articles:
        wrong += originals.original_of(signatures[a.id], exclude=a.id) is not None
    found: dict[str, list[int]] = {}
    for n, a in enumerate(articles):
        for kind, copy in edits(a, articles[(n + 1) % len(articles)], rng).items():
            match = originals.original_of(signature(copy), exclude=copy.id)
            hits = found.setdefault(kind, [0, 0, 0])  # right, wrong original, missed
            hits[0 if match == a.id else 1 if match else 2] += 1
            wrong += match not in (None, a.id)
    light = [v for k, v in found.items() if not k.startswith("heavy")]
    right = sum(v[0] for v in light)
    flagged = right + wrong
    print(f"articles            {len(articles)} (from {len(folders)} folders)")
    print(f"signature           {per_article_ms:.2f} ms per article")
    for kind, (ok, bad, missed) in found.items():
        print(f"recall {kind:<20} {ok / (ok + bad + missed):.3f}  ({ok} of {ok + bad + missed})")
    print(f"recall light edits  {right / sum(sum(v) for v in light):.3f}")
    print(f"precision           {right / flagged if flagged else 1.0:.3f}  ({wrong} wrong of {flagged} flagged; "
          f"{len(articles)} originals checked against each other)")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or DEFAULT_FOLDERS)
