"""The front door: :class:`QAService` (ask, add, remove, articles, stats), with the write path and
the corpus folder behind it.

Names are imported on first use, so that the CLI can check a question (``check_question``) and go
through a running server without importing the engines and the model's libraries."""

from importlib import import_module

_WHERE = {"QAService": "service", "SyncReport": "corpus", "WriteResult": "writer", "passage_bar": "writer",
          "check_k": "inputs", "check_question": "inputs"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
