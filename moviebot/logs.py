"""Logging for `moviebot run`: ``LEVEL logger: message`` lines, or one JSON object per line.

No timestamps in the text form: journald and docker add their own. The JSON form is for log
shippers (Loki, Elasticsearch, CloudWatch ...) and carries its own time::

    {"time": "2026-12-01T23:59:06.123Z", "level": "INFO", "logger": "bot.telegram.app",
     "message": "refitted model swapped in (100836 ratings)"}

plus "traceback" when the record has one. The token redaction (bot/telegram/redact.py) is a filter
on the handler, so it has run on the message and the traceback before either formatter sees them.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message[, traceback]."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """Log INFO and above from every logger to stderr in `log_format` ("text" or "json")."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    # basicConfig: a no-op when the process logs somewhere already (pytest's capture).
    logging.basicConfig(level=logging.INFO, handlers=[handler])
