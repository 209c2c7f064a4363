"""The rules a question must follow, checked before any work is done (the CLI checks them before
the model loads)."""

from __future__ import annotations

import re
from datetime import date

from qa.config import FILTER_DATES, FILTER_LISTS
from qa.engines.contracts import Filter
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


MAX_FILTER_VALUES = 100
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_filter(value: object) -> Filter:
    """The filter of an ask: ``{"source": S | [S, ...], "author": ..., "article": ..., "date_from":
    "YYYY-MM-DD", "date_to": ...}`` (every field optional); ``invalid_filter`` naming the field."""
    if value is None or isinstance(value, Filter):
        return value or Filter()
    fields = ", ".join([*FILTER_LISTS, *FILTER_DATES])
    if not isinstance(value, dict):
        raise BadInput("invalid_filter", f"filters must be an object with any of: {fields}")
    unknown = [name for name in value if name not in FILTER_LISTS and name not in FILTER_DATES]
    if unknown:
        raise BadInput("invalid_filter", f"unknown filter field {str(unknown[0])!r}; the fields are: {fields}")
    lists = {attr: _filter_values(name, value.get(name)) for name, attr in FILTER_LISTS.items()}
    date_from, date_to = (_filter_date(name, value.get(name)) for name in FILTER_DATES)
    if date_from and date_to and date_from > date_to:
        raise BadInput("invalid_filter", f"date_from {date_from} is after date_to {date_to}")
    return Filter(**lists, date_from=date_from, date_to=date_to)


def _filter_values(name: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if (not isinstance(values, list) or not values or len(values) > MAX_FILTER_VALUES
            or not all(isinstance(v, str) and v.strip() and _storable(v) for v in values)):
        raise BadInput("invalid_filter", f"filter field {name!r} must be a non-empty text or a list of 1 to "
                                         f"{MAX_FILTER_VALUES} of them")
    return tuple(dict.fromkeys(v.strip() for v in values))


def _storable(text: str) -> bool:
    """Valid Unicode without NUL characters: what SQLite can compare."""
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _filter_date(name: str, value: object) -> str | None:
    if value is None:
        return None
    try:
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise BadInput("invalid_filter", f"filter field {name!r} must be a date YYYY-MM-DD, got {str(value)[:40]!r}")


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when None); ``invalid_<name>`` otherwise."""
    if value is None:
        return choices[0]
    if value not in choices:
        raise BadInput(f"invalid_{name}", f"{name} must be one of: {', '.join(choices)}")
    return str(value)
