"""Background jobs over real HTTP with the real model: accepted at once, followed to done, and
finished after a kill -9 without the client sending anything again."""

import time

import pytest

from helpers import http, kill, start_server

pytestmark = pytest.mark.slow


def report(paragraphs):
    text = "\n\n".join(f"Paragraph {n} of the survey describes well site {n}. Site {n} had {n % 17} wells "
                       f"and {n % 5} pumps working." for n in range(paragraphs))
    return {"id": "survey", "title": "The well survey", "text": text}


def follow(base, job_id, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, job = http("GET", f"{base}/api/jobs/{job_id}")
        assert status == 200
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish")


def test_a_large_add_is_accepted_at_once_and_followed_to_done(tmp_path):
    process, base = start_server(tmp_path)
    try:
        started = time.perf_counter()
        status, accepted = http("POST", base + "/api/articles?wait=false", report(200))
        assert status == 202 and time.perf_counter() - started < 2.0
        assert accepted["status_url"] == f"/api/jobs/{accepted['job']}"
        seen = []
        while True:
            job = http("GET", base + accepted["status_url"])[1]
            seen.append(job)
            assert time.perf_counter() - started < 2.0 or http("GET", base + "/api/health")[0] == 200
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job["state"] == "done" and job["result"]["status"] == "added"
        assert job["done"] == job["total"] == job["result"]["passages"] > 100
        assert any(s["state"] == "running" and 0 < s["done"] < s["total"] for s in seen), "progress is reported"
        top = http("GET", base + "/api/ask?q=How+many+wells+did+site+120+have%3F&k=3")[1]["results"]
        assert any("Site 120 had" in r["text"] for r in top)
        assert http("GET", base + "/api/jobs/nope")[0] == 404
        bad = http("POST", base + "/api/articles?wait=false", {"title": "x", "text": "... !!! ???"})
        assert bad[0] == 400 and bad[1]["error"]["code"] == "no_sentences"  # refused when sent, not queued
        clash = http("POST", base + "/api/articles?wait=false",
                     {"id": "turkish-russian-partnership", "title": "x", "text": "Other text about otters."})
        failed = follow(base, clash[1]["job"])
        assert clash[0] == 202 and failed["state"] == "failed" and failed["error"]["code"] == "corpus_article"
    finally:
        kill(process)


def test_an_accepted_job_finishes_after_kill_9(tmp_path):
    process, base = start_server(tmp_path)
    before = http("GET", base + "/api/health")[1]
    status, accepted = http("POST", base + "/api/articles?wait=false", report(400))
    assert status == 202
    while http("GET", base + accepted["status_url"])[1]["done"] == 0:
        time.sleep(0.2)
    kill(process)  # in the middle of the job
    process, base = start_server(tmp_path)
    try:
        job = follow(base, accepted["job"])
        assert job["state"] == "done" and job["result"]["status"] == "added"
        health = http("GET", base + "/api/health")[1]
        assert health["articles"] == before["articles"] + 1
        assert health["passages"] == health["vectors"] == health["lexical"] == before["passages"] + job["result"]["passages"]
        assert http("GET", base + "/api/articles/survey")[1]["passages"] == job["result"]["passages"]
    finally:
        kill(process)
