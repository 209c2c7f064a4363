"""Stage 3, engines: where passages, their vectors and their lexical index are kept and searched,
each behind a small contract (:mod:`qa.engines.contracts`), chosen by ``Settings.engine``."""

from __future__ import annotations

from qa.config import Settings
from qa.engines.contracts import Engine, FeedList, JobQueue


def open_engine(settings: Settings, dim: int, build: str, allow_rebuild: bool = False) -> Engine:
    """The configured engine over the index built as ``build`` (see :mod:`qa.engines.build`)."""
    if settings.engine == "milvus":
        from qa.engines.milvus import MilvusEngine

        return MilvusEngine(settings, dim, build, allow_rebuild)
    from qa.engines.local import LocalEngine

    return LocalEngine(settings, dim, build, allow_rebuild)


def open_feeds(settings: Settings) -> FeedList:
    """The feeds the server follows (a file beside the index, whatever the engine)."""
    from qa.engines.local.feeds import FeedStore

    return FeedStore(settings.index_dir / "feeds.sqlite3")


def open_jobs(settings: Settings) -> JobQueue:
    """The server's job queue (a file beside the index, whatever the engine)."""
    from qa.engines.local.jobs import JobStore

    return JobStore(settings.index_dir / "jobs.sqlite3")
