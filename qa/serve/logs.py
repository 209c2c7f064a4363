"""Logs for people and for machines: one line per request and per write, start-up and shutdown in
words; ``QA_LOG_FORMAT=json`` writes one JSON object per line instead, with the same fields."""

from __future__ import annotations

import json
import logging
import sys
import time

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
# Fields a log call may pass in ``extra`` that the JSON lines carry as their own keys.
FIELDS = ("method", "path", "status", "ms", "article", "passages", "outcome", "clients")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr at ``level`` (our loggers; libraries at WARNING), as text or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("qa").setLevel(level)
    logging.getLogger("waitress").setLevel(logging.ERROR)  # its queue warnings are ours to report
