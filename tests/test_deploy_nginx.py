"""The shipped deployment, run for real: Telegram -> nginx -> `moviebot run` in webhook mode.

Debian's nginx serves deploy/nginx-moviebot.conf on loopback (plain HTTP on free ports instead
of TLS on 443, the bot's port instead of 8443, logs in tmp_path; nothing else changed) in front
of `moviebot run` started with the exact arguments of deploy/moviebot.service's ExecStart,
expanded from the unit's defaults and deploy/moviebot.env.example. Its Bot API is a
FakeTelegram, which records (and validates) what the bot answers. Updates arrive as Telegram
sends them: a JSON POST carrying the X-Telegram-Bot-Api-Secret-Token header.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools import PATIENCE
from devtools.catalog import TED
from devtools.fake_telegram.server import FakeTelegram
from devtools.fake_telegram.webhook import free_port, post_update, take_update
from devtools.paths import DEPLOY
from devtools.ptb import TEST_TOKEN as TOKEN
from devtools.systemd import env_file, expand, unit_service
from moviebot.cli import build_parser
from moviebot.commands.running import resolve_run_options
from moviebot.options import RUN_OPTIONS
from storage import ratings
from storage.db import connect

SECRET = "test-secret_0123456789abcdefABCDEF"
PUBLIC_URL = "https://bot.example.org/telegram"
ANN = 501


# ----------------------------------------------------------------- the unit and its env file


def unit_command(overrides: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """What systemd would run: argv and environment (unit defaults < env file < overrides)."""
    defaults, exec_start = unit_service()
    env = {**defaults, **env_file(), **overrides}
    return expand(exec_start, env), env


def test_the_unit_and_the_example_env_file_agree_and_default_to_long_polling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults, exec_start = unit_service()
    example = env_file()
    read_by_moviebot = {"TELEGRAM_BOT_TOKEN", "MOVIEBOT_WEBHOOK_SECRET", "MOVIEBOT_DB"}
    read_by_moviebot |= {option.env for option in RUN_OPTIONS}

    # `moviebot run` reads its settings itself: no flags for systemd to fill in.
    assert exec_start == ["/opt/moviebot/venv/bin/moviebot", "run"]
    assert set(defaults) | set(example) <= read_by_moviebot, "a setting nothing reads"
    assert {"TELEGRAM_BOT_TOKEN", "MOVIEBOT_WEBHOOK_URL", "MOVIEBOT_WEBHOOK_SECRET"} <= set(example)

    argv, env = unit_command({})
    monkeypatch.setenv("MOVIEBOT_DB", env["MOVIEBOT_DB"])
    args = resolve_run_options(build_parser().parse_args(argv[1:]), env)
    assert args.handler.__name__ == "cmd_run"
    assert args.webhook_url is None  # empty: run_polling
    assert str(args.db) == "/var/lib/moviebot/moviebot.db"
    assert (args.listen, args.port, args.webhook_path) == ("127.0.0.1", 8443, "telegram")
    assert "proxy_pass http://127.0.0.1:8443;" in (DEPLOY / "nginx-moviebot.conf").read_text()


# ----------------------------------------------------------------- nginx on loopback


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} is not listening on port {port} after {timeout} s")


def swap(text: str, old: str, new: str) -> str:
    """Replace a line the shipped site file must contain, loudly if it does not."""
    assert text.count(old) >= 1, f"deploy/nginx-moviebot.conf no longer contains {old!r}"
    return text.replace(old, new)


def render_site(site: str, http_port: int, https_port: int, bot_port: int, logs: Path) -> str:
    """The shipped site on loopback: TLS and IPv6 listeners swapped for plain HTTP."""
    site = swap(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = swap(site, "listen 443 ssl;", f"listen 127.0.0.1:{https_port};")
    site = swap(site, "listen [::]:80;", "")
    site = swap(site, "listen [::]:443 ssl;", "")
    site = swap(
        site, "proxy_pass http://127.0.0.1:8443;", f"proxy_pass http://127.0.0.1:{bot_port};"
    )
    site = swap(site, "/var/log/nginx/", f"{logs}/")
    return "\n".join(line for line in site.splitlines() if not line.strip().startswith("ssl_"))


@dataclass
class Nginx:
    url: str  # where the "443" server block listens, e.g. http://127.0.0.1:40123
    http_url: str  # the port-80 server block
    logs: Path


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[Nginx, int]]:
    """nginx running the shipped site on loopback; yields it and the bot port it proxies to."""
    binary = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if binary is None:
        pytest.skip("nginx is not installed (Debian/Ubuntu: apt-get install -y nginx)")
    prefix = tmp_path / "nginx"
    logs = prefix / "logs"
    logs.mkdir(parents=True)
    http_port, https_port, bot_port = free_port(), free_port(), free_port()
    site = render_site(
        (DEPLOY / "nginx-moviebot.conf").read_text(), http_port, https_port, bot_port, logs
    )
    (prefix / "moviebot.conf").write_text(site)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"worker_processes 1;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {logs}/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"    access_log {logs}/access.log;\n"
        f"{temp_paths}\n"
        f"    include {prefix}/moviebot.conf;\n"
        "}\n"
    )
    # -p: the prefix for relative paths; -e: the log for errors before the config is read.
    command = [binary, "-p", str(prefix), "-e", str(logs / "error.log")]
    command += ["-c", str(prefix / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(https_port, process, "nginx")
        urls = f"http://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}"
        yield Nginx(*urls, logs), bot_port
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful shutdown
        process.communicate(timeout=PATIENCE)


# ----------------------------------------------------------------- the bot behind it


@dataclass
class Deployment:
    nginx: Nginx
    telegram: FakeTelegram
    db_path: Path
    bot: subprocess.Popen
    log: Path

    def deliver(self, text: str, secret: str | None = SECRET, path: str = "/telegram"):
        """Ann sends `text` and Telegram delivers it via nginx: (update_id, status, body)."""
        update_id = self.telegram.send_text(ANN, text, first_name="Ann")
        update = take_update(self.telegram.pending_updates(), update_id)
        status, body = post_update(self.nginx.url + path, update, secret)
        return update_id, status, body

    def ratings(self) -> dict[int, int]:
        db = connect(self.db_path, migrate=False)
        try:
            return ratings.user_ratings(db, ANN)
        finally:
            db.close()


@pytest.fixture
def deployment(
    nginx: tuple[Nginx, int],
    fake_telegram: FakeTelegram,
    catalog_db_path: Path,
    catalog_model_path: Path,
    tmp_path: Path,
) -> Iterator[Deployment]:
    """`moviebot run` as the unit starts it, in webhook mode, behind nginx."""
    proxy, bot_port = nginx
    argv, env = unit_command(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "MOVIEBOT_WEBHOOK_SECRET": SECRET,
            "MOVIEBOT_WEBHOOK_URL": PUBLIC_URL,
            "MOVIEBOT_DB": str(catalog_db_path),
            "MOVIEBOT_PORT": str(bot_port),
            "MOVIEBOT_API_URL": fake_telegram.url,
            "MOVIEBOT_REFIT_MINUTES": "0",
        }
    )
    argv = [sys.executable, "-m", "moviebot", *argv[1:], "--model", str(catalog_model_path)]
    log = tmp_path / "moviebot.log"
    with open(log, "w") as output:
        bot = subprocess.Popen(
            argv, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT, text=True
        )
    try:
        fake_telegram.wait_for_calls_sync("setWebhook", timeout=PATIENCE)
        wait_for_port(bot_port, bot, "moviebot run")  # it listens right after setWebhook
        yield Deployment(proxy, fake_telegram, catalog_db_path, bot, log)
    finally:
        bot.send_signal(signal.SIGTERM)  # what systemctl stop sends
        try:
            bot.wait(timeout=PATIENCE)
        finally:
            if bot.poll() is None:
                bot.kill()
    assert bot.returncode == 0, log.read_text()
    assert TOKEN.split(":")[1] not in log.read_text()


def test_a_rating_sent_through_nginx_is_answered_and_stored(deployment: Deployment) -> None:
    (webhook,) = deployment.telegram.calls_of("setWebhook")
    assert webhook.params["url"] == PUBLIC_URL
    assert webhook.params["secret_token"] == SECRET

    update_id, status, _ = deployment.deliver("/rate Ted 8")

    assert status == 200
    reply = deployment.telegram.wait_for_reply_sync(ANN, after=update_id, timeout=PATIENCE)
    assert reply["text"] == "Ted (2012): 8/10 ✓"
    assert deployment.ratings() == {TED: 8}
    access_log = (deployment.nginx.logs / "moviebot.access.log").read_text()
    assert '"POST /telegram HTTP/1.1" 200' in access_log


def test_requests_without_the_right_secret_are_refused_and_change_nothing(
    deployment: Deployment,
) -> None:
    _, status, body = deployment.deliver("/rate Frozen 9", secret=None)
    assert status == 403 and "nginx" in body  # turned away before reaching the bot
    _, status, body = deployment.deliver("/rate Frozen 9", secret="guess")
    assert status == 403 and "wrong secret token" in body  # the bot compared it
    _, status, body = deployment.deliver("/rate Frozen 9", secret="")
    assert status == 403

    # Updates are handled one at a time, in order: once this one is answered, any refused
    # update that had slipped through would have been handled (and answered) before it.
    update_id, status, _ = deployment.deliver("/rate Ted 8")
    assert status == 200
    deployment.telegram.wait_for_reply_sync(ANN, after=update_id, timeout=PATIENCE)
    assert [m["text"] for m in deployment.telegram.sent_messages(ANN)] == ["Ted (2012): 8/10 ✓"]
    assert deployment.ratings() == {TED: 8}


def test_nothing_but_the_webhook_path_reaches_the_bot(deployment: Deployment) -> None:
    url, http_url = deployment.nginx.url, deployment.nginx.http_url
    update = {"update_id": 1}
    for target in (url + "/", url + "/telegram/x", url + "/telegramx", http_url + "/telegram"):
        assert post_update(target, update, SECRET)[0] == 404, target
    assert post_update(url + "/telegram", update, SECRET, method="GET")[0] == 403
    assert deployment.telegram.sent_messages(ANN) == []
    bot_log = deployment.log.read_text()
    assert "Traceback" not in bot_log
