"""The corpus folder: ``corpus/`` mirrored into the index, and the rule that an article that is a
file there changes only with its file.

New and changed files are indexed, deleted files removed; articles added
through the API or CLI are left alone. A file's id is its name's slug, unless
another article holds that id (then ``slug-2``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.engines.contracts import Engine, FileStamp
from qa.errors import QAError
from qa.ingest import article_files, free_id, read_file, slugify
from qa.ingest.article import Article
from qa.service.writer import Item, Progress, Writer


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    copies: int = 0  # new files stored as republished copies of another article
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "removed": self.removed,
                "unchanged": self.unchanged, "copies": self.copies, "errors": self.errors}


class CorpusFolder:
    """The files of one folder, as articles of one engine."""

    def __init__(self, root: Path, engine: Engine):
        self.root = Path(root)
        self.engine = engine

    def file_of(self, article_id: str) -> str | None:
        """The ``corpus/`` file an article comes from, if the file is still there."""
        row = self.engine.store.article(article_id)
        path = row["path"] if row and row["origin"] == "corpus" else None
        return path if path is not None and (self.root / path).exists() else None

    def sync(self, writer: Writer, progress: Progress | None = None) -> SyncReport:
        """Make the index mirror the folder."""
        store = self.engine.store
        report = SyncReport()
        with writer.lock:
            known = store.corpus_files()
            on_disk = {str(p.relative_to(self.root)): p for p in article_files(self.root)}
            for rel in sorted(set(known) - set(on_disk)):
                writer.delete(known[rel][0])
                report.removed += 1
            items = []
            taken = self._taken_ids(known)
            for rel, path in sorted(on_disk.items()):
                old = known.get(rel)
                try:
                    stat = path.stat()
                    if old and (old[1].mtime_ns, old[1].size) == (stat.st_mtime_ns, stat.st_size):
                        report.unchanged += 1
                        continue
                    article = read_file(path, old[0] if old else slugify(path.stem))
                except OSError as exc:
                    report.errors.append(f"{rel}: cannot read: {exc.strerror or exc}")
                    continue
                except QAError as exc:
                    report.errors.append(f"{rel}: {exc.message}")
                    continue
                if not old:
                    article = replace(article, id=self._new_id(article, rel, taken))
                taken[article.id] = rel
                items.append(Item(article, FileStamp(rel, stat.st_mtime_ns, stat.st_size)))
            for item, result in zip(items, writer.write(items, progress)):
                if result.status == "empty":
                    report.errors.append(f"{item.file.path}: no sentences to index")
                elif result.status == "unchanged":
                    report.unchanged += 1
                elif result.status == "replaced":
                    report.updated += 1
                elif result.status == "duplicate":
                    report.copies += 1
                else:
                    report.added += 1
        return report

    def _taken_ids(self, known: dict[str, tuple[str, FileStamp]]) -> dict[str, str | None]:
        """Every stored id, with its corpus path (None for articles added through the API or CLI)."""
        paths = {article_id: rel for rel, (article_id, _) in known.items()}
        return {article_id: paths.get(article_id) for article_id in self.engine.store.article_ids()}

    def _new_id(self, article: Article, rel: str, taken: dict[str, str | None]) -> str:
        """The id for a new file: its slug, unless another article holds it.

        An API article with the very same content is taken over by the file (it was added by
        hand, then dropped into the folder); any other holder keeps its id and the file gets
        ``slug-2``, ``slug-3``, ...
        """
        slug = article.id
        holder = taken.get(slug, rel)
        if holder == rel or (holder is None and self.engine.store.article_hash(slug) == article.content_hash):
            return slug
        return free_id(slug, taken.__contains__)
