"""Pytest fixtures for the fake Telegram server (a pytest plugin).

``tests/conftest.py`` loads them for every test module with::

    pytest_plugins = ["devtools.fixtures"]

    def test_start_greets(fake_telegram):
        ...

``fake_telegram`` runs the server in a background thread with its own event loop, so a plain
sync test can drive a python-telegram-bot Application with ``asyncio.run(...)`` and talk to the
server from either side. At teardown the test fails if the bot made any call Telegram would
reject (``server.violations``); a test that provokes violations on purpose clears the list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the server (aiohttp, the Bot API spec) loads when a test asks for it
    from devtools.fake_telegram.server import FakeTelegram


def fail_on_violations(server: FakeTelegram) -> None:
    """Fail the current test if the server recorded Bot API violations."""
    if server.violations:
        pytest.fail(
            "the bot made Bot API calls Telegram would reject:\n  "
            + "\n  ".join(server.violations),
            pytrace=False,
        )


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """A started FakeTelegram (any token accepted); fails the test on Bot API violations."""
    from devtools.fake_telegram.server import FakeTelegram

    server = FakeTelegram().run_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()
    fail_on_violations(server)
