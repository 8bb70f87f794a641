"""FakeTelegram: a fake Telegram Bot API server on loopback and a validator for the Bot API spec.

    from devtools.fake_telegram import FakeTelegram, validate_call, validate_object

See ``server.py`` (the server; ``python -m devtools.fake_telegram.server`` from a shell),
``world.py`` (the chats, messages and updates it simulates), ``spec.py`` (validation against
``../shared/telegram/api-10.0.min.json``), ``objects.py`` (the Telegram objects it returns),
``faults.py`` (injected failures) and ``webhook.py`` (delivering updates to a webhook by hand).
``devtools/fixtures.py`` has the pytest fixtures, ``devtools/ptb.py`` builds and runs a
python-telegram-bot Application against the server.
"""

from devtools.fake_telegram.faults import Fault
from devtools.fake_telegram.server import Call, FakeTelegram
from devtools.fake_telegram.spec import UploadedFile, parse_call, validate_call, validate_object

__all__ = [
    "Call",
    "FakeTelegram",
    "Fault",
    "UploadedFile",
    "parse_call",
    "validate_call",
    "validate_object",
]
