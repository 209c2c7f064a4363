"""Serving: waitress over the app, with start-up and shutdown told in words, and a clean stop on
SIGTERM or Ctrl-C: no new requests, those under way finished (for a moment), the index saved."""

from __future__ import annotations

import logging
import signal
import time

from qa.service import QAService

log = logging.getLogger("qa.server")
STOP_GRACE_S = 1.5  # how long requests under way may take to finish once asked to stop


class _Stop(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM, to leave waitress's loop. A KeyboardInterrupt because
    waitress's loop swallows ordinary exceptions raised while it handles a connection's event (a SIGTERM
    right after a reply was lost that way) and re-raises only these."""


def serve(service: QAService) -> None:
    """Serve ``service`` until SIGTERM or Ctrl-C; the caller closes the service."""
    from waitress import create_server

    from qa.serve.backends import record_server
    from qa.serve.web import create_app

    settings = service.settings
    server = create_server(create_app(service), host=settings.host, port=settings.port,
                           threads=settings.threads, ident="qa")
    stats = service.stats()
    log.info("serving %d article%s (%d passages) on http://%s:%s with %s (%s engine, %s vector index); "
             "API docs at /api/docs", stats["articles"], "" if stats["articles"] == 1 else "s", stats["passages"],
             settings.host, server.effective_port, stats["model"], stats["engine"], stats["vector_index"])

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not break the stop under way
        raise _Stop

    previous = signal.signal(signal.SIGTERM, stop)
    recorded = record_server(settings, server.effective_port)  # the CLI goes through this server now
    try:
        server.run()
    except (_Stop, KeyboardInterrupt):
        started = time.perf_counter()
        log.info("stopping: no new requests; finishing those under way")
        # Out of waitress's loop nothing new is read; requests under way finish (and wake the loop's
        # trigger, so the server is closed after them, not before).
        finished = server.task_dispatcher.shutdown(cancel_pending=True, timeout=STOP_GRACE_S)
        server.close()
        if not finished:
            log.warning("stopping without waiting longer for requests under way (unfinished writes are rolled back)")
        log.info("stopped taking requests in %.1f s", time.perf_counter() - started)
    finally:
        recorded.unlink(missing_ok=True)
        signal.signal(signal.SIGTERM, previous)
