"""Development tools shared by the tests (``tests/``) and the benchmarks (``bench/``).

Installed with the project (``pip install -e .[test]``), so ``import devtools`` works from any
directory; nothing in the bot imports it.

- ``fake_telegram/``: FakeTelegram, a Bot API server on loopback that validates every call
  against ``../shared/telegram/api-10.0.min.json`` (``python -m devtools.fake_telegram.server``).
- ``ptb.py``: a python-telegram-bot Application against FakeTelegram.
- ``fixtures.py``: the pytest fixtures (``fake_telegram``), loaded by ``tests/conftest.py``.
"""
