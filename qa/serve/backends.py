"""What the CLI's commands run against: the index itself (no server), or the server that holds it.

A running server writes ``server.json`` in its index folder; while it answers, ``run.py add``,
``remove``, ``index``, ``articles``, ``jobs`` and ``ask`` go through its API (no model to load, no
clash over the index's writer), else they open the index directly. Both backends give the same results, so the commands
print the same lines either way.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol
from urllib.parse import quote

from qa.config import Settings
from qa.errors import BadInput, Busy, Conflict, Forbidden, NotFound, QAError, SetupError, TooLarge, Unauthorized, \
    Unsupported

SERVER_FILE = "server.json"
_ERRORS = {400: BadInput, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 413: TooLarge,
           415: Unsupported, 503: Busy}


@dataclass(frozen=True)
class Added:
    """What became of one file given to ``add``: a write result, or the error that refused it."""

    path: Path | str  # a file, or a page's URL
    result: dict | None = None
    error: QAError | None = None


class Backend(Protocol):
    name: str

    def ask(self, question: str, k: int, filters: dict | None = None, group: str | None = None,
            sort: str | None = None) -> dict:
        """``filters`` as :func:`qa.service.inputs.check_filter` takes them."""
        ...

    def add(self, files: list[tuple[Path | str, str | None]]) -> Iterator[Added]:
        """``(path or URL, id)`` pairs, added; each one's outcome as it is known."""
        ...

    def remove(self, article_id: str) -> int: ...

    def articles(self, offset: int, limit: int, title: str, sort: str) -> dict:
        """A page of the article list, as ``GET /api/articles`` gives it."""
        ...

    def article(self, article_id: str) -> dict: ...

    def jobs(self) -> list[dict]:
        """The latest jobs, newest first, as ``GET /api/jobs`` gives them."""
        ...

    def job(self, job_id: str) -> dict: ...

    def add_feed(self, url: str, every_minutes: int) -> dict: ...

    def remove_feed(self, feed_id: str) -> dict: ...

    def feeds(self) -> list[dict]: ...

    def index(self) -> dict: ...

    def close(self) -> None: ...


def record_server(settings: Settings, port: int) -> Path:
    """Say in the index folder where this server listens (removed when it stops)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host
    path = settings.index_dir / SERVER_FILE
    path.write_text(json.dumps({"url": f"http://{host}:{port}", "pid": os.getpid()}))
    return path


def running_server(settings: Settings) -> str | None:
    """The URL of the server holding this index, if one is recorded, alive and answering."""
    path = settings.index_dir / SERVER_FILE
    try:
        recorded = json.loads(path.read_text())
        os.kill(int(recorded["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    import httpx

    try:
        if httpx.get(recorded["url"] + "/api/health", timeout=2).status_code == 200:
            return recorded["url"]
    except httpx.HTTPError:
        pass
    return None


class Local:
    """The index itself, through the service (loads the model)."""

    name = "local"

    def __init__(self, settings: Settings, allow_rebuild: bool = False):
        from qa.service import QAService

        self.service = QAService(settings, allow_rebuild=allow_rebuild)

    def ask(self, question: str, k: int, filters: dict | None = None, group: str | None = None,
            sort: str | None = None) -> dict:
        return self.service.ask(question, k, filters, group, sort)

    def add(self, files: list[tuple[Path, str]]) -> Iterator[Added]:
        from qa.ingest import read_file
        from qa.service import passage_bar

        loaded = []
        for path, article_id in files:
            try:
                loaded.append((path, self.service.from_url(path, article_id) if isinstance(path, str)
                               else read_file(path, article_id)))
            except QAError as exc:
                yield Added(path, error=exc)
            except OSError as exc:
                yield Added(path, error=BadInput("unreadable", f"cannot read the file: {exc.strerror or exc}"))
        results = self.service.add_many([article for _, article in loaded], passage_bar(sys.stderr.isatty()))
        for (path, _), result in zip(loaded, results):
            if result.status == "empty":
                yield Added(path, error=BadInput("no_sentences", "no sentences to index"))
            elif result.status == "conflict":
                yield Added(path, error=Conflict("corpus_article", f"article {result.id!r} is a file in corpus/: "
                                                                   "edit that file, or add this one with another --id"))
            else:
                yield Added(path, result.as_dict())

    def remove(self, article_id: str) -> int:
        return self.service.remove(article_id)

    def articles(self, offset: int, limit: int, title: str, sort: str) -> dict:
        return self.service.articles(offset, limit, title, sort)

    def article(self, article_id: str) -> dict:
        return self.service.article(article_id)

    def jobs(self) -> list[dict]:
        return self.service.jobs.recent()

    def job(self, job_id: str) -> dict:
        return self.service.jobs.status(job_id)

    def add_feed(self, url: str, every_minutes: int) -> dict:
        return self.service.feeds.add(url, every_minutes)  # polled once a server runs

    def remove_feed(self, feed_id: str) -> dict:
        feed = self.service.feeds.get(feed_id)
        self.service.feeds.remove(feed_id)
        return feed

    def feeds(self) -> list[dict]:
        return self.service.feeds.all()

    def index(self) -> dict:
        from qa.service import passage_bar

        return {**self.service.sync(passage_bar(sys.stderr.isatty())).as_dict(), **self.service.stats()}

    def rebuild(self) -> int:
        from qa.service import passage_bar

        return self.service.rebuild(passage_bar(sys.stderr.isatty()))

    def close(self) -> None:
        self.service.close()


class Remote:
    """The running server, through its HTTP API (the token from ``--token`` or ``QA_API_TOKEN``)."""

    name = "server"
    POLL_S = 0.25

    def __init__(self, url: str, token: str | None):
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=url, headers=headers, timeout=600)

    def _call(self, method: str, path: str, **kwargs) -> dict:
        import httpx

        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise SetupError("server_unreachable", f"the server at {self.client.base_url} stopped answering: {exc}")
        body = response.json()
        if response.status_code >= 400:
            error = body.get("error", {})
            raise _ERRORS.get(response.status_code, QAError)(error.get("code", "http_error"),
                                                            error.get("message", f"HTTP {response.status_code}"))
        return body

    def ask(self, question: str, k: int, filters: dict | None = None, group: str | None = None,
            sort: str | None = None) -> dict:
        body = {"question": question, "k": k, "filters": filters or None, "group": group, "sort": sort}
        return self._call("POST", "/api/ask", json={key: value for key, value in body.items() if value is not None})

    def add(self, files: list[tuple[Path, str]]) -> Iterator[Added]:
        jobs: dict[str, Path] = {}
        for path, article_id in files:
            try:
                if isinstance(path, str):  # a page: the server fetches it
                    accepted = self._call("POST", "/api/articles", params={"wait": "false"},
                                          json={"url": path, **({"id": article_id} if article_id else {})})
                else:
                    with open(path, "rb") as handle:
                        accepted = self._call("POST", "/api/articles", params={"wait": "false"},
                                              files={"file": (path.name, handle)}, data={"id": article_id})
                jobs[accepted["job"]] = path
            except QAError as exc:
                yield Added(path, error=exc)
            except OSError as exc:
                yield Added(path, error=BadInput("unreadable", f"cannot read the file: {exc.strerror or exc}"))
        for job_id, job in self._follow(list(jobs)):
            if job["state"] == "done":
                yield Added(jobs[job_id], job["result"])
            else:
                error = job["error"] or {}
                yield Added(jobs[job_id], error=QAError(error.get("code", "job_failed"), error.get("message", "failed")))

    def _follow(self, job_ids: list[str]) -> Iterator[tuple[str, dict]]:
        """Each job once it has finished, with one progress bar (passages) over all of them."""
        from tqdm import tqdm

        bar = tqdm(total=0, unit=" passages", desc="indexing", leave=False, disable=not sys.stderr.isatty())
        seen: dict[str, dict] = {}
        waiting = list(job_ids)
        while waiting:
            for job_id in list(waiting):
                job = seen[job_id] = self._call("GET", f"/api/jobs/{job_id}")
                if job["state"] in ("done", "failed"):
                    waiting.remove(job_id)
                    yield job_id, job
            bar.total = sum(job["total"] for job in seen.values())
            bar.update(sum(job["done"] for job in seen.values()) - bar.n)
            if waiting:
                time.sleep(self.POLL_S)
        bar.close()

    def remove(self, article_id: str) -> int:
        return self._call("DELETE", f"/api/articles/{quote(article_id, safe='')}")["passages"]

    def articles(self, offset: int, limit: int, title: str, sort: str) -> dict:
        return self._call("GET", "/api/articles", params={"offset": offset, "limit": limit, "title": title,
                                                          "sort": sort})

    def article(self, article_id: str) -> dict:
        return self._call("GET", f"/api/articles/{quote(article_id, safe='')}")

    def jobs(self) -> list[dict]:
        return self._call("GET", "/api/jobs")["jobs"]

    def job(self, job_id: str) -> dict:
        return self._call("GET", f"/api/jobs/{quote(job_id, safe='')}")

    def add_feed(self, url: str, every_minutes: int) -> dict:
        return self._call("POST", "/api/feeds", json={"url": url, "every_minutes": every_minutes})

    def remove_feed(self, feed_id: str) -> dict:
        return self._call("DELETE", f"/api/feeds/{feed_id}")

    def feeds(self) -> list[dict]:
        return self._call("GET", "/api/feeds")["feeds"]

    def index(self) -> dict:
        accepted = self._call("POST", "/api/index")
        for _, job in self._follow([accepted["job"]]):
            if job["state"] == "failed":
                error = job["error"] or {}
                raise QAError(error.get("code", "job_failed"), error.get("message", "the re-read failed"))
            return {**job["result"], **self._call("GET", "/api/health")}
        raise QAError("job_failed", "the re-read did not finish")

    def close(self) -> None:
        self.client.close()


def open_backend(settings: Settings) -> Backend:
    """The running server's API when there is one, else the index itself."""
    url = running_server(settings)
    return Remote(url, settings.api_token) if url else Local(settings)
