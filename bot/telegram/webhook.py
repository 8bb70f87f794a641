"""Webhook mode's HTTP edge: every request is judged by its headers before its body is read.

python-telegram-bot serves webhooks with tornado, which reads a request's whole body into
memory before the handler sees it (up to 100 MB) and then compares the secret with ``!=``. Here
the handler streams the body (``stream_request_body``) and decides in ``prepare``, from the
headers alone:

- not ``application/json`` (parameters such as a charset allowed) -> 403
- no ``X-Telegram-Bot-Api-Secret-Token``, or a wrong one -> 403 (``hmac.compare_digest``)
- a ``Content-Length`` over MAX_BODY_BYTES               -> 413

A refused request's body is never read: tornado closes the connection once the answer is sent
(the only way not to read a body). A chunked body is cut off at MAX_BODY_BYTES the same way.
An accepted body is read into memory (at most MAX_BODY_BYTES; Telegram's updates are a few KB)
and put in the update queue; the 200 goes out only once ``put`` returns, which for
bot/ptb_classes.JournalingQueue means once the update is in SQLite (a failed write is a 500,
and Telegram delivers the update again).

``WebhookUpdater`` is PTB's Updater with this server in place of its own; everything else
(setWebhook with its retries, start, stop) is PTB's.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from http import HTTPStatus
from pathlib import Path
from socket import socket
from ssl import SSLContext
from typing import Any

import tornado.web
from telegram import Bot, Update
from telegram.ext import ExtBot, Updater
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_unix_socket

from bot.telegram.ptb_classes import readable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few KB (a message is at most 4096 characters); deploy/'s nginx
# refuses more than 1 MB before the bot sees it, and so does the bot without nginx.
MAX_BODY_BYTES = 2**20
_NO_CAP = 2**62


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """One POST from Telegram: refused from its headers, or read (capped) and queued."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, bot: Bot, update_queue: asyncio.Queue, secret_token: str | None) -> None:
        """Set up for one request (tornado calls it with the application's shared objects)."""
        self.bot = bot
        self.update_queue = update_queue
        self.secret_token = secret_token
        self.body = bytearray()

    def set_default_headers(self) -> None:
        """Answer JSON, as PTB's handler does."""
        self.set_header("Content-Type", 'application/json; charset="utf-8"')

    def prepare(self) -> None:
        """Refuse the request from its headers alone, before any of its body is read."""
        refusal = self._refusal()
        if refusal is not None:
            # Tornado would also refuse a body over its own cap, with a second answer on the
            # same connection; with none, it just closes the connection after this answer.
            self.request.connection.set_max_body_size(_NO_CAP)
            status, reason = refusal
            raise tornado.web.HTTPError(status, reason=reason)
        # A chunked body has no length up front: tornado stops reading it past the cap.
        self.request.connection.set_max_body_size(MAX_BODY_BYTES)

    def _refusal(self) -> tuple[int, str] | None:
        """Why the request is refused (status, reason), from its headers; None: accepted."""
        headers = self.request.headers
        if not is_json(headers.get("Content-Type", "")):
            return HTTPStatus.FORBIDDEN, "Not a JSON body"
        if self.secret_token is not None:
            given = headers.get(SECRET_HEADER)
            if not given:
                return HTTPStatus.FORBIDDEN, "Request did not include the secret token"
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                return HTTPStatus.FORBIDDEN, "Request had the wrong secret token"
        length = headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Updates are smaller than that"
        return None

    def data_received(self, chunk: bytes) -> None:
        """Keep the body's next piece (never more than MAX_BODY_BYTES in all)."""
        self.body += chunk

    async def post(self) -> None:
        """Queue the update; answer 200 once the queue has taken it (journaled). An update
        python-telegram-bot cannot parse is queued as its stand-in (quarantined, a 200:
        Telegram would otherwise send it again and again); a body that is not an update at
        all is a 400."""
        try:
            raw = readable(json.loads(self.body), self.bot)
            update = Update.de_json(raw, self.bot) if raw is not None else None
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            update = None
            log.warning("webhook: a body that is not an update (%s)", type(error).__name__)
        if update is None:
            raise tornado.web.HTTPError(400, reason="Update could not be processed")
        if isinstance(self.bot, ExtBot):
            self.bot.insert_callback_data(update)
        await self.update_queue.put(update)
        self.set_status(HTTPStatus.OK)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """A one-line JSON error: the status and its reason, never a traceback."""
        self.finish(json.dumps({"ok": False, "error_code": status_code, "reason": self._reason}))


def is_json(content_type: str) -> bool:
    """Whether a Content-Type names JSON, parameters allowed (``application/json;
    charset=utf-8`` from a proxy or another client); the media type is case-insensitive."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


class WebhookApp(tornado.web.Application):
    """The tornado application: one path, one handler, no access log of its own."""

    def __init__(
        self, url_path: str, bot: Bot, update_queue: asyncio.Queue, secret_token: str | None
    ) -> None:
        """Serve `url_path` (with or without a trailing slash) with UpdateHandler."""
        shared = {"bot": bot, "update_queue": update_queue, "secret_token": secret_token}
        super().__init__([(rf"{url_path}/?", UpdateHandler, shared)])

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """Log nothing per request (nginx keeps the access log)."""


class WebhookServer:
    """The HTTP server for WebhookApp, with the interface PTB's Updater drives."""

    def __init__(
        self,
        listen: str,
        port: int,
        app: WebhookApp,
        ssl_ctx: SSLContext | None,
        unix: str | Path | socket | None = None,
    ) -> None:
        """A server for `app` on `listen`:`port` (or the unix socket `unix`), not started."""
        self._http_server = HTTPServer(app, ssl_options=ssl_ctx)
        self.listen, self.port = listen, port
        self.unix = bind_unix_socket(str(unix)) if isinstance(unix, str | Path) else unix
        self.is_running = False

    async def serve_forever(self, ready: asyncio.Event | None = None) -> None:
        """Start listening (tornado serves from the running loop); set `ready` once it does."""
        if self.unix is not None:
            self._http_server.add_socket(self.unix)
        else:
            self._http_server.listen(self.port, address=self.listen)
        self.is_running = True
        if ready is not None:
            ready.set()

    async def shutdown(self) -> None:
        """Stop listening and close every open connection."""
        if not self.is_running:
            return
        self.is_running = False
        self._http_server.stop()
        await self._http_server.close_all_connections()


class WebhookUpdater(Updater):
    """PTB's Updater, serving its webhook with WebhookServer instead of PTB's own server."""

    async def _start_webhook(  # type: ignore[override]
        self,
        listen: str,
        port: int,
        url_path: str,
        bootstrap_retries: int,
        allowed_updates: Any,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        drop_pending_updates: bool | None = None,
        webhook_url: str | None = None,
        ready: asyncio.Event | None = None,
        ip_address: str | None = None,
        max_connections: int = 40,
        secret_token: str | None = None,
        unix: str | Path | socket | None = None,
    ) -> None:
        """What PTB 22's Updater._start_webhook does (setWebhook, then serve), with this
        module's server; TLS is nginx's (deploy/), so no certificate is taken here."""
        if cert is not None or key is not None:
            raise ValueError("webhook TLS belongs to the proxy in front (deploy/nginx)")
        if not url_path.startswith("/"):
            url_path = f"/{url_path}"
        app = WebhookApp(url_path, self.bot, self.update_queue, secret_token)
        self._httpd = WebhookServer(listen, port, app, None, unix)  # type: ignore[assignment]
        await self._bootstrap(
            max_retries=bootstrap_retries,
            drop_pending_updates=drop_pending_updates,
            webhook_url=webhook_url or f"http://{listen}:{port}{url_path}",
            allowed_updates=allowed_updates,
            ip_address=ip_address,
            max_connections=max_connections,
            secret_token=secret_token,
        )
        await self._httpd.serve_forever(ready=ready)
