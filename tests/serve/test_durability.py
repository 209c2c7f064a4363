"""Crash safety: SIGKILL the real server after acknowledged writes and in the middle of a large add."""

import os
import signal
import threading
import time

import pytest

from helpers import http, kill, start_server

pytestmark = pytest.mark.slow


def article(n):
    return {"id": f"note-{n}", "title": f"Field note {n}",
            "text": f"Observer {n} counted {n * 7 + 3} zebrafinches near marker Q{n}. "
                    f"The count for marker Q{n} was confirmed twice."}


def test_acknowledged_writes_survive_sigkill(tmp_path, engine):
    process, base = start_server(tmp_path, env=engine.env)
    for n in range(4):
        status, body = http("POST", base + "/api/articles", article(n))
        assert status == 201, body
    status, _ = http("DELETE", base + "/api/articles/note-1")
    assert status == 200
    status, body = http("POST", base + "/api/articles", article(9))
    assert status == 201
    kill(process)  # at once: the FAISS file has not been saved since these writes

    process, base = start_server(tmp_path, env=engine.env)
    try:
        status, health = http("GET", base + "/api/health")
        assert health["articles"] == 1 + 4  # the seed, notes 0, 2, 3 and 9
        assert health["passages"] == health["vectors"] == health["lexical"]
        ids = {a["id"] for a in http("GET", base + "/api/articles?limit=100")[1]["articles"]}
        assert ids == {"turkish-russian-partnership", "note-0", "note-2", "note-3", "note-9"}
        for n in (0, 2, 3, 9):
            top = http("GET", base + f"/api/ask?q=zebrafinches+marker+Q{n}&k=1")[1]["results"][0]
            assert top["article"]["id"] == f"note-{n}"
    finally:
        kill(process)


def big_article(paragraphs=700):
    text = "\n\n".join(f"Paragraph {n} of the long report describes survey site {n}. "
                       f"Site {n} had {n % 17} wells and {n % 5} pumps in working order." for n in range(paragraphs))
    return {"id": "long-report", "title": "The long report", "text": text}


def test_sigkill_during_a_large_add_leaves_all_or_nothing(tmp_path, engine):
    process, base = start_server(tmp_path, env=engine.env)
    before = http("GET", base + "/api/health")[1]
    responses = []
    worker = threading.Thread(target=lambda: responses.append(_post_quietly(base, big_article())), daemon=True)
    worker.start()
    time.sleep(3)  # embedding ~700 passages takes far longer than this on 2 cores
    assert http("GET", base + "/api/health")[1]["articles"] == before["articles"], "searches answer during the add"
    kill(process)
    worker.join(timeout=30)
    assert not any(status == 201 for status, _ in responses), "the add finished before the kill; test is void"

    process, base = start_server(tmp_path, env=engine.env)
    try:
        health = http("GET", base + "/api/health")[1]
        assert health["articles"] == before["articles"], "a half-added article survived"
        assert health["passages"] == health["vectors"] == health["lexical"] == before["passages"]
        assert http("GET", base + "/api/articles/long-report")[0] == 404
        # The store is healthy: the same add now completes and is wholly there.
        status, body = http("POST", base + "/api/articles", big_article(60), timeout=300)
        assert status == 201
        kill(process)  # right after the response
        process, base = start_server(tmp_path, env=engine.env)
        health = http("GET", base + "/api/health")[1]
        assert health["articles"] == before["articles"] + 1
        assert health["passages"] == health["vectors"] == health["lexical"] == before["passages"] + body["passages"]
    finally:
        kill(process)


def _post_quietly(base, body):
    try:
        return http("POST", base + "/api/articles", body, timeout=600)
    except OSError:
        return (None, None)


def test_corrupt_faiss_file_is_reported_and_rebuilt(tmp_path):
    process, base = start_server(tmp_path)
    answer = http("GET", base + "/api/ask?q=S-400&k=1")[1]["results"][0]["answer"]
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=90)
    process.stdout.close()
    index_file = tmp_path / "index" / "vectors.faiss"
    assert index_file.exists()
    index_file.write_bytes(os.urandom(4096))
    process, base = start_server(tmp_path)
    try:
        assert http("GET", base + "/api/ask?q=S-400&k=1")[1]["results"][0]["answer"] == answer
        health = http("GET", base + "/api/health")[1]
        assert health["passages"] == health["vectors"] > 0
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=90)[0]
    assert "unreadable FAISS index" in output and "checksum" not in output  # random bytes: not our file at all
    assert "rebuilding it from the vectors in SQLite" in output
