"""The bot token appears in no log line, no stderr line and no database row.

A real `moviebot run` (a subprocess, as deployed) with a fake token, against a closed loopback
port and against the fake Bot API answering 401; a real fit failure whose error holds the token.
"""

from __future__ import annotations

import io
import logging
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.telegram.redact import PLACEHOLDER, RedactFilter, forget_secrets, redact, register_secret
from devtools import PATIENCE
from devtools.bot_process import start_bot
from devtools.fake_telegram.server import FakeTelegram
from storage import fits

TOKEN = "987654321:AAH-secret_Token-for-redaction-tests"


@pytest.fixture(autouse=True)
def _no_secrets_left():
    yield
    forget_secrets()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_text(path: Path) -> str:
    """Every value of every row of every table, as text."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return "\n".join(
            repr(row) for table in tables for row in conn.execute(f'SELECT * FROM "{table}"')
        )
    finally:
        conn.close()


def _run(api_url: str, db_path: Path, model_path: Path) -> subprocess.CompletedProcess:
    bot = start_bot(
        api_url,
        db_path,
        model_path,
        token=TOKEN,
        refit_minutes=0,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = bot.communicate(timeout=PATIENCE)
    finally:
        if bot.poll() is None:
            bot.kill()
    return subprocess.CompletedProcess(bot.args, bot.returncode, out, err)


def test_redact_replaces_the_token_and_its_url_forms():
    register_secret(TOKEN)
    text = f"POST https://api.telegram.org/bot{TOKEN}/getMe and bot{TOKEN.replace(':', '%3A')}/x"
    assert redact(text) == (
        f"POST https://api.telegram.org/bot{PLACEHOLDER}/getMe and bot{PLACEHOLDER}/x"
    )


def test_log_filter_redacts_message_args_and_traceback():
    register_secret(TOKEN)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter())
    logger = logging.getLogger("test_redact.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(f"token {TOKEN} in the message")
        logger.warning("url %s in the args", f"https://x/bot{TOKEN}/getMe")
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            logger.exception("call failed")
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert TOKEN not in logged
    assert logged.count(PLACEHOLDER) == 3
    assert "RuntimeError: The token `<token>` was rejected" in logged


def test_an_uncaught_exception_is_printed_without_the_token():
    script = (
        "from bot.telegram.redact import install_excepthook, register_secret\n"
        f"register_secret({TOKEN!r})\n"
        "install_excepthook()\n"
        f"raise RuntimeError('GET https://api.telegram.org/bot{TOKEN}/getMe failed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "RuntimeError: GET https://api.telegram.org/bot<token>/getMe failed" in done.stderr
    assert TOKEN not in done.stderr


def test_a_failed_fit_stores_its_error_without_the_token(tmp_path, tutorial_db):
    from moviebot.training import train

    register_secret(TOKEN)
    db_path = Path(tutorial_db.conn.execute("PRAGMA database_list").fetchone()[2])
    with pytest.raises(OSError):
        train(db_path, tmp_path / f"bot{TOKEN}" / "model.npz")  # no such folder
    (failed,) = fits.recent_fits(tutorial_db, 1)
    assert failed.status == "failed" and "<token>" in failed.error
    assert TOKEN not in _database_text(db_path)


def test_run_with_an_unreachable_api_is_one_line_without_the_token(
    catalog_db_path, catalog_model_path
):
    url = f"http://127.0.0.1:{_closed_port()}"
    done = _run(url, catalog_db_path, catalog_model_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1] == f"Error: cannot reach the Telegram Bot API at {url}"
    assert "Traceback" not in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert TOKEN not in _database_text(catalog_db_path)


def test_run_with_a_rejected_token_is_one_line_without_the_token(
    catalog_db_path, catalog_model_path
):
    server = FakeTelegram(token="111:the-right-token").run_in_thread()
    try:
        done = _run(server.url, catalog_db_path, catalog_model_path)
    finally:
        server.stop_thread()
    assert TOKEN in server.tokens  # it really was sent, and answered 401
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "Error: Telegram rejected the token (check TELEGRAM_BOT_TOKEN)"
    )
    assert "Traceback" not in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert TOKEN not in _database_text(catalog_db_path)


def test_a_delivery_error_is_stored_without_the_token() -> None:
    from telegram.error import NetworkError

    from bot.telegram.delivery import stored_error
    from bot.telegram.redact import register_secret

    token = "987654:SECRET-delivery-token"
    register_secret(token)
    text = stored_error(NetworkError(f"POST https://api.telegram.org/bot{token}/sendMessage"))
    assert token not in text and "<token>" in text
