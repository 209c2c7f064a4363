"""Stage 3, engines: where passages, their vectors and their lexical index are kept and searched,
each behind a small contract (:mod:`qa.engines.contracts`), chosen by ``Settings.engine``."""

from __future__ import annotations

from qa.config import Settings
from qa.engines.contracts import Engine


def open_engine(settings: Settings, dim: int, build: str, allow_rebuild: bool = False) -> Engine:
    """The configured engine over the index built as ``build`` (see :mod:`qa.engines.build`)."""
    from qa.engines.local import LocalEngine

    return LocalEngine(settings, dim, build, allow_rebuild)
