"""Keep the bot token out of every log line and every error text the bot stores.

The token is a password: whoever has it can read and send as the bot. python-telegram-bot
puts it in some messages (``InvalidToken``: "The token `123:ABC` was rejected"), and the Bot
API URL holds it too (``https://api.telegram.org/bot123:ABC/getMe``), so any traceback of a
failed call can carry it. This module is the one place that removes it::

    install_log_filter(token)          # moviebot run: every handler of the root logger
    install_excepthook()               # and a traceback nothing caught, printed at exit
    fits.fail_fit(db, fit_id, redact(f"{type(error).__name__}: {error}"))

``redact`` replaces each registered secret (also URL-quoted) with ``<token>``; the log filter
applies it to a record's message, its arguments and its formatted traceback.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from urllib.parse import quote

PLACEHOLDER = "<token>"

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def register_secret(secret: str) -> None:
    """Redact `secret` (and its URL-quoted form) from now on, everywhere `redact` is used."""
    global _secrets
    secret = secret.strip()
    if not secret:
        return
    forms = {secret, quote(secret, safe=""), quote(secret)}
    with _lock:
        # Longest first, so a form that contains another is replaced whole.
        _secrets = tuple(sorted(set(_secrets) | forms, key=len, reverse=True))


def forget_secrets() -> None:
    """Stop redacting (for a process that runs the bot more than once, like the tests)."""
    global _secrets
    with _lock:
        _secrets = ()


def redact(text: str) -> str:
    """`text` with every registered secret replaced by ``<token>``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, PLACEHOLDER)
    return text


class RedactFilter(logging.Filter):
    """A handler filter that redacts the record's message, arguments and traceback text.

    The message is formatted here (``record.getMessage()``) and stored without arguments, so
    neither an argument nor the formatted line can carry the token; the traceback is formatted
    once into ``record.exc_text``, which every ``logging.Formatter`` prints instead of
    formatting ``exc_info`` again.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what there is, redacted
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_filter(secret: str, logger: logging.Logger | None = None) -> None:
    """Register `secret` and put a RedactFilter on every handler of `logger` (the root)."""
    register_secret(secret)
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())


def install_excepthook() -> None:
    """Print an exception nothing caught (the traceback Python writes to stderr) redacted."""

    def excepthook(kind, error, tb) -> None:
        sys.stderr.write(redact("".join(traceback.format_exception(kind, error, tb))))

    sys.excepthook = excepthook
