"""Shared fixtures: the real model is loaded once per session; every index lives in a temp folder.

Tests whose subject is not the model (writes, sync, the engine's files, the CLI's errors) may use
``test_encoder``, a small deterministic one; retrieval, quality, API and end-to-end tests use the
real model.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from fake_encoder import HashEncoder
from helpers import SEED
from qa.config import Settings
from qa.embeddings import Embedder
from qa.service import QAService


# The engines the engine-parametrised tests run on: local and embedded Milvus Lite always, a real
# Milvus server too when QA_TEST_MILVUS_URI points at one.
MILVUS_SERVER = os.environ.get("QA_TEST_MILVUS_URI")
ENGINES = ["local", "milvus"] + (["milvus-server"] if MILVUS_SERVER else [])


@dataclass(frozen=True)
class EngineUnderTest:
    """An engine as a test runs it: the settings for a service, the environment for a server."""

    name: str
    settings: dict

    @classmethod
    def of(cls, name: str) -> "EngineUnderTest":
        if name == "local":
            return cls(name, {"engine": "local"})
        if name == "milvus":
            return cls(name, {"engine": "milvus"})  # a Milvus Lite file in the test's index folder
        # One Milvus server for every test: each test's collections under a prefix of its own.
        return cls(name, {"engine": "milvus", "milvus_uri": MILVUS_SERVER, "milvus_prefix": f"t{uuid.uuid4().hex[:12]}"})

    @property
    def env(self) -> dict:
        names = {"engine": "QA_ENGINE", "milvus_uri": "QA_MILVUS_URI", "milvus_prefix": "QA_MILVUS_PREFIX"}
        return {names[k]: v for k, v in self.settings.items()}


@pytest.fixture(params=ENGINES)
def engine(request) -> EngineUnderTest:
    return EngineUnderTest.of(request.param)


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


def open_seed_service(root: Path, engine: str, encoder) -> QAService:
    """A service on ``engine`` over a corpus folder in ``root`` holding the seed article, synced."""
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    service = QAService(settings.with_(**EngineUnderTest.of(engine).settings), encoder=encoder)
    try:
        service.sync()
    except BaseException:
        service.close()
        raise
    return service


@pytest.fixture(scope="session")
def seed_service_on(tmp_path_factory, embedder):
    """The seed article indexed once per engine, for tests that only read: ``seed_service_on(name)``."""
    made: dict[str, QAService] = {}

    def on(name: str) -> QAService:
        if name not in made:
            made[name] = open_seed_service(tmp_path_factory.mktemp(f"seed-{name}"), name, embedder)
        return made[name]

    yield on
    for service in made.values():
        service.close()


@pytest.fixture(scope="session")
def seed_service(seed_service_on) -> QAService:
    """The seed article indexed once on the local engine."""
    return seed_service_on("local")
