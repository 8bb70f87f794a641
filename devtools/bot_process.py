"""Start the real ``moviebot run`` process against a Bot API server (a FakeTelegram).

    bot = start_bot(server.url, db_path, model_path, refit_minutes=0, rate_limit=False)
    ...
    bot.send_signal(signal.SIGINT)

The token goes in through ``TELEGRAM_BOT_TOKEN`` as in production; with ``webhook_port`` the bot
runs in webhook mode on loopback (``MOVIEBOT_WEBHOOK_SECRET`` set), else it long-polls.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools.ptb import TEST_TOKEN

WEBHOOK_SECRET = "test-webhook-secret"


def start_bot(
    api_url: str,
    db_path: Path,
    model_path: Path,
    *,
    token: str = TEST_TOKEN,
    refit_minutes: float | None = None,
    rate_limit: bool = True,
    webhook_port: int | None = None,
    webhook_path: str = "telegram",
    webhook_secret: str = WEBHOOK_SECRET,
    **popen: Any,
) -> subprocess.Popen:
    """`python -m moviebot run` on `db_path` and `model_path`, its Bot API at `api_url`.

    `refit_minutes` None keeps the default; `rate_limit` False passes ``--no-rate-limit``;
    `webhook_port` switches to webhook mode at ``http://127.0.0.1:<port>/<webhook_path>``.
    `popen` goes to subprocess.Popen (stdout, stderr, text, cwd ...).
    """
    command = [sys.executable, "-m", "moviebot", "run", "--api-url", api_url]
    command += ["--db", str(db_path), "--model", str(model_path)]
    if refit_minutes is not None:
        command += ["--refit-minutes", f"{refit_minutes:.4f}"]
    if not rate_limit:
        command += ["--no-rate-limit"]
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": token}
    if webhook_port is not None:
        url = f"http://127.0.0.1:{webhook_port}/{webhook_path}"
        command += ["--webhook-url", url, "--webhook-path", webhook_path]
        command += ["--listen", "127.0.0.1", "--port", str(webhook_port)]
        env["MOVIEBOT_WEBHOOK_SECRET"] = webhook_secret
    return subprocess.Popen(command, env=env, **popen)
