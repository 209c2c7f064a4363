"""The Milvus engine: Milvus (a server, a cluster or an embedded Milvus Lite file) holds everything."""

from qa.engines.milvus.engine import MilvusEngine

__all__ = ["MilvusEngine"]
