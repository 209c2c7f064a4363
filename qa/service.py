"""The one service object: ask, add, replace, remove, sync.

The web routes, the CLI, the evaluation and the benchmarks all call this
class, so every path exercises the same code. Data flows one way:
article -> passages -> vectors + BM25 rows (one SQLite transaction) ->
FAISS -> ranked passages -> answer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from qa import articles as articles_mod
from qa.ann import FaissIndex, LockedIndex, training_size
from qa.bm25 import Bm25Index
from qa.articles import Article
from qa.chunking import ChunkingConfig, Passage, chunk
from qa.config import Settings
from qa.embeddings import Embedder, resolve_model
from qa.errors import BadInput, Conflict, NotFound, QAError
from qa.extract import check_text
from qa.search import Hit, RankingConfig, Searcher
from qa.store import CorpusFile, Store

log = logging.getLogger("qa")

MAX_K = 50
AUTO_IVF_MIN_VECTORS = 5_000    # from here IVF is faster at no measured loss (README, Performance)
IVF_MIN_VECTORS = 1_000         # fewer cannot be clustered usefully
_REBUILDING = "rebuilding:"
WRITE_BATCH_PASSAGES = 512
TITLE_TOKENS = 48         # of a title, read before each passage of its article
HEADER_LABEL_TOKENS = 3 * articles_mod.MAX_HEADER_LINES  # "Headline: ", "Byline: ", ... (3 word pieces at most)


@dataclass(frozen=True)
class WriteResult:
    id: str
    status: str  # added | replaced | unchanged | empty (no sentences) | conflict (a corpus/ file's id)
    passages: int

    def as_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "passages": self.passages}


@dataclass(frozen=True)
class _Item:
    """An article on its way into the store."""

    article: Article
    origin: str = "api"
    path: str | None = None
    file: CorpusFile | None = None


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: list[str] | None = None

    def as_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "removed": self.removed,
                "unchanged": self.unchanged, "errors": self.errors or []}


class QAService:
    """Articles in, best passages out."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 ranking: RankingConfig = RankingConfig(), chunking: ChunkingConfig = ChunkingConfig(),
                 embed_title: bool = True, allow_rebuild: bool = False):
        self.settings = settings
        self.embedder = embedder or Embedder(settings.model, settings.backend)
        self.chunking = chunking
        self.embed_title = embed_title
        self.store = Store(settings.db_path)
        self._needs_rebuild = self._check_build(allow_rebuild)
        self.index = LockedIndex(FaissIndex.flat(self.embedder.dim) if self._needs_rebuild else self._open_index())
        self.bm25 = self._open_bm25()
        self.searcher = Searcher(self.store, self.index, self.bm25, self.embedder, ranking)
        self._write_lock = threading.RLock()
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._saver = threading.Thread(target=self._save_loop, name="index-saver", daemon=True)
        self._saver.start()

    @property
    def index_path(self) -> Path:
        return self.settings.index_dir / "vectors.faiss"

    # --- ask ------------------------------------------------------------------------

    def ask(self, question: object, k: object = 5) -> dict:
        """Ranked passages for a question, each with its answering sentence."""
        question = check_question(question, self.settings.max_question_chars)
        k = check_k(k)
        started = time.perf_counter()
        hits = self.search(question, k)
        results = []
        for rank, hit in enumerate(hits, 1):
            p = hit.passage
            a, b = hit.answer
            results.append({
                "rank": rank,
                "score": round(hit.score, 4),
                "text": p.text,
                "answer": p.text[a:b],
                "answer_start": p.start + a,
                "answer_end": p.start + b,
                "start": p.start,
                "end": p.end,
                "article": p.article,
            })
        took_ms = round((time.perf_counter() - started) * 1000, 1)
        return {"question": question, "took_ms": took_ms, "results": results}

    def search(self, question: str, k: int) -> list[Hit]:
        """The ranked passages behind :meth:`ask`, without its limits (evaluation asks for hundreds)."""
        return self.searcher.search(question, k)

    # --- add, replace, remove -----------------------------------------------------------

    def add(self, article: Article) -> WriteResult:
        """Add an article, or replace the one with the same id; identical content is a no-op.

        An article without an id gets a free one made from its title, and is a
        no-op if the same content is already stored under any id.
        """
        with self._write_lock:
            if not article.id:
                same = self.store.article_by_hash(article.content_hash)
                if same is not None:
                    return WriteResult(same, "unchanged", self._passage_count(same))
                article = replace(article, id=articles_mod.free_id(articles_mod.slugify(article.title),
                                                                   lambda c: self.store.article_hash(c) is not None))
            result = self._write([_Item(article)])[0]
            if result.status == "conflict":
                raise Conflict("corpus_article", f"article {article.id!r} is the file corpus/"
                                                 f"{self._corpus_file(article.id)}: edit the file (the index "
                                                 "follows at the next start or `run.py index`), or send this "
                                                 "text under another id")
        if result.status == "empty":
            raise BadInput("no_sentences", f"article {article.id!r} has no sentences to index")
        return result

    def add_many(self, items: Iterable[Article], progress: bool = False) -> list[WriteResult]:
        """Add or replace many articles in large batches. One with no sentences is reported ``empty``,
        one that would change the article of a file in ``corpus/`` ``conflict``; neither is stored."""
        return self._write([_Item(a) for a in items], progress)

    def _corpus_file(self, article_id: str) -> str | None:
        """The ``corpus/`` file an article comes from, if the file is still there."""
        path = self.store.corpus_path(article_id)
        return path if path is not None and (self.settings.corpus_dir / path).exists() else None

    def remove(self, article_id: str, force: bool = False) -> int:
        """Remove an article everywhere; returns how many passages went with it.

        An article whose file is still in ``corpus/`` goes with its file: removed here, it would
        come back at the next sync. ``force`` removes it all the same (the evaluation's own index)."""
        articles_mod.check_id(article_id)
        with self._write_lock:
            path = None if force else self._corpus_file(article_id)
            if path is not None:
                raise Conflict("corpus_article", f"article {article_id!r} is the file corpus/{path}: delete the "
                                                 "file and the index follows at the next start or `run.py index`")
            return self._remove(article_id)

    def _remove(self, article_id: str) -> int:
        """Remove an article, its file or not; the caller holds the write lock."""
        self.bm25.claim_writer()
        with self.store.transaction() as conn:
            removed = self.store.delete_article(conn, article_id)
        if removed is None:
            raise NotFound("article_not_found", f"no article with id {article_id!r}")
        self._mirror(removed)
        return len(removed)

    def sync(self, progress: bool = False) -> SyncReport:
        """Make the index mirror ``corpus/``: new and changed files indexed, deleted files removed."""
        root = self.settings.corpus_dir
        report = SyncReport(errors=[])
        with self._write_lock:
            known = self.store.corpus_files()
            on_disk = {str(p.relative_to(root)): p for p in articles_mod.article_files(root)}
            for rel in sorted(set(known) - set(on_disk)):
                self._remove(known[rel].article_id)
                report.removed += 1
            items = []
            taken = self._taken_ids()
            for rel, path in sorted(on_disk.items()):
                old = known.get(rel)
                try:
                    stat = path.stat()
                    file = CorpusFile("", stat.st_mtime_ns, stat.st_size)
                    if old and (old.mtime_ns, old.size) == (file.mtime_ns, file.size):
                        report.unchanged += 1
                        continue
                    article = articles_mod.read_file(path, old.article_id if old else articles_mod.slugify(path.stem))
                except OSError as exc:
                    report.errors.append(f"{rel}: cannot read: {exc.strerror or exc}")
                    continue
                except QAError as exc:
                    report.errors.append(f"{rel}: {exc.message}")
                    continue
                if not old:
                    article = replace(article, id=self._corpus_id(article, rel, taken))
                taken[article.id] = rel
                items.append(_Item(article, "corpus", rel, CorpusFile(article.id, file.mtime_ns, file.size)))
            for item, result in zip(items, self._write(items, progress)):
                if result.status == "empty":
                    report.errors.append(f"{item.path}: no sentences to index")
                elif result.status == "unchanged":
                    report.unchanged += 1
                elif result.status == "replaced":
                    report.updated += 1
                else:
                    report.added += 1
        return report

    def _write(self, items: list[_Item], progress: bool = False, force: bool = False) -> list[WriteResult]:
        """Chunk, embed and store articles, in batches; each batch is one transaction."""
        results: list[WriteResult] = []
        bar = _progress(sum(len(i.article.text) for i in items), progress)
        with self._write_lock:
            for batch in _batches(items, WRITE_BATCH_PASSAGES * 400):
                results.extend(self._write_batch(batch, force))
                bar.update(sum(len(i.article.text) for i in batch))
        bar.close()
        return results

    def _write_batch(self, items: list[_Item], force: bool) -> list[WriteResult]:
        if self._needs_rebuild and not force:
            raise Conflict("model_mismatch", "the index holds another model's vectors; run the rebuild first")
        pending, results = [], {}
        for n, item in enumerate(items):
            old_hash = self.store.article_hash(item.article.id)
            if old_hash == item.article.content_hash and not force:
                if item.file is not None:
                    with self.store.transaction() as conn:
                        self.store.touch_file(conn, item.article.id, item.path, item.file)
                results[n] = WriteResult(item.article.id, "unchanged", self._passage_count(item.article.id))
                continue
            if old_hash and item.file is None and self._corpus_file(item.article.id) is not None:
                # Other text under the id of a file in corpus/: the next sync would undo it (or keep
                # both), so it is not stored; the caller reports it.
                results[n] = WriteResult(item.article.id, "conflict", 0)
                continue
            passages = self.passages_of(item.article)
            if not passages:  # nothing to store; the caller reports it
                results[n] = WriteResult(item.article.id, "empty", 0)
                continue
            pending.append((n, item, passages, "replaced" if old_hash else "added"))
        if not pending:
            return [results[n] for n in range(len(items))]
        self.bm25.claim_writer()  # before anything is stored: another process may hold it
        texts, spans = [], []
        for _, item, passages, _ in pending:
            for passage in passages:
                text, offsets = self.embedding_input(item.article, passage)
                texts.append(text)
                spans.append(offsets)
        vectors, sentence_vectors = self.embedder.encode_passages(texts, spans)
        added, removed = [], []
        with self.store.transaction() as conn:
            at = 0
            for n, item, passages, status in pending:
                span = slice(at, at + len(passages))
                new_ids, old_ids = self.store.put_article(conn, item.article, passages, vectors[span],
                                                          sentence_vectors[span], item.origin, item.file, item.path)
                added.append((new_ids, vectors[span]))
                removed.extend(old_ids)
                results[n] = WriteResult(item.article.id, status, len(passages))
                at += len(passages)
        self._mirror(removed, added, ((pid, item.article.title, item.article.text[p.start:p.end])
                                      for (_, item, passages, _), (ids, _) in zip(pending, added)
                                      for pid, p in zip(ids, passages)))
        return [results[n] for n in range(len(items))]

    def _mirror(self, removed: list[int], added: list[tuple[list[int], np.ndarray]] = (),
                texts: Iterable[tuple[int, str, str]] = ()) -> None:
        """Bring BM25 and FAISS level with a committed SQLite change (the saver writes FAISS later)."""
        self.bm25.remove(removed)
        self.bm25.add(texts)
        self.bm25.commit()
        self.index.remove(np.asarray(removed, np.int64))
        for ids, vectors in added:
            self.index.add(np.asarray(ids, np.int64), vectors)
        self._dirty.set()

    def passages_of(self, article: Article) -> list[Passage]:
        """How this service cuts an article into passages: each, with what the model reads before
        it (the title, or the header card's labels), fits the model, which would drop the rest."""
        room = self.embedder.max_tokens - 2  # the model adds two special tokens
        config = replace(self.chunking, max_tokens=min(
            self.chunking.max_tokens, room - self.embedder.token_len(self._title_prefix(article))))
        return chunk(article.text, article.body_start, config, self.embedder.token_len,
                     header_max_tokens=min(self.chunking.max_tokens, room - HEADER_LABEL_TOKENS))

    def embedding_input(self, article: Article, passage: Passage) -> tuple[str, list[tuple[int, int]]]:
        """The text the model sees for a passage and its sentences' offsets in that text.

        A body passage is read with the article title first, for context. The header card
        is read as a labelled record ("Headline: ...", "Author: ...", "Date: ..."), so that
        questions about the article itself (who wrote it, its headline) find it.
        """
        if passage.start < article.body_start:
            lines = [articles_mod.field_label(article, article.text[a:b]) + article.text[a:b]
                     for a, b in passage.sentences]
            starts = np.cumsum([0] + [len(line) + 1 for line in lines[:-1]])
            return "\n".join(lines), [(int(at), int(at) + len(line)) for at, line in zip(starts, lines)]
        prefix = self._title_prefix(article)
        shift = len(prefix) - passage.start
        return prefix + article.text[passage.start:passage.end], [(a + shift, b + shift) for a, b in passage.sentences]

    def _title_prefix(self, article: Article) -> str:
        """The title as the model reads it before a passage: at most TITLE_TOKENS word pieces."""
        return f"{self.embedder.truncate(article.title, TITLE_TOKENS)}\n" if self.embed_title else ""

    def _taken_ids(self) -> dict[str, str | None]:
        """Every stored id, with its corpus path (None for articles added through the API or CLI)."""
        paths = {f.article_id: rel for rel, f in self.store.corpus_files().items()}
        return {article_id: paths.get(article_id) for article_id in self.store.article_ids()}

    def _corpus_id(self, article: Article, rel: str, taken: dict[str, str | None]) -> str:
        """The id for a new corpus file: its slug, unless another article holds it.

        An API article with the very same content is taken over by the file (it was
        added by hand, then dropped into the folder); any other holder keeps its id
        and the file gets ``slug-2``, ``slug-3``, ...
        """
        slug = article.id
        holder = taken.get(slug, rel)
        if holder == rel or (holder is None and self.store.article_hash(slug) == article.content_hash):
            return slug
        return articles_mod.free_id(slug, taken.__contains__)

    def _passage_count(self, article_id: str) -> int:
        row = self.store.article(article_id)
        return row["passages"] if row else 0

    # --- reads ----------------------------------------------------------------------

    def article(self, article_id: str) -> dict:
        articles_mod.check_id(article_id)
        row = self.store.article(article_id)
        if row is None:
            raise NotFound("article_not_found", f"no article with id {article_id!r}")
        return {key: row[key] for key in ("id", "title", "author", "date", "source", "origin",
                                          "added_at", "passages", "text")}

    def articles(self, offset: int = 0, limit: int = 20) -> dict:
        total, _ = self.store.counts()
        return {"total": total, "offset": offset, "limit": limit,
                "articles": self.store.articles(offset, limit)}

    def examples(self, n: int = 3) -> list[str]:
        """Example questions about what the corpus talks about most (for the web page)."""
        rows = [self.store.article(r["id"]) for r in self.store.articles(0, 5)]
        topics = articles_mod.topics(" ".join(row["text"] for row in rows if row))
        return [f"What is said about {topic}?" for topic in topics[:n]]

    def stats(self) -> dict:
        n_articles, n_passages = self.store.counts()
        return {"status": "ok", "articles": n_articles, "passages": n_passages,
                "vectors": len(self.index), "lexical": len(self.bm25), "model": self.embedder.spec}

    # --- the vector index file ---------------------------------------------------

    def _build_id(self) -> str:
        """What the stored vectors depend on: the model and how passages are cut and embedded."""
        c = self.chunking
        return (f"{_model_identity(self.embedder.identity)} | window={c.size} stride={c.stride} "
                f"max_chars={c.max_chars} max_tokens={c.max_tokens} title={int(self.embed_title)} header=card fit=title")

    def _check_build(self, allow_rebuild: bool) -> bool:
        """Refuse to mix models or passage settings; True when the stored vectors need a rebuild."""
        built_with = self.store.get_meta("build")
        mine = self._build_id()
        if built_with is None or self.store.counts()[1] == 0:
            self._set_build(mine)
            return False
        if built_with == mine:
            return False
        if allow_rebuild:
            return True
        if built_with.startswith(_REBUILDING):
            detail = f"a rebuild for {built_with[len(_REBUILDING):]!r} was interrupted"
        else:
            detail = f"it was built with {built_with!r}, not {mine!r}"
        raise Conflict("model_mismatch",
                       f"cannot use the index in {self.settings.index_dir}: {detail}. Use the same model "
                       f"(QA_MODEL or --model) and settings, or re-embed everything with "
                       f"`python run.py index --rebuild --model {self.embedder.spec}`")

    def _set_build(self, build: str) -> None:
        with self.store.transaction() as conn:
            self.store.set_meta(conn, "build", build)
            self.store.set_meta(conn, "dim", str(self.embedder.dim))

    def _open_index(self) -> FaissIndex:
        """Load the saved FAISS file and bring it level with SQLite, re-embedding nothing."""
        index = None
        if self.index_path.exists():
            try:
                index = FaissIndex.load(self.index_path)
            except ValueError as exc:
                log.warning("%s; rebuilding it from the vectors in SQLite", exc)
            if index is not None and index.dim != self.embedder.dim:
                log.warning("FAISS index has dimension %d, the model %d; rebuilding", index.dim, self.embedder.dim)
                index = None
        in_store = self.store.passage_ids()
        kind = self._index_kind(len(in_store))
        if index is None or index.kind != kind or index.outgrown(len(in_store)):
            index = self._new_index(kind, in_store)
        stale, missing = _drift(index.ids(), in_store)
        index.remove(stale)
        for lo in range(0, len(missing), 20000):
            found, vectors = self.store.vectors(missing[lo:lo + 20000])
            index.add(found, vectors)
        if len(stale) or len(missing):
            log.info("%s vector index brought up to date: %d added, %d removed", kind, len(missing), len(stale))
            index.save(self.index_path)
        return index

    def _open_bm25(self) -> Bm25Index:
        """Open the BM25 index and bring it level with SQLite (rebuilt from the stored text if unreadable)."""
        path = self.settings.index_dir / "lexical"
        try:
            index = Bm25Index(path)
            in_index = index.ids()
        except ValueError as exc:
            log.warning("%s; rebuilding it from the text in SQLite", exc)
            index, in_index = Bm25Index.recreate(path), np.zeros(0, np.int64)
        stale, missing = _drift(in_index, self.store.passage_ids())
        if len(stale) or len(missing):
            index.remove(stale.tolist())
            index.add(self.store.passage_texts(missing))
            index.commit()
            log.info("BM25 index brought up to date: %d added, %d removed", len(missing), len(stale))
        return index

    def _index_kind(self, vectors: int) -> str:
        """``flat`` or ``ivf``: as configured, or by size for ``auto`` (IVF needs enough vectors to cluster)."""
        ann = self.settings.ann
        if ann == "auto":
            ann = "ivf" if vectors >= AUTO_IVF_MIN_VECTORS else "flat"
        return "ivf" if ann == "ivf" and vectors >= IVF_MIN_VECTORS else "flat"

    def _new_index(self, kind: str, ids: np.ndarray) -> FaissIndex:
        if kind == "flat":
            return FaissIndex.flat(self.embedder.dim)
        sample = np.random.default_rng(0).choice(ids, size=training_size(len(ids)), replace=False)
        _, training = self.store.vectors(np.sort(sample))
        log.info("clustering %d vectors for the IVF index", len(training))
        return FaissIndex.ivf(training, total=len(ids))

    def rebuild(self, progress: bool = False) -> int:
        """Re-embed every stored article with this service's model and settings (after a change).

        Articles are replaced batch by batch, each batch atomically; until the
        last one is done the index is marked as being rebuilt, so an
        interrupted rebuild is reported at the next start instead of silently
        mixing two models' vectors.
        """
        with self._write_lock:
            mine = self._build_id()
            self._set_build(_REBUILDING + mine)
            rows = [self.store.article(row["id"]) for row in self.store.articles(0, 1 << 62)]
            items = [_Item(Article(r["id"], r["title"], r["text"], r["author"], r["date"], r["source"],
                                   r["body_start"]), r["origin"], r["path"],
                           CorpusFile(r["id"], r["mtime_ns"] or 0, r["size"] or 0) if r["path"] else None)
                     for r in rows]
            self.index.remove(self.index.ids())
            self._write(items, progress, force=True)
            self._set_build(mine)
            self._needs_rebuild = False
            return len(items)

    def save_index(self) -> None:
        self._dirty.clear()  # before saving: a write during the save marks it dirty again
        try:
            self.index.save(self.index_path)
        except BaseException:
            self._dirty.set()
            raise

    def _save_loop(self) -> None:
        """Save the FAISS file a moment after writes stop, off the request path."""
        while not self._closed.is_set():
            if self._dirty.wait(timeout=0.5) and not self._closed.wait(timeout=1.0):
                try:
                    self.save_index()
                except OSError as exc:
                    log.error("could not save the vector index: %s", exc)

    def close(self) -> None:
        """Save what is unsaved and stop the saver thread."""
        self._closed.set()
        self._saver.join()  # lets a save in progress finish
        if self._dirty.is_set():
            self.save_index()
        self.bm25.close()
        self.store.close()


def _drift(held: np.ndarray, in_store: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Passage ids a derived index (FAISS, BM25) holds that SQLite no longer has, and those it lacks."""
    return np.setdiff1d(held, in_store), np.setdiff1d(in_store, held)


def check_question(question: object, max_chars: int) -> str:
    """The question, stripped; a clear error when it is missing, not text, or too long."""
    if not isinstance(question, str) or not question.strip():
        raise BadInput("missing_question", "a non-empty question is required")
    question = check_text(question.strip(), "question")
    if len(question) > max_chars:
        raise BadInput("question_too_long", f"question is {len(question)} characters; the limit is {max_chars}")
    return question


def check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, str)):
        raise BadInput("invalid_k", f"k must be a whole number from 1 to {MAX_K}")
    try:
        value = int(k)
    except ValueError:
        raise BadInput("invalid_k", f"k must be a whole number from 1 to {MAX_K}") from None
    if not 1 <= value <= MAX_K:
        raise BadInput("invalid_k", f"k must be from 1 to {MAX_K}, got {value}")
    return value


def _model_identity(spec: str) -> str:
    from qa.config import DEFAULT_MODEL

    return DEFAULT_MODEL if resolve_model(spec) == resolve_model(DEFAULT_MODEL) else spec


def _batches(items: list[_Item], max_chars: int) -> Iterator[list[_Item]]:
    """Consecutive batches of about ``max_chars``; an id seen twice starts a new batch, so the
    second write of an article replaces the first instead of racing it inside one transaction."""
    batch: list[_Item] = []
    size, ids = 0, set()
    for item in items:
        if item.article.id in ids:
            yield batch
            batch, size, ids = [], 0, set()
        batch.append(item)
        ids.add(item.article.id)
        size += len(item.article.text)
        if size >= max_chars:
            yield batch
            batch, size, ids = [], 0, set()
    if batch:
        yield batch


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="char", unit_scale=True, disable=not (enabled and total), desc="indexing")
