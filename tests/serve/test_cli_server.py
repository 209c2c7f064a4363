"""The CLI talks to the running server: add, ask, remove and index go through its API (no model to
load, no fight over the index's writer)."""

import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT, http, start_server, stop

pytestmark = pytest.mark.slow


def cli(tmp_path, *args):
    env = {**os.environ, "QA_CORPUS_DIR": str(tmp_path / "corpus"), "QA_INDEX_DIR": str(tmp_path / "index"),
           "QA_API_TOKEN": "s3cret"}
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_add_ask_remove_and_index_through_the_running_server(tmp_path):
    process, base = start_server(tmp_path, env={"QA_API_TOKEN": "s3cret"})
    try:
        story = tmp_path / "tram.txt"
        story.write_text("Tram Line Opens\n\nThe new tram line opened on Monday. It crosses the river twice "
                         "and carries 9,000 passengers a day.")
        added = cli(tmp_path, "add", str(story))
        assert added.returncode == 0, added.stderr
        assert added.stdout.strip() == f"{story}: added as tram (2 passages)"  # the header card and the body
        assert "Failed to acquire" not in added.stderr and "index_busy" not in added.stderr
        assert http("GET", base + "/api/articles/tram")[0] == 200  # the server has it: it wrote it
        listed = cli(tmp_path, "articles", "--sort", "title")
        assert listed.returncode == 0, listed.stderr
        assert [line.split()[0] for line in listed.stdout.splitlines()] == ["turkish-russian-partnership", "tram"]
        shown = cli(tmp_path, "articles", "tram")
        assert shown.returncode == 0 and shown.stdout.splitlines()[0] == "Tram Line Opens"
        assert "9,000 passengers a day" in shown.stdout
        asked = cli(tmp_path, "ask", "How many passengers does the tram carry?")
        assert asked.returncode == 0 and "9,000 passengers" in asked.stdout.splitlines()[0]
        (tmp_path / "corpus" / "ferry.txt").write_text("Ferry Returns\n\nThe ferry returned to service on "
                                                       "Tuesday. It runs every hour.")
        indexed = cli(tmp_path, "index", "--json")
        assert indexed.returncode == 0, indexed.stderr
        assert '"added": 1' in indexed.stdout and http("GET", base + "/api/articles/ferry")[0] == 200
        jobs = cli(tmp_path, "jobs")
        assert jobs.returncode == 0, jobs.stderr
        (sync, sync_kind, sync_state), (add, add_kind, add_state) = [line.split()[:3] for line in jobs.stdout.splitlines()]
        assert (sync_kind, sync_state, add_kind, add_state) == ("sync", "done", "add", "done")  # newest first
        assert jobs.stdout.splitlines()[1].endswith("; added tram")
        one = cli(tmp_path, "jobs", add, "--json")
        assert one.returncode == 0 and json.loads(one.stdout)["result"]["id"] == "tram"
        removed = cli(tmp_path, "remove", "tram")
        assert removed.returncode == 0 and removed.stdout.strip() == "removed tram (2 passages)"
        assert http("GET", base + "/api/articles/tram")[0] == 404
        refused = cli(tmp_path, "remove", "tram")
        assert refused.returncode == 2 and refused.stderr.strip() == "error: no article with id 'tram'"
    finally:
        output = stop(process)
    assert "POST /api/articles" in output and "DELETE /api/articles/tram 200" in output
    assert "GET /api/articles?offset=0&limit=20&title=&sort=title 200" in output  # `articles` went through it
    assert not (tmp_path / "index" / "server.json").exists(), "the server forgets where it listened when it stops"
    alone = cli(tmp_path, "ask", "When did the ferry return?")  # no server: the index itself
    assert alone.returncode == 0 and "Tuesday" in alone.stdout


def test_pages_and_feeds_from_the_cli_through_the_running_server(tmp_path):
    from web_site import Route, Site

    site = Site()
    site.routes["/tram.html"] = Route(b"<html><body><article><h1>Tram line opens</h1><p>The new tram line opened on "
                                      b"Monday and carries 9,000 passengers a day.</p></article></body></html>")
    site.routes["/rss.xml"] = Route(b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>http://x/'
                                    b"</link><description>d</description></channel></rss>",
                                    content_type="application/rss+xml")
    process, base = start_server(tmp_path, env={"QA_API_TOKEN": "s3cret", "QA_FETCH_ALLOW_PRIVATE": "1"})
    try:
        added = cli(tmp_path, "add", site.base + "/tram.html")
        assert added.returncode == 0, added.stderr
        assert added.stdout.strip() == f"{site.base}/tram.html: added as tram-line-opens (2 passages)"
        assert http("GET", base + "/api/articles/tram-line-opens")[1]["url"] == site.base + "/tram.html"
        followed = cli(tmp_path, "feeds", "add", site.base + "/rss.xml", "--every", "15")
        assert followed.returncode == 0 and followed.stdout.startswith("following "), followed.stderr
        listed = cli(tmp_path, "feeds", "list", "--json")
        assert '"every_minutes": 15' in listed.stdout
        feed_id = followed.stdout.split()[1]
        assert cli(tmp_path, "feeds", "remove", feed_id).returncode == 0
        assert cli(tmp_path, "feeds", "list").stdout.strip() == "no feeds followed"
        refused = cli(tmp_path, "add", "https://user:pw@example.com/x")
        assert refused.returncode == 1 and "error:" in refused.stderr and "Traceback" not in refused.stderr
    finally:
        stop(process)
        site.close()
