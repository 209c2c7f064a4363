"""Helpers shared by the tests: paths, a real server process, an in-process HTTP server, HTTP calls,
and a tiny BEIR dataset."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "turkish-russian-partnership.txt"
SEED_ID = "turkish-russian-partnership"
SEED_QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, timeout: float = 30, headers: dict | None = None):
    """``(status, JSON body)`` of one request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={**({"Content-Type": "application/json"} if data else {}),
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@contextmanager
def serving(service) -> Iterator[str]:
    """The app over ``service`` on a real HTTP server (waitress, 127.0.0.1) in this process."""
    from waitress import create_server

    from qa.serve.web import create_app

    channels: dict = {}  # waitress's socket map: closing every channel in it ends its loop
    server = create_server(create_app(service), map=channels, host="127.0.0.1", port=0,
                           threads=service.settings.threads, ident="qa")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def close_all():
        for channel in list(channels.values()):
            channel.close()

    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        try:
            server.trigger.pull_trigger(close_all)
        except OSError:
            # Twice in clean-clone runs the loop's wake-up pipe was already closed (EBADF) once the
            # test had passed; without it the channels are closed from here, which ends the loop.
            close_all()
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()


def start_server(tmp_path: Path, *args: str, env: dict | None = None):
    """``python run.py`` as a real process over ``tmp_path``'s corpus (the seed) and index."""
    port = free_port()
    corpus = tmp_path / "corpus"
    if not corpus.exists():
        corpus.mkdir()
        shutil.copy(SEED, corpus / SEED.name)
    environ = {**os.environ, "QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index"), **(env or {})}
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--port", str(port), *args],
                               env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300  # a loaded machine starts slowly
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError("server exited early:\n" + process.stdout.read())
        try:
            if http("GET", base + "/api/health", timeout=2)[0] == 200:
                return process, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not answer /api/health in time")


def stop(process) -> str:
    """SIGTERM, wait, and return what the server printed."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.stdout.read()


def kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=90)
    process.stdout.close()


def minimal_pdf(text: str, stream: bytes | None = None) -> bytes:
    """A one-page PDF with ``text`` in Helvetica, built by hand (offsets computed); ``stream``: its
    page's compressed content stream instead."""
    stream = stream or zlib.compress(f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode())
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


# A tiny BEIR dataset for the evaluation tests.

def write_beir(folder, corpus, queries, qrels, split="test"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qrels").mkdir(exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / f"{split}.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels))
    return folder


CORPUS = [
    {"_id": "d1", "title": "Volcanoes", "text": "Magma rises through the crust and erupts as lava from volcanoes."},
    {"_id": "d2", "title": "Glaciers", "text": "Glaciers are rivers of ice that carve valleys as they slowly move."},
    {"_id": "d3", "title": "Coral reefs", "text": "Coral reefs grow in warm shallow seas and shelter many fish."},
    {"_id": "d4", "title": "Deserts", "text": "Deserts receive very little rain and have extreme temperatures."},
]
QUERIES = [{"_id": "q1", "text": "How does lava come out of a volcano?"},
           {"_id": "q2", "text": "Where do coral reefs grow?"},
           {"_id": "q3", "text": "Which documents are about ice or deserts?"},
           {"_id": "q9", "text": "A query without judgements is not part of the split."}]
QRELS = [("q1", "d1", 1), ("q2", "d3", 1), ("q3", "d2", 1), ("q3", "d4", 1)]
