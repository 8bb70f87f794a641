"""Test harness: a fake Telegram Bot API server on loopback and a validator for the Bot API spec.

    from tests.harness import FakeTelegram, validate_call, validate_object

See ``server.py`` (the server), ``spec.py`` (validation), ``fixtures.py`` (pytest fixtures)
and ``ptb.py`` (building and running a python-telegram-bot Application against the server).
"""

from tests.harness.faults import Fault
from tests.harness.server import Call, FakeTelegram
from tests.harness.spec import UploadedFile, parse_call, validate_call, validate_object

__all__ = [
    "Call",
    "FakeTelegram",
    "Fault",
    "UploadedFile",
    "parse_call",
    "validate_call",
    "validate_object",
]
