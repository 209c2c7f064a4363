"""Milvus as the source of truth: articles, their text and their passages, written so that an
article is all there or not at all although Milvus has no transaction over several rows.

A write gives the article a new version (a number larger than the one it has) and goes:

1. a marker ``writing:{id}:{version}`` in ``meta``, so that a crash anywhere below is finished or
   undone at the next start;
2. the text and the passages of the new version (readers do not see them: a passage counts only
   when its version is its article's);
3. the article's row with the new version: this single-row upsert is the moment the new version
   replaces the old for every reader, on every server;
4. the term counts (BM25's idf) moved from the old passages to the new, the marker noted
   ``counted``; then the old version's passages and text deleted and the marker with them.

Removing an article is the same with no new version: the row goes first (the article is gone for
readers), then its passages. Before a flip the writer reads the row again and steps back if a
newer version is already there, so two servers writing one article end with the newer version
(only two writes of the same article within the same few milliseconds can still both flip).

The term counts are kept per writer: each process adds its changes to rows of its own
(``"{term} {writer}"``, the writer named in ``meta`` as ``writer:{id}``), so no two processes ever
update one row, and a term's count is the sum of every writer's row. One shared row per term, read
and written back by whoever wrote, lost the updates of the other when two servers or indexing
workers wrote at once. Rows written before counts were kept per writer are the writer ``""``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Iterable, Iterator

import numpy as np

from qa.engines import analysis
from qa.engines.contracts import ArticleRecord, FileStamp, Filter, PassageRecord, StoredPassage
from qa.engines.analysis import day, fold
from qa.engines.milvus.collections import PLACEHOLDER, TEXT_PART, Names, expression, one_of, quote, query_all
from qa.ingest.article import Article

_ARTICLE_FIELDS = ["id", "version", "title", "author", "date", "source", "body_start", "headings", "content_hash",
                   "origin", "path", "mtime_ns", "size", "added_at", "added_ns", "url", "copy_of", "signature",
                   "passages", "parts"]
_SUMMARY_FIELDS = ["id", "title", "author", "date", "source", "origin", "added_at", "added_ns", "copy_of", "url",
                   "passages"]
_PASSAGE_FIELDS = ["id", "article_id", "version", "start", "end", "text", "sentences", "sentence_vectors"]
_ORDER = {"added": lambda r: (r["added_ns"], r["id"]),
          "date": lambda r: (not r["date"], _negated(r["date"] or ""), r["id"]),
          "title": lambda r: (r["title"].lower(), r["id"])}
_BATCH = 1000  # ids per ``in [...]`` expression
WRITERS_TTL_S = 5.0  # how long the list of writers is reused (a new writer shows within this)


class MilvusStore:
    """Articles and passages in a Milvus database (a server or a Milvus Lite file)."""

    def __init__(self, client, names: Names, writer: str):
        self._client = client
        self._names = names
        self._lock = threading.Lock()  # one write at a time from this process
        self._writer = writer  # whose term-count rows this process writes (no other process writes them)
        self._registered = False
        self._writers: tuple[float, tuple[str, ...]] = (float("-inf"), ())

    # --- metadata ---------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        rows = self._client.get(self._names.meta, ids=[key], output_fields=["value"])
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._client.upsert(self._names.meta, [{"key": key, "value": value, "placeholder": PLACEHOLDER}])

    # --- writes -------------------------------------------------------------------

    def put(self, records: list[ArticleRecord]) -> None:
        """Add or replace articles, each with all its passages (the steps in the module's docstring)."""
        with self._lock:
            names = self._names
            for record in records:  # a file renamed onto another article's path takes the path over
                if record.file is not None:
                    for row in self._client.query(names.articles, filter=f"path == {quote(record.file.path)}",
                                                  output_fields=["id"]):
                        if row["id"] != record.article.id:
                            self._delete(row["id"])
            current = self._versions([r.article.id for r in records])
            now = time.time_ns()
            versions = {r.article.id: max(now, current.get(r.article.id, 0) + 1) for r in records}
            self._mark([(a, v) for a, v in versions.items()], "put")
            texts, passages = [], []
            for record in records:
                version = versions[record.article.id]
                texts += _text_rows(record.article, version)
                passages += _passage_rows(record, version)
            _insert(self._client, names.texts, texts)
            _insert(self._client, names.passages, passages)
            added_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            current = self._versions(list(versions))  # read again: another server may have written since
            rows = [_article_row(r, versions[r.article.id], added_at, now + i) for i, r in enumerate(records)
                    if current.get(r.article.id, 0) < versions[r.article.id]]
            if rows:
                self._client.upsert(names.articles, rows)
            lost = [(a, v) for a, v in versions.items() if current.get(a, 0) >= v]
            for article_id, version in lost:  # a newer version is there: this one is dropped unseen
                self._drop(article_id, f"version == {version}")
            self._finish([(a, v) for a, v in versions.items() if (a, v) not in lost], counted=False)
            self._unmark(list(versions.items()))

    def delete(self, article_id: str) -> int | None:
        """Remove an article; its passage count, or None if there was none."""
        with self._lock:
            return self._delete(article_id)

    def _delete(self, article_id: str) -> int | None:
        current = self._versions([article_id])
        if article_id not in current:
            return None
        version = current[article_id] + 1
        self._mark([(article_id, version)], "delete")
        self._client.delete(self._names.articles, ids=[article_id])
        removed = self._finish([(article_id, version)], counted=False)
        self._unmark([(article_id, version)])
        return removed

    def _finish(self, written: list[tuple[str, int]], counted: bool) -> int:
        """Step 4 for articles whose row now has ``version`` (or is gone): move the term counts from
        their older passages to those of ``version`` (unless ``counted``), then delete the older
        passages and text; how many passages were deleted."""
        if not written:
            return 0
        version = dict(written)
        rows = self._of_articles(self._names.passages, list(version), [] if counted else ["lexical"])
        gone = [r for r in rows if r["version"] < version[r["article_id"]]]
        if not counted:
            self._count_terms([r for r in rows if r["version"] == version[r["article_id"]]], gone)
            self._mark(written, "counted")
        texts = self._of_articles(self._names.texts, list(version), [])
        for collection, stale in ((self._names.passages, gone),
                                  (self._names.texts, [r for r in texts if r["version"] < version[r["article_id"]]])):
            ids = [r["id"] for r in stale]
            for lo in range(0, len(ids), _BATCH):
                self._client.delete(collection, ids=ids[lo:lo + _BATCH])
        return len(gone)

    def _of_articles(self, collection: str, article_ids: list[str], fields: list[str]) -> list[dict]:
        """The rows of ``collection`` (passages or texts) of these articles, whatever their version."""
        rows = []
        for lo in range(0, len(article_ids), _BATCH):
            rows += query_all(self._client, collection, one_of("article_id", article_ids[lo:lo + _BATCH]),
                              ["article_id", "version", *fields])
        return rows

    def _drop(self, article_id: str, which: str) -> None:
        """Delete passages and text of ``article_id`` that never became visible (nothing counted them)."""
        condition = f"article_id == {quote(article_id)} and {which}"
        self._client.delete(self._names.passages, filter=condition)
        self._client.delete(self._names.texts, filter=condition)

    def _count_terms(self, added: list[dict], removed: list[dict]) -> None:
        """Add the passages' terms to this writer's own rows, take the removed ones' away (a row may
        go below zero: another writer counted those passages)."""
        delta: dict[str, int] = {}
        for rows, step in ((added, 1), (removed, -1)):
            for row in rows:
                for term in set(row["lexical"].split()):
                    delta[term] = delta.get(term, 0) + step
        delta = {t: d for t, d in delta.items() if d}
        if not delta:
            return
        if not self._registered:
            self.set_meta(f"writer:{self._writer}", json.dumps({"since": time.time()}))
            self._registered = True
        keys = {t: _count_key(t, self._writer) for t in delta}
        own = {r["term"]: r["df"] for r in self._get(self._names.terms, list(keys.values()), ["df"])}
        _insert(self._client, self._names.terms,
                [{"term": keys[t], "df": own.get(keys[t], 0) + d, "placeholder": PLACEHOLDER}
                 for t, d in delta.items()], upsert=True)

    # --- the writes under way -------------------------------------------------------

    def _mark(self, written: list[tuple[str, int]], stage: str) -> None:
        rows = [{"key": f"writing:{a}:{v}", "value": json.dumps({"article": a, "version": v, "stage": stage,
                                                                  "at": time.time()}),
                 "placeholder": PLACEHOLDER} for a, v in written]
        _insert(self._client, self._names.meta, rows, upsert=True)

    def _unmark(self, written: list[tuple[str, int]]) -> None:
        self._client.delete(self._names.meta, ids=[f"writing:{a}:{v}" for a, v in written])

    def reconcile(self, older_than_s: float) -> int:
        """Finish or undo the writes that stopped half-way (their marker older than ``older_than_s``:
        on a shared Milvus another server may be writing now); how many."""
        with self._lock:
            markers = [json.loads(r["value"]) for r in query_all(
                self._client, self._names.meta, 'key like "writing:%"', ["value"], key="key")]
            markers = [m for m in markers if m["at"] <= time.time() - older_than_s]
            current = self._versions([m["article"] for m in markers])
            for m in markers:
                article_id, version = m["article"], m["version"]
                if m["stage"] == "put" and current.get(article_id) != version:
                    self._drop(article_id, f"version == {version}")  # never flipped: undone
                else:
                    self._finish([(article_id, version)], counted=m["stage"] == "counted")
                self._unmark([(article_id, version)])
            return len(markers)

    def _versions(self, article_ids: list[str]) -> dict[str, int]:
        return {r["id"]: r["version"] for r in self._get(self._names.articles, article_ids, ["version"])}

    def _get(self, collection: str, ids: list, fields: list[str]) -> list[dict]:
        rows = []
        for lo in range(0, len(ids), _BATCH):
            rows += self._client.get(collection, ids=ids[lo:lo + _BATCH], output_fields=fields)
        return rows

    # --- updates of single fields ------------------------------------------------------

    def repoint_copies(self, old: str, new: str) -> None:
        self._update(f"copy_of == {quote(old)} and id != {quote(new)}", copy_of=new)

    def set_file(self, article_id: str, file: FileStamp) -> None:
        self._update(f"id == {quote(article_id)}", origin="corpus", path=file.path, mtime_ns=file.mtime_ns,
                     size=file.size)

    def set_signatures(self, signatures: dict[str, bytes]) -> None:
        for article_id, blob in signatures.items():
            self._update(f"id == {quote(article_id)}", signature=base64.b64encode(blob).decode())

    def _update(self, condition: str, **changes) -> None:
        """Milvus 2.5 upserts whole rows: read them, change the fields, write them back."""
        with self._lock:
            rows = query_all(self._client, self._names.articles, condition, ["*"])
            if rows:
                self._client.upsert(self._names.articles, [{**r, **changes, "placeholder": PLACEHOLDER} for r in rows])

    # --- reads --------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        return self._count(self._names.articles), self.passage_count()

    def passage_count(self) -> int:
        return self._count(self._names.passages)

    def _count(self, collection: str, condition: str = "") -> int:
        return int(self._client.query(collection, filter=condition, output_fields=["count(*)"])[0]["count(*)"])

    def term_counts(self, terms: Iterable[str]) -> dict[str, int]:
        """How many passages hold each term, summed over the writers' rows (terms no passage holds
        left out)."""
        terms = list(dict.fromkeys(terms))
        keys = {_count_key(t, w): t for t in terms for w in self._writer_ids()}
        counts: dict[str, int] = {}
        for row in self._get(self._names.terms, list(keys), ["df"]):
            term = keys[row["term"]]
            counts[term] = counts.get(term, 0) + row["df"]
        return {t: c for t, c in counts.items() if c > 0}

    def _writer_ids(self) -> tuple[str, ...]:
        """Every process that has counted terms, this one and the rows from before writers (``""``)."""
        at, writers = self._writers
        if time.monotonic() - at >= WRITERS_TTL_S:
            named = query_all(self._client, self._names.meta, 'key like "writer:%"', [], key="key")
            writers = tuple(r["key"].removeprefix("writer:") for r in named)
            self._writers = (time.monotonic(), writers)
        return tuple(dict.fromkeys(("", self._writer, *writers)))

    def article(self, article_id: str) -> dict | None:
        rows = self._get(self._names.articles, [article_id], _ARTICLE_FIELDS)
        return self._full(rows[0]) if rows else None

    def _full(self, row: dict) -> dict:
        parts = self._client.query(self._names.texts, filter=f"article_id == {quote(row['id'])} and "
                                                             f"version == {row['version']}",
                                   output_fields=["part", "text"])
        text = "".join(p["text"] for p in sorted(parts, key=lambda p: p["part"]))
        signature = base64.b64decode(row["signature"]) if row["signature"] else None
        return {**_nulls(row), "text": text, "signature": signature}

    def articles(self, offset: int = 0, limit: int = 50, title: str = "", sort: str = "added") -> list[dict]:
        rows = sorted(self._titled(title, _SUMMARY_FIELDS), key=_ORDER[sort])[offset:offset + limit]
        return [{k: v for k, v in _nulls(r).items() if k != "added_ns"} for r in rows]

    def count_articles(self, title: str = "") -> int:
        return len(self._titled(title, []))

    def _titled(self, title: str, fields: list[str]) -> list[dict]:
        condition = f"title_key like {quote('%' + _like_literal(fold(title)) + '%')}" if title else ""
        return query_all(self._client, self._names.articles, condition, fields)

    def facets(self, where: Filter) -> dict[str, list[tuple[str, int]]]:
        facets = {}
        for name, unfiltered, value in (("source", replace(where, sources=()), lambda r: r["source"]),
                                        ("month", replace(where, date_from=None, date_to=None),
                                         lambda r: r["date"][:7] if r["date"] else "")):
            counts: dict[str, int] = {}
            for row in query_all(self._client, self._names.articles, expression(unfiltered, "id"),
                                 ["source", "date"]):
                if value(row):
                    counts[value(row)] = counts.get(value(row), 0) + 1
            facets[name] = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return facets

    def article_hash(self, article_id: str) -> str | None:
        rows = self._get(self._names.articles, [article_id], ["content_hash"])
        return rows[0]["content_hash"] if rows else None

    def article_by_hash(self, content_hash: str) -> str | None:
        return self._first(f"content_hash == {quote(content_hash)}")

    def article_by_url(self, url: str) -> str | None:
        return self._first(f"url == {quote(url)}")

    def _first(self, condition: str) -> str | None:
        rows = query_all(self._client, self._names.articles, condition, ["added_ns"])
        return min(rows, key=lambda r: (r["added_ns"], r["id"]))["id"] if rows else None

    def stored(self, article_id: str) -> Article | None:
        row = self.article(article_id)
        return _article_of(row) if row else None

    def copies_of(self, article_ids: Iterable[str]) -> dict[str, list[dict]]:
        ids, out = list(dict.fromkeys(article_ids)), {}
        rows = []
        for lo in range(0, len(ids), _BATCH):
            rows += query_all(self._client, self._names.articles, one_of("copy_of", ids[lo:lo + _BATCH]),
                              ["copy_of", "title", "source", "date", "added_ns"])
        for r in sorted(rows, key=lambda r: (r["added_ns"], r["id"])):
            r = _nulls(r)
            out.setdefault(r["copy_of"], []).append({k: r[k] for k in ("id", "title", "source", "date")})
        return out

    def signatures(self) -> dict[str, bytes | None]:
        return {r["id"]: base64.b64decode(r["signature"]) if r["signature"] else None
                for r in query_all(self._client, self._names.articles, 'copy_of == ""', ["signature"])}

    def article_ids(self) -> list[str]:
        return [r["id"] for r in query_all(self._client, self._names.articles, "", [])]

    def corpus_files(self) -> dict[str, tuple[str, FileStamp]]:
        rows = query_all(self._client, self._names.articles, 'origin == "corpus"', ["path", "mtime_ns", "size"])
        return {r["path"]: (r["id"], FileStamp(r["path"], r["mtime_ns"], r["size"])) for r in rows}

    def passages(self, ids: list[int]) -> dict[int, StoredPassage]:
        """The passages of ``ids`` that belong to their article's version (one of a write under way,
        or left by one that stopped, is not there yet)."""
        rows = self._get(self._names.passages, [int(i) for i in ids], _PASSAGE_FIELDS)
        articles = {r["id"]: _nulls(r) for r in self._get(
            self._names.articles, list({r["article_id"] for r in rows}),
            ["version", "title", "author", "date", "source", "url", "body_start"])}
        out = {}
        for r in rows:
            a = articles.get(r["article_id"])
            if a is None or a["version"] != r["version"]:
                continue
            start = r["start"]
            sentences = [(s - start, e - start) for s, e in json.loads(r["sentences"])]
            out[r["id"]] = StoredPassage(
                id=r["id"], article_id=r["article_id"], start=start, end=r["end"], text=r["text"],
                sentences=sentences, sentence_vectors=_sentence_vectors(r["sentence_vectors"], len(sentences)),
                article={"id": r["article_id"], **{k: a[k] for k in ("title", "author", "date", "source", "url")}},
                header=start < a["body_start"])
        return out

    def articles_of(self, ids: Iterable[int]) -> dict[int, str]:
        return {r["id"]: r["article_id"] for r in self._get(self._names.passages, [int(i) for i in ids],
                                                              ["article_id"])}

    def vectors(self, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        rows = self._get(self._names.passages, [int(i) for i in ids], ["dense"])
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return (np.asarray([r["id"] for r in rows], np.int64),
                np.asarray([r["dense"] for r in rows], np.float32))

    def export(self) -> Iterator[ArticleRecord]:
        for summary in sorted(query_all(self._client, self._names.articles, "", ["added_ns"]),
                              key=_ORDER["added"]):
            row = self.article(summary["id"])
            if row is None:
                continue
            rows = query_all(self._client, self._names.passages,
                             f"article_id == {quote(row['id'])} and version == {row['version']}",
                             ["ord", "start", "end", "sentences", "sentence_vectors", "dense"])
            passages = []
            for r in sorted(rows, key=lambda r: r["ord"]):
                sentences = tuple(tuple(s) for s in json.loads(r["sentences"]))
                passages.append(PassageRecord(r["start"], r["end"], sentences, np.asarray(r["dense"], np.float32),
                                              _sentence_vectors(r["sentence_vectors"], len(sentences), np.float16)))
            file = FileStamp(row["path"], row["mtime_ns"] or 0, row["size"] or 0) if row["path"] else None
            yield ArticleRecord(_article_of(row), passages, row["origin"], file, row["copy_of"], row["signature"])


# --- rows --------------------------------------------------------------------------


def passage_id(article_id: str, version: int, ord_: int) -> int:
    """A passage's id, made by the writer without asking anyone (63 bits of a hash: no two of
    100 million passages share one but with odds of about 1 in 2 million)."""
    digest = hashlib.blake2b(f"{article_id}\0{version}\0{ord_}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


def _article_row(record: ArticleRecord, version: int, added_at: str, added_ns: int) -> dict:
    a, file = record.article, record.file
    return {"id": a.id, "version": version, "title": a.title, "title_key": fold(a.title), "author": a.author or "",
            "date": a.date or "", "source": a.source or "", "source_key": fold(a.source or ""),
            "author_key": fold(a.author or ""), "day": day(a.date), "body_start": a.body_start,
            "headings": json.dumps(a.headings), "content_hash": a.content_hash, "origin": record.origin,
            "path": file.path if file else "", "mtime_ns": file.mtime_ns if file else 0,
            "size": file.size if file else 0, "added_at": added_at, "added_ns": added_ns, "url": a.url or "",
            "copy_of": record.copy_of or "",
            "signature": base64.b64encode(record.signature).decode() if record.signature else "",
            "passages": len(record.passages), "parts": -(-len(a.text) // TEXT_PART),
            "placeholder": PLACEHOLDER}


def _text_rows(article: Article, version: int) -> list[dict]:
    return [{"id": f"{article.id}:{version}:{n}", "article_id": article.id, "version": version, "part": n,
             "text": article.text[lo:lo + TEXT_PART], "placeholder": PLACEHOLDER}
            for n, lo in enumerate(range(0, len(article.text), TEXT_PART))]


def _passage_rows(record: ArticleRecord, version: int) -> list[dict]:
    a = record.article
    rows = []
    for ord_, p in enumerate(record.passages):
        text = a.text[p.start:p.end]
        rows.append({"id": passage_id(a.id, version, ord_), "article_id": a.id, "version": version, "ord": ord_,
                     "start": p.start, "end": p.end, "header": p.start < a.body_start, "text": text,
                     "sentences": json.dumps(p.sentences),
                     "sentence_vectors": base64.b64encode(np.asarray(p.sentence_vectors, np.float16).tobytes()
                                                          ).decode(),
                     "lexical": " ".join(analysis.tokens(f"{a.title}\n{text}")) or "-",
                     "source_key": fold(a.source or ""), "author_key": fold(a.author or ""), "day": day(a.date),
                     "dense": np.asarray(p.vector, np.float32).tolist()})
    return rows


def _count_key(term: str, writer: str) -> str:
    """The key of ``writer``'s count of ``term`` (analysed terms hold no space)."""
    return f"{term} {writer}" if writer else term


def _insert(client, collection: str, rows: list[dict], upsert: bool = False, batch: int = 500) -> None:
    write = client.upsert if upsert else client.insert
    for lo in range(0, len(rows), batch):
        write(collection, rows[lo:lo + batch])


def _sentence_vectors(encoded: str, n: int, dtype=np.float32) -> np.ndarray:
    return np.frombuffer(base64.b64decode(encoded), np.float16).reshape(n, -1).astype(dtype)


def _nulls(row: dict) -> dict:
    """Milvus keeps no NULL: the empty strings written for missing values are None again."""
    return {k: (None if v == "" and k in ("author", "date", "source", "path", "url", "copy_of") else v)
            for k, v in row.items() if k != "placeholder"}


def _article_of(row: dict) -> Article:
    return Article(row["id"], row["title"], row["text"], row["author"], row["date"], row["source"],
                   row["body_start"], tuple(tuple(span) for span in json.loads(row["headings"])), row["url"])


def _negated(date: str) -> tuple:
    """A key that sorts ``YYYY-MM-DD`` dates newest first."""
    return tuple(-ord(c) for c in date)


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
