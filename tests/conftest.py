"""Shared fixtures: the real model is loaded once per session; every index lives in a temp folder.

Tests whose subject is not the model (writes, sync, the engine's files, the CLI's errors) may use
``test_encoder``, a small deterministic one; retrieval, quality, API and end-to-end tests use the
real model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fake_encoder import HashEncoder
from helpers import SEED
from qa.config import Settings
from qa.embeddings import Embedder
from qa.service import QAService


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def test_encoder() -> HashEncoder:
    return HashEncoder()


@pytest.fixture
def make_service(tmp_path, embedder):
    """Build services over temp folders (the real model unless ``encoder`` is given); each is
    closed at the end of the test."""
    made = []

    def make(corpus_files=(SEED,), index_dir: Path | None = None, encoder=None, **settings) -> QAService:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        for f in corpus_files:
            shutil.copy(f, corpus / Path(f).name)
        allow_rebuild = settings.pop("allow_rebuild", False)
        base = Settings(corpus_dir=corpus, index_dir=index_dir or tmp_path / "index")
        service = QAService(base.with_(**settings), encoder=encoder or embedder, allow_rebuild=allow_rebuild)
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
    service = QAService(Settings(corpus_dir=root / "corpus", index_dir=root / "index"), encoder=embedder)
    service.sync()
    yield service
    service.close()
