"""The rules a question must follow, checked before any work is done (the CLI checks them before
the model loads)."""

from __future__ import annotations

from qa.errors import BadInput
from qa.ingest.decode import check_text


def check_question(question: object, max_chars: int) -> str:
    """The question, stripped; a clear error when it is missing, not text, or too long."""
    if not isinstance(question, str) or not question.strip():
        raise BadInput("missing_question", "a non-empty question is required")
    question = check_text(question.strip(), "question")
    if len(question) > max_chars:
        raise BadInput("question_too_long", f"question is {len(question)} characters; the limit is {max_chars}")
    return question


def check_k(k: object, max_k: int) -> int:
    """How many passages to return: a whole number from 1 to ``max_k`` (a string of one is accepted)."""
    if isinstance(k, bool) or not isinstance(k, (int, str)):
        raise BadInput("invalid_k", f"k must be a whole number from 1 to {max_k}")
    try:
        value = int(k)
    except ValueError:
        raise BadInput("invalid_k", f"k must be a whole number from 1 to {max_k}") from None
    if not 1 <= value <= max_k:
        raise BadInput("invalid_k", f"k must be from 1 to {max_k}, got {value}")
    return value
