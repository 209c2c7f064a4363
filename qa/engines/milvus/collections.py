"""The Milvus side of the engine: the connection, the collections' schemas and filter expressions.

Five collections, named ``{prefix}_...``:

- ``articles``: one row per article (metadata, the version its passages carry, its copy's
  original, its near-duplicate signature); the row is what makes a write visible.
- ``texts``: the article's text, in parts of at most :data:`TEXT_PART` characters (a VARCHAR
  holds 65,535 bytes), keyed by article and version.
- ``passages``: one row per passage: offsets, the answer choice's sentences and their vectors,
  the dense vector, the analysed text that Milvus's own BM25 function turns into a sparse vector,
  and the article's filter fields, so that a filter is an expression Milvus evaluates itself.
- ``terms``: each index term's passage count (BM25's idf, which Milvus does not expose).
- ``meta``: the build id and the writes under way (see :mod:`qa.engines.milvus.engine`).

Every collection has ``Strong`` consistency: a read sees every write acknowledged before it, on
one server or several. Milvus requires a vector field in every collection: the collections that
hold none get a two-dimensional placeholder.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Iterable

from qa.engines.analysis import day, fold
from qa.engines.contracts import Filter
from qa.errors import Busy, StorageUnavailable

log = logging.getLogger("qa.engine")

TEXT_PART = 16_000  # characters: 4 bytes each at most in UTF-8, under a VARCHAR's 65,535 bytes
LONG = 65_535       # the longest VARCHAR Milvus takes
PLACEHOLDER = [0.0, 0.0]
PAGE = 16_384       # Milvus's largest query window (offset + limit)
TIMEOUT_S = 30.0    # a call that takes longer fails instead of hanging the request
INDEX_BUILD_S = 600.0  # an index added to a collection that already holds passages may take minutes


@dataclass(frozen=True)
class Names:
    articles: str
    texts: str
    passages: str
    terms: str
    meta: str

    @classmethod
    def of(cls, prefix: str) -> "Names":
        return cls(*(f"{prefix}_{name}" for name in ("articles", "texts", "passages", "terms", "meta")))


class Clients:
    """One client per Milvus address in a process, shared and counted: pymilvus keys connections
    by address, so closing one of two clients would close the other's too."""

    _open: dict[tuple[str, str], list] = {}  # (uri, token) -> [client, users]
    _lock = threading.Lock()

    @classmethod
    def take(cls, uri: str, token: str | None):
        with cls._lock:
            key = (uri, token or "")
            if key not in cls._open:
                cls._open[key] = [_connect(uri, token), 0]
            cls._open[key][1] += 1
            return cls._open[key][0]

    @classmethod
    def give_back(cls, uri: str, token: str | None) -> None:
        with cls._lock:
            key = (uri, token or "")
            entry = cls._open.get(key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] == 0:
                del cls._open[key]
                entry[0].close()


def _connect(uri: str, token: str | None):
    """A client for a Milvus server (``http://host:19530``) or an embedded Milvus Lite file."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    embedded = "://" not in uri
    if embedded:
        os.makedirs(os.path.dirname(os.path.abspath(uri)), exist_ok=True)
    try:
        with warnings.catch_warnings():  # milvus-lite 2.5 imports pkg_resources, which warns it is deprecated
            warnings.simplefilter("ignore")
            return MilvusClient(uri=uri, token=token or "", timeout=TIMEOUT_S)
    except MilvusException as exc:
        if embedded:  # Milvus Lite: one process per file
            raise Busy("index_busy", f"cannot open the Milvus Lite file {uri} ({exc.message}): another process "
                                     "(a running server?) has it open; stop it first, or send the change "
                                     "through its API") from None
        raise StorageUnavailable("storage_unavailable", f"cannot reach Milvus at {uri}: {exc.message}") from None


def create(client, names: Names, dim: int, embedded: bool) -> None:
    """Create the collections that do not exist yet (an existing one is used as it is)."""
    from pymilvus import DataType, Function, FunctionType

    def collection(name: str, fields: list[tuple], vector: tuple[str, int, str, str], functions=()) -> None:
        if client.has_collection(name):
            return
        schema = client.create_schema(auto_id=False)
        for field, kind, options in fields:
            schema.add_field(field, kind, **options)
        for function in functions:
            schema.add_function(function)
        params = client.prepare_index_params()
        field, size, index, metric = vector
        if size:
            schema.add_field(field, DataType.FLOAT_VECTOR, dim=size)
        params.add_index(field, index_type=index, metric_type=metric, **_index_options(index))
        client.create_collection(name, schema=schema, consistency_level="Strong")
        _build_index(client, name, params)

    text = lambda n=LONG: (DataType.VARCHAR, {"max_length": n})  # noqa: E731
    integer = (DataType.INT64, {})
    key = (DataType.VARCHAR, {"max_length": 512, "is_primary": True})
    placeholder = ("placeholder", 2, "FLAT", "L2")
    collection(names.articles, [("id", *key), ("version", *integer), ("title", *text()), ("title_key", *text()),
                                ("author", *text()), ("date", *text(10)), ("source", *text()),
                                ("source_key", *text()), ("author_key", *text()), ("day", *integer),
                                ("body_start", *integer), ("headings", *text()), ("content_hash", *text(128)),
                                ("origin", *text(16)), ("path", *text()), ("mtime_ns", *integer),
                                ("size", *integer), ("added_at", *text(32)), ("added_ns", *integer),
                                ("url", *text()), ("copy_of", *text(512)), ("signature", *text()),
                                ("passages", *integer), ("parts", *integer)], placeholder)
    collection(names.texts, [("id", *key), ("article_id", *text(512)), ("version", *integer), ("part", *integer),
                             ("text", *text())], placeholder)
    collection(names.passages,
               [("id", DataType.INT64, {"is_primary": True}), ("article_id", *text(512)), ("version", *integer),
                ("ord", *integer), ("start", *integer), ("end", *integer), ("header", DataType.BOOL, {}),
                ("text", *text()), ("sentences", *text()), ("sentence_vectors", *text()),
                ("lexical", DataType.VARCHAR, {"max_length": LONG, "enable_analyzer": True,
                                               "analyzer_params": {"tokenizer": "whitespace"}}),
                ("sparse", DataType.SPARSE_FLOAT_VECTOR, {}),
                ("source_key", *text()), ("author_key", *text()), ("day", *integer),
                ("dense", DataType.FLOAT_VECTOR, {"dim": dim})],
               ("dense", 0, "FLAT" if embedded else "HNSW", "IP"),
               [Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["lexical"],
                         output_field_names=["sparse"])])
    if not _has_index(client, names.passages, "sparse"):
        params = client.prepare_index_params()
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params={"bm25_k1": 1.2, "bm25_b": 0.75})  # tantivy's (Lucene's) constants
        _build_index(client, names.passages, params)
    collection(names.terms, [("term", *key), ("df", *integer)], placeholder)
    collection(names.meta, [("key", *key), ("value", *text())], placeholder)
    for name in (names.articles, names.texts, names.passages, names.terms, names.meta):
        client.load_collection(name)


def _build_index(client, collection: str, params) -> None:
    """Create the indexes of ``params`` and wait until each is built. pymilvus's own wait sleeps
    half a second before it first looks, and an index over an empty collection is built at once:
    that sleep was nearly all of the 3 s a new index took to open."""
    client.create_index(collection, params, sync=False)
    deadline = time.monotonic() + INDEX_BUILD_S
    for param in params:
        delay = 0.005
        name = param.index_name or param.field_name  # Milvus names an unnamed index after its field
        while (state := (client.describe_index(collection, name) or {}).get("state")) != "Finished":
            if state == "Failed" or time.monotonic() > deadline:
                raise StorageUnavailable("storage_unavailable",
                                         f"Milvus did not build the {param.field_name} index of {collection} ({state})")
            time.sleep(delay)
            delay = min(2 * delay, 0.5)


def _index_options(index: str) -> dict:
    # HNSW on a server: M=16, efConstruction=200 (docs/scale.md has its memory per vector).
    return {"params": {"M": 16, "efConstruction": 200}} if index == "HNSW" else {}


def _has_index(client, collection: str, field: str) -> bool:
    return any(client.describe_index(collection, name).get("field_name") == field
               for name in client.list_indexes(collection))


# --- expressions ----------------------------------------------------------------------


def quote(value: str) -> str:
    """A string literal in Milvus's expression language (JSON's escapes are its escapes)."""
    return json.dumps(value, ensure_ascii=False)


def one_of(field: str, values: Iterable) -> str:
    listed = ", ".join(quote(v) if isinstance(v, str) else str(int(v)) for v in values)
    return f"{field} in [{listed}]"


def expression(where: Filter, article_field: str) -> str:
    """``where`` as an expression over the filter fields that the articles collection (its
    ``article_field`` is ``id``) and the passages collection (``article_id``) both hold."""
    clauses = []
    if where.sources:
        clauses.append(one_of("source_key", (fold(s) for s in where.sources)))
    if where.authors:
        clauses.append(one_of("author_key", (fold(a) for a in where.authors)))
    if where.articles:
        clauses.append(one_of(article_field, where.articles))
    if where.date_from:
        clauses.append(f"day >= {day(where.date_from)}")
    if where.date_to:
        clauses.append(f"day <= {day(where.date_to)} and day > 0")
    return " and ".join(clauses)


def query_all(client, collection: str, filter: str, fields: list[str], key: str = "id") -> list[dict]:
    """Every row ``filter`` matches, paged by primary key (Milvus answers at most :data:`PAGE` rows
    a query; its query iterator loops on string keys in Milvus Lite 2.5)."""
    rows: list[dict] = []
    last = None
    while True:
        after = "" if last is None else f"{key} > {quote(last) if isinstance(last, str) else last}"
        condition = " and ".join(f"({c})" for c in (filter, after) if c)
        page = client.query(collection, filter=condition, output_fields=list(dict.fromkeys([key, *fields])),
                            limit=PAGE)
        rows += page
        if len(page) < PAGE:
            return rows
        last = max(r[key] for r in page)
