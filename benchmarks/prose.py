"""How the not-prose check scores real articles and things that are not articles.

Real text: the seed article, every SciFact abstract (numbers, units, p-values), and all our test
articles. Not prose: base64 of random bytes, an ``xxd``-style hex dump, minified JavaScript (the
Swagger UI bundle the app serves), CSV tables of numbers, and a JSON dump. Prints the lowest score
of the real texts, the highest of the others, and what the threshold refuses on each side.

    python benchmarks/prose.py [--scifact ../shared/evaldata/scifact]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.ingest import article_files, read_file  # noqa: E402
from qa.ingest.prose import MIN_WORD_SHARE, word_share  # noqa: E402


def real_texts(scifact: Path) -> dict[str, list[str]]:
    ours = [read_file(p).text for folder in ("corpus", "tests/data") for p in article_files(ROOT / folder)]
    abstracts = []
    corpus = scifact / "corpus.jsonl"
    if corpus.exists():
        abstracts = [json.loads(line)["text"] for line in corpus.open(encoding="utf-8")]
    return {"our articles": ours, "SciFact abstracts": [t for t in abstracts if len(t) >= 200]}


def not_prose(rng: random.Random) -> dict[str, list[str]]:
    blobs = [bytes(rng.randrange(256) for _ in range(3000)) for _ in range(20)]
    b64 = [base64.encodebytes(b).decode() for b in blobs]
    hexdump = ["\n".join(f"{at:08x}: " + " ".join(b[i:i + 2].hex() for i in range(at, at + 16, 2))
                         + "  " + "".join(chr(c) if 32 < c < 127 else "." for c in b[at:at + 16])
                         for at in range(0, 1600, 16)) for b in blobs]
    bundle = (ROOT / ".venv/lib/python3.11/site-packages/flask_swagger_ui/dist/swagger-ui-bundle.js")
    code = [bundle.read_text(encoding="utf-8")[i:i + 4000] for i in range(0, 80000, 4000)] if bundle.exists() else []
    tables = ["\n".join(",".join(f"{rng.uniform(-1000, 1000):.2f}" for _ in range(8)) for _ in range(60))
              for _ in range(20)]
    dumps = [json.dumps([{"id": rng.randrange(10**6), "value": rng.random(), "flag": rng.random() > 0.5}
                         for _ in range(60)]) for _ in range(20)]
    return {"base64": b64, "hex dump": hexdump, "minified JS": code, "number tables": tables, "JSON dumps": dumps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scifact", type=Path, default=ROOT.parent / "shared" / "evaldata" / "scifact")
    args = parser.parse_args()
    print(f"threshold {MIN_WORD_SHARE} (share of characters in words)")
    for label, groups, refused_if in (("prose", real_texts(args.scifact), True),
                                      ("not prose", not_prose(random.Random(5)), False)):
        for name, texts in groups.items():
            if not texts:
                print(f"{label:<10} {name:<18} (none found)")
                continue
            scores = [word_share(t) for t in texts]
            wrong = sum((s < MIN_WORD_SHARE) == refused_if for s in scores)
            print(f"{label:<10} {name:<18} n={len(texts):<5} min {min(scores):.3f}  max {max(scores):.3f}  "
                  f"{'refused' if refused_if else 'accepted'} {wrong}")


if __name__ == "__main__":
    main()
