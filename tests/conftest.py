"""Shared fixtures: the real model is loaded once per session; every index lives in a temp folder."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from qa.config import Settings
from qa.embeddings import Embedder
from qa.service import QAService

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "turkish-russian-partnership.txt"
SEED_QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture
def make_service(tmp_path, embedder):
    """Build services over temp folders; each is closed at the end of the test."""
    made = []

    def make(corpus_files=(SEED,), index_dir: Path | None = None, **options) -> QAService:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        for f in corpus_files:
            shutil.copy(f, corpus / Path(f).name)
        settings = Settings(corpus_dir=corpus, index_dir=index_dir or tmp_path / "index")
        service = QAService(settings, embedder=embedder, **options)
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


@pytest.fixture(scope="session")
def seed_service(tmp_path_factory, embedder) -> QAService:
    """The seed article indexed once, for tests that only read."""
    root = tmp_path_factory.mktemp("seed")
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    service = QAService(Settings(corpus_dir=root / "corpus", index_dir=root / "index"), embedder=embedder)
    service.sync()
    yield service
    service.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
