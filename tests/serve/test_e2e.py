"""End to end: `python run.py` as a real process, answering over real HTTP."""

import json
import os
import shutil
import subprocess
import sys
import urllib.request

import pytest

from helpers import ROOT, SEED, http, start_server, stop

pytestmark = pytest.mark.slow


def test_server_answers_over_http_and_stops_cleanly(tmp_path):
    process, base = start_server(tmp_path)
    try:
        status, health = http("GET", base + "/api/health")
        assert status == 200 and health["articles"] == 1 and health["passages"] > 10
        status, body = http("POST", base + "/api/ask", {"question": "How many Russians visited Turkey as tourists?"})
        assert status == 200
        assert "seven million" in body["results"][0]["answer"]
        status, body = http("POST", base + "/api/ask", {"question": ""})
        assert status == 400 and body["error"]["code"] == "missing_question"
        with urllib.request.urlopen(base + "/api/health") as response:
            assert response.headers["Server"] == "qa", "served by waitress, not the Flask development server"
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert (tmp_path / "index" / "vectors.faiss").exists()


def test_cli_ask_and_index(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    env = {**os.environ, "QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index")}
    run = [sys.executable, str(ROOT / "run.py")]
    indexed = subprocess.run(run + ["index", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert indexed.returncode == 0, indexed.stderr
    report = json.loads(indexed.stdout.strip().splitlines()[-1])
    assert report["added"] == 1 and report["articles"] == 1
    asked = subprocess.run(run + ["ask", "What did Ankara buy from Russia for air defense?", "-k", "2"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("answer: ") and "S-400" in asked.stdout.splitlines()[0]
    assert "\n1. Analyzing Turkish-Russian Partnership (Ahmet Mehmet" in asked.stdout
    bad = subprocess.run(run + ["ask", "   "], env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == "error: a non-empty question is required"
