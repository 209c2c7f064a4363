"""Background writes: an accepted article (or a re-read of the corpus folder) becomes a job that one
thread of the server works through in order, so that writes never hold the threads that answer
questions, and a client need not keep a request open for minutes.

A job is stored before it is acknowledged and taken up again after a crash or a stop; each article
is still all or nothing (the write path is the same). Progress counts passages embedded.

A client may instead wait for its write (:meth:`Jobs.add_and_wait`), but only so many at once: each
waits in one of the server's request threads, and writes queued behind a long one must never hold
them all, or questions and health checks would wait too. Past the cap a write is refused at once,
before anything is stored (503 ``busy``, pointing to ``?wait=false``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict

from qa import errors
from qa.engines.contracts import JobQueue
from qa.ingest import Article

log = logging.getLogger("qa.jobs")


class Interrupted(Exception):
    """The server is stopping: the job is left to be taken up again at the next start."""


class _JobProgress:
    """Counts a running job's passages, and stops it between batches when the server stops."""

    def __init__(self, stopping: threading.Event):
        self.done = self.total = 0
        self.stopping = stopping

    def planned(self, passages: int) -> None:
        self.total += passages

    def embedded(self, passages: int) -> None:
        self.done += passages
        if self.stopping.is_set():
            raise Interrupted


class Jobs:
    """The job queue of one service, and the thread that runs it (started by the server only)."""

    def __init__(self, service, store: JobQueue, max_waiting: int):
        """``max_waiting``: how many callers of :meth:`add_and_wait` may wait at once."""
        self.service = service
        self.store = store
        self._waiting = threading.BoundedSemaphore(max_waiting)
        self.max_waiting = max_waiting
        self._running: dict[str, _JobProgress] = {}
        self._finished = threading.Condition()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # --- submitting and reading -------------------------------------------------------------

    def add(self, article: Article, resume: bool = True) -> str:
        """Queue an article (already read and checked); the job id, once the text is stored.
        ``resume=False`` when the caller waits for it: a crash then ends the job instead of finishing it
        unseen after the restart (the caller saw the connection drop, nothing of the article was kept)."""
        job_id = self.store.submit("add", {"article": asdict(self.service.accept(article))}, resume)
        self._wake.set()
        return job_id

    def add_and_wait(self, article: Article) -> dict:
        """Queue an article and wait for its job to finish (see :meth:`wait`); ``busy`` at once, with
        nothing stored, when ``max_waiting`` callers are waiting already."""
        if not self._waiting.acquire(blocking=False):
            raise errors.Busy("busy", f"{self.max_waiting} writes are already waiting for their turn; send this "
                                      "one with ?wait=false to queue it and follow its job, or try again shortly")
        try:
            return self.wait(self.add(article, resume=False))
        finally:
            self._waiting.release()

    def sync(self) -> str:
        """Queue a re-read of the corpus folder."""
        job_id = self.store.submit("sync", {})
        self._wake.set()
        return job_id

    def status(self, job_id: str) -> dict:
        job = self.store.get(job_id)
        if job is None:
            raise errors.NotFound("job_not_found", f"no job with id {job_id!r}")
        running = self._running.get(job_id)
        if running is not None:
            job["done"], job["total"] = running.done, running.total
        return {key: job[key] for key in ("id", "kind", "state", "done", "total", "result", "error", "created_at",
                                          "finished_at")}

    def wait(self, job_id: str) -> dict:
        """The job's result once it has finished; its error, raised as the error it was."""
        def ended() -> bool:
            return (self.status(job_id)["state"] in ("done", "failed")
                    or (self._stopping.is_set() and job_id not in self._running))

        with self._finished:
            self._finished.wait_for(ended)
        job = self.status(job_id)
        if job["state"] not in ("done", "failed"):
            raise errors.Busy("stopping", "the server is stopping and did not finish this write; send it again "
                                          "once it is back")
        if job["state"] == "failed":
            error = job["error"]
            raise getattr(errors, error["kind"], errors.QAError)(error["code"], error["message"])
        return job

    def recent(self, limit: int = 20) -> list[dict]:
        return self.store.recent(limit)

    # --- running --------------------------------------------------------------------------

    def start(self) -> None:
        """Run jobs from now on, beginning with those a crash or a stop left unfinished."""
        if self._thread is None:
            abandoned = self.store.abandon_waited({
                "code": "interrupted", "kind": "QAError",
                "message": "the server stopped before this write finished; nothing of it was kept, send it again"})
            if abandoned:
                log.info("%d write(s) a client was waiting for ended with the last stop; they were not kept", abandoned)
            self._thread = threading.Thread(target=self._run, name="jobs", daemon=True)
            self._thread.start()
            self._wake.set()

    def stop(self, timeout: float = 1.5) -> None:
        """Stop between batches; a job under way is left to be taken up again at the next start."""
        self._stopping.set()
        self._wake.set()
        with self._finished:
            self._finished.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            for job in self.store.unfinished():
                if self._stopping.is_set():
                    return
                self._execute(job)

    def _execute(self, job: dict) -> None:
        progress = _JobProgress(self._stopping)
        self._running[job["id"]] = progress
        self.store.start(job["id"])
        try:
            if job["kind"] == "add":
                result = self.service.add(Article.from_dict(job["payload"]["article"]), progress).as_dict()
            else:
                result = self.service.sync(progress).as_dict()
        except Interrupted:
            log.info("job %s interrupted by the stop; it resumes at the next start", job["id"])
            return
        except errors.QAError as exc:
            self.store.fail(job["id"], progress.done, progress.total,
                            {"code": exc.code, "message": exc.message, "kind": type(exc).__name__})
        except Exception as exc:  # the disk, or a bug: the job fails, the server goes on
            known = errors.storage_error(exc)
            if known is None:
                log.exception("job %s failed", job["id"])
                known = errors.QAError("internal_error", "the server hit an unexpected error; it has been logged")
            else:
                log.error("job %s failed: %s", job["id"], exc)
            self.store.fail(job["id"], progress.done, progress.total,
                            {"code": known.code, "message": known.message, "kind": type(known).__name__})
        else:
            self.store.finish(job["id"], progress.done, progress.total, result)
        finally:
            self._running.pop(job["id"], None)
            with self._finished:
                self._finished.notify_all()

    def close(self) -> None:
        self.stop()
        self.store.close()
