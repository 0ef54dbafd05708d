"""The server's log lines: human text by default, or with ``WANGGE_LOG_FORMAT=json`` one JSON
object per line (time, level, logger, message; an access line adds method, path, status,
duration_ms and client) for a log collector.

A JSON line never carries a bearer token or a whole phone number: every message, path and
traceback passes through the token redaction (log_redaction.py) and the phone masking
(phones.py) on its way out, whatever logger wrote it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from backend.core.log_redaction import redact
from backend.core.phones import masked_text

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "client")


def clean(text: str) -> str:
    return masked_text(redact(text))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": clean(record.getMessage()),
        }
        for name in ACCESS_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = clean(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's ``log_config`` for JSON lines from its first line on: its loggers hand their
    records to the root's one handler. Its own access log is off (``wangge.access`` writes
    one with the duration)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["json"], "level": "INFO"},
        "loggers": {"uvicorn": {"level": "INFO"}, "uvicorn.error": {"level": "INFO"}},
    }


def configure_logging(log_format: str) -> None:
    """The root logger's handler for ``log_format``, unless it has one of that kind already
    (``wangge serve`` sets it up before the app is made)."""
    root = logging.getLogger()
    if log_format == "json":
        if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(JsonFormatter())
            root.handlers = [handler]
        root.setLevel(logging.INFO)
    else:
        logging.basicConfig(level=logging.INFO, format=TEXT_FORMAT)
