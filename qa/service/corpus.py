"""The corpus folder: ``corpus/`` mirrored into the index, and the rule that an article that is a
file there changes only with its file.

New and changed files are indexed, deleted files removed; articles added
through the API or CLI, and the files of other named folders, are left alone.
A file's id is its name's slug, unless another article holds that id (then
``slug-2``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.engines.contracts import Engine, FileStamp
from qa.errors import QAError
from qa.ingest import article_files, free_id, read_file, slugify
from qa.ingest.article import Article
from qa.service.writer import Item, Progress, Writer

SEPARATOR = "//"


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
    """The files of one folder, as articles of one engine.

    Several folders can feed one shared engine (replicas or bulk workers on one Milvus) when each
    has a name: a file is then stored as ``name//path`` (``//`` is never in a relative path), and
    each folder adds, changes and removes only its own. The unnamed folder owns the plain paths.
    """

    def __init__(self, root: Path, engine: Engine, name: str = ""):
        self.root = Path(root)
        self.engine = engine
        self.name = name

    def file_of(self, article_id: str) -> str | None:
        """The file an article comes from, named for a message; None when no file owns it. A file
        of another folder is taken to be there: this server cannot look."""
        row = self.engine.store.article(article_id)
        if not row or row["origin"] != "corpus" or not row["path"]:
            return None
        name, rel = _split(row["path"])
        if name != self.name:
            return f"{rel} of the corpus folder {name!r}" if name else f"{rel} of the unnamed corpus folder"
        return f"corpus/{rel}" if (self.root / rel).exists() else None

    def sync(self, writer: Writer, progress: Progress | None = None) -> SyncReport:
        """Make the index mirror the folder."""
        report = SyncReport()
        with writer.lock:
            stored = self.engine.store.corpus_files()
            known = {rel: entry for key, entry in stored.items() if (rel := self._own(key)) is not None}
            on_disk = {str(p.relative_to(self.root)): p for p in article_files(self.root)}
            for rel in sorted(set(known) - set(on_disk)):
                writer.delete(known[rel][0])
                report.removed += 1
            items = []
            taken = self._taken_ids(stored)
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
                key = self._key(rel)
                if not old:
                    article = replace(article, id=self._new_id(article, key, taken))
                taken[article.id] = key
                items.append(Item(article, FileStamp(key, stat.st_mtime_ns, stat.st_size)))
            for item, result in zip(items, writer.write(items, progress)):
                if result.status == "empty":
                    report.errors.append(f"{_split(item.file.path)[1]}: no sentences to index")
                elif result.status == "unchanged":
                    report.unchanged += 1
                elif result.status == "replaced":
                    report.updated += 1
                elif result.status == "duplicate":
                    report.copies += 1
                else:
                    report.added += 1
        return report

    def _key(self, rel: str) -> str:
        """How a file of this folder is stored."""
        return f"{self.name}{SEPARATOR}{rel}" if self.name else rel

    def _own(self, key: str) -> str | None:
        """The path in this folder of a stored file; None for another folder's."""
        name, rel = _split(key)
        return rel if name == self.name else None

    def _taken_ids(self, stored: dict[str, tuple[str, FileStamp]]) -> dict[str, str | None]:
        """Every stored id, with its stored file (None for articles added through the API or CLI)."""
        files = {article_id: key for key, (article_id, _) in stored.items()}
        return {article_id: files.get(article_id) for article_id in self.engine.store.article_ids()}

    def _new_id(self, article: Article, key: str, taken: dict[str, str | None]) -> str:
        """The id for a new file: its slug, unless another article holds it.

        An API article with the very same content is taken over by the file (it was added by
        hand, then dropped into the folder); any other holder keeps its id and the file gets
        ``slug-2``, ``slug-3``, ...
        """
        slug = article.id
        holder = taken.get(slug, key)
        if holder == key or (holder is None and self.engine.store.article_hash(slug) == article.content_hash):
            return slug
        return free_id(slug, taken.__contains__)


def _split(key: str) -> tuple[str, str]:
    """A stored file's folder name ('' for the unnamed folder) and its path in that folder."""
    name, separator, rel = key.partition(SEPARATOR)
    return (name, rel) if separator else ("", key)
