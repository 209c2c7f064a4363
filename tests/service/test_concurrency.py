"""Searches stay correct while other threads add and remove articles; no write is lost (real model,
whose single model thread serves the readers and the writers)."""

import random
import threading

from qa.ingest import Article


def test_readers_and_writers_in_threads(make_service, engine):
    service = make_service(**engine.settings)
    service.sync()
    errors: list[BaseException] = []
    acknowledged: set[str] = set()
    removed: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()
    reads = [0]

    def reader():
        questions = ["What air defense system did Turkey buy?", "How many Russian tourists visited Turkey?"]
        expected = ["S-400", "seven million"]
        while not stop.is_set():
            try:
                i = random.randrange(2)
                results = service.ask(questions[i], 3)["results"]
                assert results and expected[i] in results[0]["text"], results[:1]
                with lock:
                    reads[0] += 1
            except BaseException as exc:  # noqa: BLE001 - every failure must reach the test
                errors.append(exc)
                return

    def writer(worker):
        try:
            for n in range(6):
                article_id = f"w{worker}-{n}"
                text = (f"Writer {worker} filed dispatch {n} about the quokka census on island {worker}{n}. "
                        f"The census on island {worker}{n} found {n + 10} quokkas.")
                result = service.add(Article(id=article_id, title=f"Dispatch {worker}-{n}", text=text))
                assert result.status == "added"
                with lock:
                    acknowledged.add(article_id)
                if n % 3 == 2:
                    service.remove(article_id)
                    with lock:
                        removed.add(article_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=300)
    stop.set()
    for t in readers:
        t.join(timeout=60)
    assert not errors, errors[:3]
    assert reads[0] > 20
    alive = acknowledged - removed
    assert len(acknowledged) == 18 and len(removed) == 6
    stored = {row["id"] for row in service.articles(0, 1000)["articles"]}
    assert stored == alive | {"turkish-russian-partnership"}
    stats = service.stats()
    assert stats["passages"] == stats["vectors"] == stats["lexical"]
    for article_id in sorted(alive)[:4]:
        worker, n = article_id[1:].split("-")
        top = service.ask(f"quokka census on island {worker}{n}", 1)["results"][0]
        assert top["article"]["id"] == article_id
