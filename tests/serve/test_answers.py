"""The answer over real HTTP with the real model: confident for a question the articles answer,
none for one they do not; Markdown read as Markdown."""

import httpx
import pytest

from helpers import serving


@pytest.fixture(scope="module")
def client(seed_service):
    with serving(seed_service) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client


def test_a_confident_answer_for_a_question_the_article_answers(client):
    body = client.get("/api/ask", params={"q": "What air defense system did Turkey buy?"}).json()
    answer = body["answer"]
    assert answer is not None and "S-400" in answer["text"]
    assert answer["confidence"] >= 0.5 and answer["article"]["id"] == "turkish-russian-partnership"
    text = client.get(f"/api/articles/{answer['article']['id']}").json()["text"]
    assert text[answer["start"]:answer["end"]] == answer["text"]
    assert body["results"][answer["rank"] - 1]["answer"] == answer["text"]
    assert all(0 <= r["confidence"] <= 1 for r in body["results"])


@pytest.mark.parametrize("question", ["Who won the 2022 football World Cup?",
                                      "How do you make a sourdough starter?",
                                      "Vitamin D supplements reduce the risk of bone fractures."])
def test_no_answer_for_a_question_nothing_answers(client, question):
    body = client.post("/api/ask", json={"question": question}).json()
    assert body["answer"] is None
    assert body["results"], "the closest passages are still returned"
    assert max(r["confidence"] for r in body["results"]) < 0.5


MARKDOWN = b"""---
title: Markets slide on rate fears
author: Ana Ruiz
date: 2025-03-04
source: The Ledger
---
# Markets slide on rate fears

Shares fell sharply on Monday after the **central bank** signalled that interest rates would rise
again, a move that [most investors](https://example.org/poll) had not expected.

## Market reaction

Investors sold bank shares first and bought *government bonds*, pushing yields down. The main index
closed 3.2% lower, its worst day since October.

## What analysts said

- Analysts at Brightline expect two more rises this year.
- Economists at the Ledger's poll were split on the timing.

```python
print("code is not prose")
```

<div class="ad">Advertisement: buy now</div>
"""


def test_markdown_is_read_as_markdown(make_service):
    service = make_service(corpus_files=())
    from qa.ingest import from_bytes

    result = service.add(from_bytes(MARKDOWN, "markets.md"))
    article = service.article(result.id)
    assert (article["title"], article["author"], article["date"], article["source"]) == (
        "Markets slide on rate fears", "Ana Ruiz", "2025-03-04", "The Ledger")
    for markup in ("**", "](", "##", "```", "<div", "print(", "Advertisement"):
        assert markup not in article["text"]
    headings = [article["text"][a:b] for a, b in article["headings"]]
    assert headings == ["Market reaction", "What analysts said"]
    for question in ("How did investors react?", "What did analysts say?", "What did the central bank signal?"):
        reply = service.ask(question, 5)
        for r in reply["results"]:
            assert "**" not in r["text"] and "#" not in r["text"]
            assert r["answer"] not in headings, "a heading is never the answer"
    assert "sold bank shares" in service.ask("How did investors react?", 3)["results"][0]["answer"]
    assert "two more rises" in service.ask("How many more rate rises do analysts expect?", 3)["results"][0]["answer"]
