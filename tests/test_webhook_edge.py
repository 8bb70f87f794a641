"""Webhook mode's edge (bot/telegram/webhook.py): a request is judged by its headers, its body
unread.

The bot's real application serves its webhook on loopback; requests are written by hand on a
raw socket, so a test can stop sending a body halfway and see whether the answer came anyway
(PTB's own server reads the whole body before it looks at the secret).
"""

from __future__ import annotations

import asyncio
import functools
import json
import signal
import socket
import subprocess
import time
from pathlib import Path

from bot.telegram.app import ALLOWED_UPDATES
from bot.telegram.webhook import MAX_BODY_BYTES
from devtools import PATIENCE
from devtools.app import WEBHOOK_BOT_SECRET, messages, webhook_bot
from devtools.bot_process import WEBHOOK_SECRET, start_bot
from devtools.catalog import TED
from devtools.fake_telegram.server import FakeTelegram
from devtools.fake_telegram.webhook import free_port, post_update, take_update
from storage import journal, ratings

ANN = 501
BIG = 90 * 2**20  # the 90 MB POST


def open_post(port: int, length: int, secret: str | None, chunked: bool = False) -> socket.socket:
    """Send a POST's headers announcing a `length`-byte JSON body, and none of the body."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    lines = ["POST /telegram HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    if secret is not None:
        lines.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """The status and what followed it, up to the server closing the connection (or 10 s)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and data.endswith(b"}"):
                break
    except TimeoutError:
        if not data:
            raise AssertionError("no answer before the body was sent") from None
    return int(data.split(b" ", 2)[1]), data


def send_until_refused(sock: socket.socket, total: int) -> int:
    """Send up to `total` body bytes; return how many went before the server closed."""
    chunk, sent = b"x" * 2**20, 0
    try:
        while sent < total:
            sent += sock.send(chunk)
    except OSError:  # broken pipe / reset: the server closed the connection
        pass
    return sent


def test_a_wrong_secret_is_refused_before_the_body_is_read(
    fake_telegram: FakeTelegram, service, settings, catalog_db
) -> None:
    port = free_port()

    async def main() -> None:
        async with webhook_bot(settings, service, port):
            for secret, reason in (
                ("guess", b"wrong secret token"),
                (None, b"did not include the secret token"),
                (WEBHOOK_BOT_SECRET[:-1] + "2", b"wrong secret token"),
            ):
                sock = await asyncio.to_thread(open_post, port, BIG, secret)
                with sock:
                    status, answer = await asyncio.to_thread(read_answer, sock)
                    assert (status, reason in answer) == (403, True), answer
                    # The connection is closed, not drained: the 90 MB never go in.
                    assert await asyncio.to_thread(send_until_refused, sock, BIG) < BIG // 4

    asyncio.run(main())
    assert catalog_db.execute("SELECT count(*) FROM updates").fetchone()[0] == 0


def test_a_body_over_the_cap_gets_413_unread_and_a_right_one_is_served(
    fake_telegram: FakeTelegram, service, settings, catalog_db
) -> None:
    port = free_port()

    async def main() -> None:
        async with webhook_bot(settings, service, port) as app:
            sock = await asyncio.to_thread(open_post, port, MAX_BODY_BYTES + 1, WEBHOOK_BOT_SECRET)
            with sock:
                status, answer = await asyncio.to_thread(read_answer, sock)
                assert status == 413
                assert await asyncio.to_thread(send_until_refused, sock, BIG) < BIG // 4
            # No length up front: cut off at the cap, never answered 200 or queued.
            sock = await asyncio.to_thread(open_post, port, 0, WEBHOOK_BOT_SECRET, True)
            with sock:
                chunk = b"100000\r\n" + b"x" * 0x100000 + b"\r\n"
                sent = await asyncio.to_thread(send_until_refused_chunked, sock, chunk, 64)
                assert sent < 64

            update_id = fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
            update = take_update(fake_telegram.pending_updates(), update_id)
            url = f"http://127.0.0.1:{port}/telegram"
            assert (await asyncio.to_thread(post_update, url, update, WEBHOOK_BOT_SECRET))[0] == 200
            assert (await messages(fake_telegram, ANN, 1))[0]["text"] == "Ted (2012): 8/10 ✓"
            rt = app.bot_data.runtime
            assert await rt.run(journal.get_entry, rt.db, update_id) is not None
            status, _ = await asyncio.to_thread(post_update, url, b"[1, 2", WEBHOOK_BOT_SECRET)
            assert status == 400  # not an update: refused, nothing queued

    asyncio.run(main())
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 8}
    assert catalog_db.execute("SELECT count(*) FROM updates").fetchone()[0] == 1


def send_until_refused_chunked(sock: socket.socket, chunk: bytes, times: int) -> int:
    """Send `chunk` up to `times` times; return how many went before the server closed."""
    sent = 0
    try:
        for _ in range(times):
            sock.sendall(chunk)
            sent += 1
    except OSError:
        pass
    return sent


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_moviebot_run_refuses_a_huge_unauthenticated_post_without_growing(
    fake_telegram: FakeTelegram, catalog_db_path: Path, catalog_model_path: Path
) -> None:
    """The issue's measurement, on the real `moviebot run`: a 90 MB POST with a wrong secret
    took +127 MB of RSS (PTB's server reads the whole body first)."""
    port = free_port()
    process = start_bot(
        fake_telegram.url,
        catalog_db_path,
        catalog_model_path,
        webhook_port=port,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        [hook] = fake_telegram.wait_for_calls_sync("setWebhook", timeout=PATIENCE)
        deadline = time.monotonic() + PATIENCE
        while True:  # it listens right after setWebhook
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the webhook never listened"
                time.sleep(0.1)
        before = _rss_kb(process.pid)
        for secret in ("guess", WEBHOOK_SECRET):  # refused: 403, then 413
            with open_post(port, BIG, secret) as sock:
                status, _ = read_answer(sock)
                assert status == (403 if secret == "guess" else 413)
                assert send_until_refused(sock, BIG) < BIG // 4
        grown_mb = (_rss_kb(process.pid) - before) / 1024
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=PATIENCE)
    assert process.returncode == 0, output
    assert grown_mb < 16, f"RSS grew {grown_mb:.0f} MB"
    assert sorted(hook.params["allowed_updates"]) == sorted(ALLOWED_UPDATES)
    assert json.dumps(hook.params["secret_token"]) == json.dumps(WEBHOOK_SECRET)
    assert "Traceback" not in output


def test_a_json_content_type_with_parameters_is_served_and_others_are_refused(
    fake_telegram: FakeTelegram, service, settings, catalog_db
) -> None:
    """Issue 24: `application/json; charset=utf-8` (what proxies and some clients send) got a
    403; a JSON media type with parameters is JSON, anything else is still refused."""
    port = free_port()

    async def main() -> None:
        async with webhook_bot(settings, service, port):
            url = f"http://127.0.0.1:{port}/telegram"
            for content_type in ("text/plain", "application/jsonx", "application/xml"):
                post = functools.partial(post_update, content_type=content_type)
                status, _ = await asyncio.to_thread(post, url, b"{}", WEBHOOK_BOT_SECRET)
                assert status == 403, content_type
            update_id = fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
            update = take_update(fake_telegram.pending_updates(), update_id)
            post = functools.partial(post_update, content_type="Application/JSON; charset=utf-8")
            assert (await asyncio.to_thread(post, url, update, WEBHOOK_BOT_SECRET))[0] == 200
            assert (await messages(fake_telegram, ANN, 1))[0]["text"] == "Ted (2012): 8/10 ✓"

    asyncio.run(main())
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 8}
