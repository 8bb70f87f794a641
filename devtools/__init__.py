"""Development tools shared by the tests (``tests/``) and the benchmarks (``bench/``).

Installed with the project (``pip install -e .[test]``), so ``import devtools`` works from any
directory; nothing in the bot imports it.

- ``fake_telegram/``: FakeTelegram, a Bot API server on loopback that validates every call
  against ``../shared/telegram/api-10.0.min.json`` (``python -m devtools.fake_telegram.server``).
- ``fixtures.py``: the pytest fixtures (``fake_telegram``), loaded by ``tests/conftest.py``.
- ``ptb.py``: a bare python-telegram-bot Application against FakeTelegram; the test token.
- ``app.py``: moviebot's own Application against FakeTelegram in the test's process.
- ``bot_process.py``: the real ``moviebot run`` process against FakeTelegram.
- ``catalog.py``: movies of the bundled catalog to send (popular titles search finds at once).
- ``heldout.py``: a model's RMSE on held-out ratings, each user folded in.
- ``tutorial.py``: the classic 10-movie, 5-user tutorial example as data and MovieLens files.
- ``paths.py``: the repository, ``deploy/`` and the MovieLens data in ``../shared``.
- ``systemd.py``: reading the shipped systemd units as systemd does.
"""

# How long a test waits for something another thread or process does (a reply, a start, an
# exit): generous, since a loaded machine (CI, parallel workers) can be many times slower than a
# quiet one; a wait returns as soon as its condition holds, so the cap costs nothing then.
PATIENCE = 120.0
