"""The API's request and response schemas (pydantic), from which spectree both validates requests
and generates the OpenAPI document at ``/api/openapi.json``: one description, never a copy.

Request fields are checked by the same rules the service and the CLI use
(:mod:`qa.service.inputs`, :mod:`qa.ingest.article`); a failure becomes the
API's usual ``{"error": {"code", "message"}}`` with the code of the rule that
failed (:func:`bad_input`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from qa.config import GROUPS, LIST_ORDERS, MAX_OFFSET, MAX_PAGE, SORTS, Settings
from qa.errors import BadInput, QAError
from qa.service.inputs import check_choice, check_filter, check_k, check_question


_OURS = "qa:"  # the prefix of a validation error raised by one of our rules, carrying its code


def _rule(check, value):
    """Run one of the service's checks; its failure becomes a validation error carrying its code."""
    try:
        return check(value)
    except QAError as exc:
        raise PydanticCustomError(_OURS + exc.code, exc.message) from None


class ArticleRef(BaseModel):
    id: str
    title: str
    author: Optional[str] = None
    date: Optional[str] = None
    source: Optional[str] = None
    url: Optional[str] = Field(None, description="the page it was fetched from, for an article added by URL")


class Copy(BaseModel):
    """A republished copy: stored and listed, its passages those of the article it repeats."""
    id: str
    title: str
    source: Optional[str] = None
    date: Optional[str] = None


class Result(BaseModel):
    rank: int
    score: float = Field(description="the ranking's score: only comparable within one reply")
    confidence: float = Field(ge=0, le=1, description="estimated probability that the passage holds the answer")
    text: str = Field(description="the passage")
    answer: str = Field(description="its answering sentence")
    answer_start: int
    answer_end: int
    start: int = Field(description="offset of the passage in the article text")
    end: int
    article: ArticleRef
    copies: list[Copy] = Field(description="other articles that carry this passage (republished copies)")
    matches: Optional[int] = Field(None, description="with group=article: the article's passages among those ranked")


class Answer(BaseModel):
    text: str
    confidence: float = Field(ge=0, le=1)
    article: ArticleRef
    copies: list[Copy]
    start: int
    end: int
    rank: int = Field(description="the result it was taken from")


class Facet(BaseModel):
    value: str = Field(description="a source, or a month YYYY-MM")
    count: int = Field(description="articles")


class Facets(BaseModel):
    source: list[Facet]
    month: list[Facet]


class AskReply(BaseModel):
    question: str
    took_ms: float
    answer: Optional[Answer] = Field(description="null when no result is confident enough")
    results: list[Result]
    facets: Optional[Facets] = Field(None, description="with facets: the articles the filter allows, by source "
                                                       "and month (each as if its own field were not filtered)")


class Health(BaseModel):
    status: str
    articles: int
    passages: int
    vectors: int
    lexical: int
    model: str
    engine: str
    vector_index: str


class ArticleSummary(BaseModel):
    id: str
    title: str
    author: Optional[str] = None
    date: Optional[str] = None
    source: Optional[str] = None
    origin: str
    added_at: str
    passages: int = Field(description="0 for a copy: its passages are its original's")
    copy_of: Optional[str] = Field(None, description="a republished copy: the article it repeats")
    url: Optional[str] = Field(None, description="the page it was fetched from, for an article added by URL")


class ArticleList(BaseModel):
    total: int = Field(description="articles whose titles hold `title`")
    offset: int
    limit: int
    title: str
    sort: str
    articles: list[ArticleSummary]


class StoredArticle(ArticleSummary):
    text: str
    body_start: int = Field(description="where the header block ends and the body begins")
    headings: list[list[int]] = Field(description="offsets of the body's section headings")
    copies: list[Copy]


class WriteReply(BaseModel):
    id: str
    status: str = Field(description="added, replaced, unchanged or duplicate (stored as a copy, not indexed)")
    passages: int
    title: str
    duplicate_of: Optional[str] = Field(None, description="for a duplicate: the article it repeats")


class FeedFields(BaseModel):
    """A feed to follow (checked by the service's own rules, which give the error codes)."""

    model_config = ConfigDict(extra="ignore")

    url: Optional[Any] = Field(None, description="an RSS or Atom feed, http or https (required)")
    every_minutes: Optional[Any] = Field(30, description="how often to poll it, 1 to 10080")


class Feed(BaseModel):
    id: str
    url: str
    every_minutes: int
    last_poll: Optional[str] = None
    items_added: int
    last_error: Optional[str] = None
    created_at: str


class FeedList(BaseModel):
    feeds: list[Feed]


class JobAccepted(BaseModel):
    job: str
    status_url: str


class JobStatus(BaseModel):
    id: str
    kind: str = Field(description="add (an article) or sync (the corpus folder)")
    state: str = Field(description="queued, running, done or failed")
    done: int = Field(description="passages embedded so far")
    total: int = Field(description="passages to embed (known batch by batch)")
    result: Optional[Any] = Field(None, description="when done: the write's result")
    error: Optional[dict] = Field(None, description="when failed: {code, message}")
    created_at: str
    finished_at: Optional[str] = None


class JobList(BaseModel):
    jobs: list[JobStatus]


class WriteOptions(BaseModel):
    wait: bool = Field(True, description="false: answer 202 with a job at once, and write in the background")


class Removed(BaseModel):
    id: str
    status: str
    passages: int


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorReply(BaseModel):
    error: ErrorDetail


class Paging(BaseModel):
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    limit: int = Field(20, ge=1, le=MAX_PAGE)
    title: str = Field("", max_length=200, description="only articles whose titles hold this (any case)")
    sort: Any = Field("added", description=f"one of: {', '.join(LIST_ORDERS)} (date: newest first)",
                      json_schema_extra={"type": "string", "enum": list(LIST_ORDERS)})

    @field_validator("sort", mode="before")
    @classmethod
    def _sort(cls, value):
        return _rule(lambda v: check_choice(v, "sort", LIST_ORDERS), value)


class ArticleFields(BaseModel):
    """An article sent as JSON; metadata not given is read from the text's header."""

    model_config = ConfigDict(extra="ignore")

    text: Optional[Any] = Field(None, description="the article text (required)")
    title: Optional[str] = None
    author: Optional[str] = None
    date: Optional[str] = Field(None, description="any common date format; stored as YYYY-MM-DD")
    source: Optional[str] = Field(None, description="the publication")
    id: Optional[str] = Field(None, description="chosen from the title when not given")
    url: Optional[str] = Field(None, description="instead of text: fetch the article from this http(s) page")


class ArticleUpload(BaseModel):
    """An article as a multipart/form-data upload (``file``) or a pasted ``text`` field."""

    file: Optional[Any] = Field(None, description=".txt, .md, .html or .pdf", json_schema_extra={"format": "binary"})
    text: Optional[str] = None
    title: Optional[str] = None
    author: Optional[str] = None
    date: Optional[str] = None
    source: Optional[str] = None
    id: Optional[str] = None
    url: Optional[str] = Field(None, description="instead of a file or text: fetch the article from this page")
    token: Optional[str] = Field(None, description="the API token, for the page's form")


class DeleteForm(BaseModel):
    """The page's delete button: the article's id, and the API token when one is set."""

    id: str
    token: Optional[str] = None


@dataclass(frozen=True)
class Schemas:
    """The request models whose limits come from the settings."""

    ask_body: type[BaseModel]
    ask_query: type[BaseModel]


def build(settings: Settings) -> Schemas:
    max_chars, max_k = settings.max_question_chars, settings.max_k

    class AskBody(BaseModel):
        question: Any = Field(..., description=f"up to {max_chars} characters", json_schema_extra={"type": "string"})
        k: Any = Field(5, description=f"how many passages, 1 to {max_k}", json_schema_extra={"type": "integer"})
        group: Any = Field(GROUPS[0], description="article: one passage per article (its best)",
                           json_schema_extra={"type": "string", "enum": list(GROUPS)})
        sort: Any = Field(SORTS[0], description="date: newest first", json_schema_extra={"type": "string",
                                                                                        "enum": list(SORTS)})
        facets: bool = Field(False, description="add the counts of the allowed articles by source and month")

        @field_validator("question", mode="before")
        @classmethod
        def _question(cls, value):
            return _rule(lambda v: check_question(v, max_chars), value)

        @field_validator("k", mode="before")
        @classmethod
        def _k(cls, value):
            return _rule(lambda v: check_k(v, max_k), value)

        @field_validator("group", mode="before")
        @classmethod
        def _group(cls, value):
            return _rule(lambda v: check_choice(v, "group", GROUPS), value)

        @field_validator("sort", mode="before")
        @classmethod
        def _sort(cls, value):
            return _rule(lambda v: check_choice(v, "sort", SORTS), value)

    class AskPost(AskBody):
        filters: Any = Field(default_factory=dict, description="only these articles: {source, author, article (each a text or a list), "
                                               "date_from, date_to (YYYY-MM-DD, inclusive)}",
                             json_schema_extra={"type": "object"})

        @field_validator("filters", mode="before")
        @classmethod
        def _filters(cls, value):
            return _rule(check_filter, value)

    class AskQuery(AskBody):
        """The same, as query parameters: the question is ``q``; each filter field a parameter."""

        question: Any = Field(..., alias="q", description=f"the question, up to {max_chars} characters",
                              json_schema_extra={"type": "string"})
        source: Optional[list[str]] = Field(None, description="only this source (repeatable)")
        author: Optional[list[str]] = Field(None, description="only this author (repeatable)")
        article: Optional[list[str]] = Field(None, description="only this article id (repeatable)")
        from_: Optional[str] = Field(None, alias="from", description="dated on or after YYYY-MM-DD")
        to: Optional[str] = Field(None, description="dated on or before YYYY-MM-DD")

    return Schemas(AskPost, AskQuery)


# The code of a failed field when no rule of ours named one (a type error, a number out of range).
_FIELD_CODES = {"question": "missing_question", "q": "missing_question", "k": "invalid_k",
               **{name: "invalid_filter" for name in ("filters", "source", "author", "article", "from", "to")},
                "offset": "invalid_offset", "limit": "invalid_limit", "text": "empty_text", "id": "invalid_field"}


def bad_input(error: ValidationError) -> BadInput:
    """The first failure of a request, as the API's error: the rule's own code, or the field's."""
    first = error.errors()[0]
    if first["type"].startswith(_OURS):
        return BadInput(first["type"][len(_OURS):], first["msg"])
    field = str(first["loc"][0]) if first.get("loc") else "body"
    message = first["msg"][:1].lower() + first["msg"][1:]
    return BadInput(_FIELD_CODES.get(field, "invalid_field"), f"'{field}': {message}")
