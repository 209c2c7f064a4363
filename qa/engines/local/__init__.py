"""The local engine: SQLite + FAISS + tantivy in one index folder."""

from qa.engines.local.engine import LocalEngine

__all__ = ["LocalEngine"]
