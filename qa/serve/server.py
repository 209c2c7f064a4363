"""Serving: waitress over the app, with start-up and shutdown told in words, and a clean stop on
SIGTERM or Ctrl-C: no new connections; the background write under way stops between batches (it
resumes at the next start) and a client waiting for it is answered 503 ``stopping``; requests under
way finish and their answers are sent; then the loop ends and the index is saved.

The stop runs in a thread of its own while waitress's loop goes on in the main thread, because only
that loop sends answers: leaving it first (waitress's own Ctrl-C handling) dropped the answers of
requests under way, and the process could abort with the write thread still in the model."""

from __future__ import annotations

import logging
import signal
import threading
import time

from qa.config import Settings
from qa.service import QAService

log = logging.getLogger("qa.server")
STOP_GRACE_S = 1.5  # how long requests under way may take to finish once asked to stop
JOB_STOP_S = 30.0  # how long the write under way may take to reach the end of its batch
# Connections: waitress stops accepting past its limit (100 by default), so a client holding idle or
# half-sent connections shut everyone else out. An idle connection costs only a socket here, so the
# limit is high, and one that sends nothing for CHANNEL_TIMEOUT_S is closed (checked every
# CLEANUP_S). Waitress has no per-client cap; this bounds how long any client can hold a slot.
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT_S = 30
CLEANUP_S = 5


def warn_if_exposed(settings: Settings) -> None:
    """Say at start-up that a server other machines can reach, with no token, refuses every write."""
    from qa.serve.guard import is_loopback

    if not is_loopback(settings.host) and not settings.api_token:
        log.warning("listening on %s, reachable from other machines, with no API token: every write is refused "
                    "until QA_API_TOKEN (or --token) is set", settings.host)


def serve(service: QAService) -> None:
    """Serve ``service`` until SIGTERM or Ctrl-C; the caller closes the service."""
    from waitress import create_server

    from qa.serve.backends import record_server
    from qa.serve.web import create_app

    settings = service.settings
    channels: dict = {}  # waitress's socket map: the loop runs while it holds a channel
    server = create_server(create_app(service), map=channels, host=settings.host, port=settings.port,
                           threads=settings.threads, ident="qa", connection_limit=CONNECTION_LIMIT,
                           channel_timeout=CHANNEL_TIMEOUT_S, cleanup_interval=CLEANUP_S)
    stats = service.stats()
    log.info("serving %d article%s (%d passages) on http://%s:%s with %s (%s engine, %s vector index); "
             "API docs at /api/docs", stats["articles"], "" if stats["articles"] == 1 else "s", stats["passages"],
             settings.host, server.effective_port, stats["model"], stats["engine"], stats["vector_index"])
    warn_if_exposed(settings)
    stopping = threading.Event()

    def stop(signum, frame):
        if not stopping.is_set():  # a second signal must not start a second stop
            stopping.set()
            threading.Thread(target=_stop, args=(server, channels, service), name="stopper", daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    recorded = record_server(settings, server.effective_port)  # the CLI goes through this server now
    try:
        server.run()
    finally:
        recorded.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(server, channels: dict, service: QAService) -> None:
    """Stop serving while waitress's loop still sends answers; the loop ends once every channel is closed."""
    started = time.perf_counter()
    log.info("stopping: no new requests; finishing those under way")
    from waitress import wasyncore

    # The listening socket only (the server's own close would also close the loop's trigger).
    server.trigger.pull_trigger(lambda: wasyncore.dispatcher.close(server))
    service.jobs.stop(JOB_STOP_S)  # between batches; whoever waits for it is answered
    finished = server.task_dispatcher.shutdown(cancel_pending=True, timeout=STOP_GRACE_S)
    if not finished:
        log.warning("stopping without waiting longer for requests under way (unfinished writes are rolled back)")
    deadline = time.perf_counter() + STOP_GRACE_S
    while time.perf_counter() < deadline and any(getattr(c, "total_outbufs_len", 0) for c in list(channels.values())):
        time.sleep(0.02)  # the loop is still sending answers
    server.trigger.pull_trigger(lambda: [channel.close() for channel in list(channels.values())])
    log.info("stopped taking requests in %.1f s", time.perf_counter() - started)
