"""Retrieval question answering over news articles.

The stages, in the order data flows: :mod:`qa.ingest` (raw input to articles), :mod:`qa.passages`
(articles to passages the model reads), :mod:`qa.embeddings` (the model), :mod:`qa.engines`
(store, vector and lexical indexes), :mod:`qa.search` (ranked passages and their answers);
:mod:`qa.service` is the front door over them, :mod:`qa.serve` the HTTP and command-line faces,
and :mod:`qa.evaluation` measures it all.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qa")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0"
