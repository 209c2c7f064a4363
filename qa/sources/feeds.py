"""Following RSS and Atom feeds: the server polls each feed when it is due (with its ETag and
Last-Modified, so an unchanged feed costs a 304), fetches each new item by its link, and queues it
as a job like any other add. A republished item is recognised as a copy by the write path."""

from __future__ import annotations

import logging
import threading

from qa import errors
from qa.engines.contracts import FeedList
from qa.sources.fetch import FEED_TYPES, check_url

log = logging.getLogger("qa.feeds")
MIN_MINUTES, MAX_MINUTES = 1, 7 * 24 * 60


class Feeds:
    """One service's feeds, and the thread that polls them (started by the server only)."""

    def __init__(self, service, store: FeedList):
        self.service = service
        self.store = store
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._poll_lock = threading.Lock()  # one poll at a time, whoever asks for it
        self._thread: threading.Thread | None = None

    def add(self, url: object, every_minutes: object = 30) -> dict:
        if isinstance(every_minutes, bool) or not isinstance(every_minutes, int) \
                or not MIN_MINUTES <= every_minutes <= MAX_MINUTES:
            raise errors.BadInput("invalid_field", f"'every_minutes' must be a whole number from {MIN_MINUTES} "
                                                   f"to {MAX_MINUTES}")
        feed = self.store.add(check_url(url), every_minutes)
        self._wake.set()  # polled at once
        return _public(feed)

    def get(self, feed_id: str) -> dict:
        feed = self.store.get(feed_id)
        if feed is None:
            raise errors.NotFound("feed_not_found", f"no feed with id {feed_id!r}")
        return _public(feed)

    def all(self) -> list[dict]:
        return [_public(feed) for feed in self.store.all()]

    def remove(self, feed_id: str) -> None:
        if not self.store.remove(feed_id):
            raise errors.NotFound("feed_not_found", f"no feed with id {feed_id!r}")

    def poll(self, feed_id: str) -> dict:
        """Poll one feed now; the feed as it stands after."""
        feed = self.store.get(feed_id)
        if feed is None:
            raise errors.NotFound("feed_not_found", f"no feed with id {feed_id!r}")
        self._poll(feed)
        return self.get(feed_id)

    def _poll(self, feed: dict) -> None:
        import feedparser

        with self._poll_lock:
            items, added, problems = [], 0, []
            try:
                fetched = self.service.fetcher.fetch(feed["url"], FEED_TYPES, feed["etag"], feed["last_modified"])
                if fetched.not_modified:
                    self.store.polled(feed["id"], feed["etag"], feed["last_modified"], [], 0, None)
                    return
                parsed = feedparser.parse(fetched.body)
                if not parsed.entries and parsed.bozo:
                    raise errors.BadInput("not_a_feed", f"{feed['url']} is not an RSS or Atom feed")
                for entry in parsed.entries:
                    link = entry.get("link")
                    item = entry.get("id") or link
                    if not link or self.store.seen(feed["id"], item):
                        continue
                    items.append(item)
                    try:
                        self.service.jobs.add(self.service.from_url(link))
                        added += 1
                    except errors.QAError as exc:
                        problems.append(f"{link}: {exc.message}")
                error = "; ".join(problems[-3:]) or None
                self.store.polled(feed["id"], fetched.etag, fetched.last_modified, items, added, error)
                log.info("feed %s: %d new item(s) queued%s", feed["url"], added, f"; {error}" if error else "")
            except errors.QAError as exc:
                self.store.polled(feed["id"], feed["etag"], feed["last_modified"], items, added, exc.message)
                log.warning("feed %s: %s", feed["url"], exc.message)

    # --- the poller ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="feeds", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            for feed in self.store.due():
                if self._stopping.is_set():
                    return
                try:
                    self._poll(feed)
                except Exception:  # a bug: logged, the poller goes on
                    log.exception("feed %s: the poll failed", feed["url"])
            self._wake.wait(self.service.settings.fetch.feed_check_s)
            self._wake.clear()

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(2)
        self.store.close()


def _public(feed: dict) -> dict:
    return {key: feed[key] for key in ("id", "url", "every_minutes", "last_poll", "items_added", "last_error",
                                       "created_at")}
