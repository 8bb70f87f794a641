"""A Bot API server on loopback that behaves like Telegram where it matters for moviebot.

``FakeTelegram`` serves ``/bot<TOKEN>/<method>`` (GET or POST; JSON, form-urlencoded or
multipart bodies), validates every call against the Bot API spec (``spec.py``), runs it against
``world.TelegramWorld`` and records it. Simulated users send messages, tap buttons and type
inline queries; faults (flood control, 502, slow answers, dropped connections) can be queued.

In a test (see ``devtools/fixtures.py`` for the ``fake_telegram`` fixture)::

    with FakeTelegram() as server:          # runs in a background thread with its own loop
        app = ApplicationBuilder().token("123:ABC").base_url(server.base_url).build()
        ...
        update_id = server.send_text(42, "/start")
        reply = server.wait_for_reply_sync(42, after=update_id)
        assert server.violations == []

From async code on any loop: ``async with FakeTelegram() as server`` (runs on that loop) and
``await server.wait_for_reply(...)``. From a shell, for bench scripts::

    python -m devtools.fake_telegram.server --port 8081
    # prints "FakeTelegram listening on http://127.0.0.1:8081/bot", stops on Ctrl-C/SIGTERM;
    # drive it with POST /_harness/send_text {"user_id": 1, "text": "/start"} (see ``_control``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from devtools.fake_telegram.faults import Fault, FaultKind
from devtools.fake_telegram.objects import BOT_USERNAME
from devtools.fake_telegram.spec import UploadedFile, load_spec, parse_call
from devtools.fake_telegram.webhook import SECRET_HEADER
from devtools.fake_telegram.world import BotApiError, TelegramWorld

REPLY_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendPoll",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
MAX_BODY_BYTES = 60 * 2**20  # Telegram takes 50 MB uploads
CLIENT_GONE = 499  # nginx's status for a request whose client closed the connection
WEBHOOK_RETRY_SECONDS = 0.5
WEBHOOK_TIMEOUT_SECONDS = 60
_ATTACH_RE = re.compile(r"attach://([A-Za-z0-9_\-]+)")
T = TypeVar("T")


@dataclass
class Call:
    """One request the bot made: what it asked, when, and what it got back.

    ``time`` is ``time.monotonic()`` when the request arrived. ``params`` are the coerced
    parameters when the call was valid, the raw ones otherwise. ``status`` is the HTTP status
    (0 for a dropped connection), ``fault`` the kind of injected fault that answered it.
    """

    seq: int
    method: str
    params: dict[str, Any]
    token: str
    time: float
    status: int = 0
    result: Any = None
    description: str | None = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        """True if Telegram answered ``{"ok": true}``."""
        return self.status == 200


class FakeTelegram:
    """A loopback Telegram Bot API server with simulated users, recording and fault injection."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = BOT_USERNAME,
        privacy_mode: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        push_webhook: bool = False,
    ) -> None:
        """``token``: if given, any other token gets 401. ``port`` 0 picks a free port.

        ``push_webhook``: while a webhook is set, POST pending updates to it as Telegram does
        (``_push_webhook_updates``). Off by default, so tests can deliver updates by hand
        (``devtools/fake_telegram/webhook.py``).
        """
        self.expected_token = token
        self.push_webhook = push_webhook
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status or 0)
        self.host = host
        self.port = port
        self.world = TelegramWorld(bot_username=bot_username, privacy_mode=privacy_mode)
        self.violations: list[str] = []
        self.tokens: set[str] = set()
        self.faults: list[Fault] = []
        self.downloads: list[str] = []  # file paths fetched from /file/bot<token>/...
        self._calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = {}
        self._replies_by_chat: dict[int, list[Call]] = {}
        self._seq = 0
        self._update_seq: dict[int, int] = {}
        self._chat_seq: dict[int, int] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._methods = {name.lower(): name for name in load_spec().methods}
        self._poll_generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._update_event = asyncio.Event()
        self._stop_event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._pusher: asyncio.Task | None = None

    # ================================================================= lifecycle

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass to ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass to ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        """Start listening on the current event loop; ``self.port`` is then the real port."""
        self._loop = asyncio.get_running_loop()
        self._update_event = asyncio.Event()
        self._stop_event = asyncio.Event()
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/_harness/{action}", self._handle_control)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if self.push_webhook:
            self._pusher = asyncio.create_task(self._push_webhook_updates())

    async def stop(self) -> None:
        """End pending long polls and delayed answers, then stop listening."""
        self._stop_event.set()
        self._fire_update_event()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def run_in_thread(self, timeout: float = 10.0) -> FakeTelegram:
        """Run the server on its own event loop in a daemon thread; return once listening."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=serve, name="FakeTelegram", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("FakeTelegram did not start listening in time")
        if failure:
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with ``run_in_thread``."""
        if self._thread is None or self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.run_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.stop_thread()

    # ================================================================= simulated users

    def set_language(self, user_id: int, language_code: str) -> None:
        """User ``user_id``'s Telegram app is set to ``language_code`` from now on."""
        with self._lock:
            self.world.set_language(user_id, language_code)

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        username: str | None = None,
        title: str | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
    ) -> int | None:
        """User ``user_id`` sends ``text`` (in forum topic ``message_thread_id``); return the
        update_id.

        Private chats use the user's id as chat id; groups ("group"/"supergroup") need a
        negative ``chat_id``. Commands get ``bot_command`` entities (``/cmd@bot`` too). Returns
        None when Telegram would not deliver it: privacy mode hides plain group chatter, and
        ``allowed_updates`` may exclude messages.
        """
        with self._lock:
            update_id = self.world.user_message(
                user_id,
                text,
                chat_id,
                chat_type,
                first_name,
                username,
                title,
                reply_to_message_id,
                message_thread_id,
            )
            return self._note_update(update_id, chat_id if chat_id is not None else user_id)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str | None,
        mime_type: str | None = "text/csv",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        username: str | None = None,
    ) -> int | None:
        """User ``user_id`` sends a file (a message with a ``document``); return the update_id.

        The bot fetches it as from Telegram: getFile, then GET /file/bot<token>/<file_path>.
        In groups with privacy mode, only a caption with a command or mention gets through.
        """
        with self._lock:
            update_id = self.world.user_document(
                user_id,
                data,
                file_name,
                mime_type,
                caption,
                chat_id,
                chat_type,
                first_name,
                username,
            )
            return self._note_update(update_id, chat_id if chat_id is not None else user_id)

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes of a file the bot sent (sendDocument, sendPhoto) or a user sent."""
        with self._lock:
            return self.world.files[file_id]

    def create_topic(self, user_id: int, chat_id: int, name: str = "Movies") -> int:
        """User creates a topic in forum supergroup ``chat_id``; return its message_thread_id."""
        with self._lock:
            return self.world.create_topic(user_id, chat_id, name)

    def vote(
        self, user_id: int, message: dict[str, Any] | int, options: list[int], chat_id: int = 0
    ) -> int | None:
        """User votes for ``options`` in the bot's poll ``message`` (a Message dict, or a
        message_id with ``chat_id``); return the update_id of the ``poll`` update."""
        if isinstance(message, dict):
            chat_id, message_id = message["chat"]["id"], message["message_id"]
        else:
            message_id = message
        with self._lock:
            return self._note_update(
                self.world.vote(user_id, chat_id, message_id, options), chat_id
            )

    def tap(
        self,
        user_id: int,
        message: dict[str, Any] | int,
        callback_data: str,
        chat_id: int | None = None,
        forged: bool = False,
    ) -> int | None:
        """User taps the button carrying ``callback_data`` on a message the bot sent.

        ``message`` is a Message dict (e.g. from ``wait_for_reply``) or a message_id together
        with ``chat_id``. Raises ValueError if the message has no such button, unless
        ``forged`` (a modified client sending data of its own).
        """
        if isinstance(message, dict):
            chat_id = message["chat"]["id"]
            message_id = message["message_id"]
        else:
            message_id = message
        if chat_id is None:
            raise ValueError("tap() needs chat_id when message is a message_id")
        with self._lock:
            update_id = self.world.tap(user_id, chat_id, message_id, callback_data, forged)
            return self._note_update(update_id, chat_id)

    def inline_query(
        self, user_id: int, query: str, offset: str = "", chat_type: str | None = "sender"
    ) -> int | None:
        """User types ``@bot <query>`` in any chat; return the update_id."""
        with self._lock:
            return self._note_update(self.world.inline_query(user_id, query, offset, chat_type))

    def chosen_inline_result(self, user_id: int, result_id: str, query: str = "") -> int | None:
        """User picks an inline result (only if the bot enabled inline feedback)."""
        with self._lock:
            return self._note_update(self.world.chosen_inline_result(user_id, result_id, query))

    def member_joins(
        self,
        user_id: int,
        chat_id: int,
        chat_type: str = "group",
        first_name: str | None = None,
        title: str | None = None,
    ) -> list[int]:
        """User joins the group: the ids of the updates the bot gets (a new_chat_members
        service message; a chat_member update too when the bot is an admin and asked)."""
        with self._lock:
            ids = self.world.member_joins(user_id, chat_id, chat_type, first_name, title)
            return [self._note_update(update_id, chat_id) for update_id in ids]

    def member_leaves(
        self,
        user_id: int,
        chat_id: int,
        removed_by: int | None = None,
        service_message: bool = True,
    ) -> list[int]:
        """User leaves the group, or member ``removed_by`` bans them: the ids of the updates
        the bot gets (a left_chat_member service message unless ``service_message`` is False;
        a chat_member update too when the bot is an admin and asked for chat_member)."""
        with self._lock:
            ids = self.world.member_leaves(user_id, chat_id, removed_by, service_message)
            return [self._note_update(update_id, chat_id) for update_id in ids]

    def set_bot_status(self, chat_id: int, status: str, by_user_id: int) -> int | None:
        """Member ``by_user_id`` makes the bot "administrator" or "member" of the group, or
        removes it ("kicked", "left"): the my_chat_member update's id."""
        with self._lock:
            update_id = self.world.set_bot_status(chat_id, status, by_user_id)
            return self._note_update(update_id, chat_id)

    def add_chat(
        self,
        user_id: int,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        username: str | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """Make a chat known without sending an update (the bot may then message it)."""
        with self._lock:
            return self.world.add_chat(user_id, chat_id, chat_type, first_name, username, title)[1]

    def push_update(
        self, kind: str, payload: dict[str, Any], chat_id: int | None = None
    ) -> int | None:
        """Queue an update of ``kind`` with ``payload`` exactly as given (no checks): what
        Telegram sends when it and the bot's library disagree about a field (a restricted
        member without ``can_edit_tag``, a poll option without ``persistent_id``)."""
        with self._lock:
            return self._note_update(self.world.push_update(kind, payload), chat_id)

    def migrate_to_supergroup(self, chat_id: int, new_chat_id: int, by_user_id: int) -> list[int]:
        """Member ``by_user_id`` upgrades group ``chat_id`` to supergroup ``new_chat_id``: the
        ids of the two service messages (``migrate_to_chat_id`` in the old group,
        ``migrate_from_chat_id`` in the new one)."""
        with self._lock:
            ids = self.world.migrate_to_supergroup(chat_id, new_chat_id, by_user_id)
            return [self._note_update(update_id, new_chat_id) for update_id in ids]

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sending to their chat answers 403 Forbidden."""
        with self._lock:
            self.world.blocked.add(user_id)

    def restart_update_ids(self, start: int) -> None:
        """The next update gets id ``start``, then ``start + 1``...: Telegram picks a new
        random start after a week without getUpdates, so ids seen before can come again."""
        with self._lock:
            self.world.restart_update_ids(start)

    # ================================================================= faults

    def inject_fault(
        self,
        kind: FaultKind,
        method: str | None = None,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 5.0,
    ) -> Fault:
        """Answer the next ``times`` calls of ``method`` (None: any method) with a fault.

        Kinds: "flood" (429 with retry_after), "bad_gateway" (502), "delay" (the call takes
        effect, the answer comes ``delay`` s later), "drop" (connection closed, no answer).
        """
        if method is not None and method not in load_spec().methods:
            raise ValueError(f"unknown Bot API method {method!r}")
        fault = Fault(kind, method, times, retry_after, delay)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget every fault rule that has not fired yet."""
        with self._lock:
            self.faults = [f for f in self.faults if f.hits]

    # ================================================================= recording

    @property
    def calls(self) -> list[Call]:
        """Every request so far, in order of completion (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str) -> list[Call]:
        """Every completed request of ``method``."""
        with self._lock:
            return list(self._calls_by_method.get(method, []))

    @property
    def errors(self) -> list[Call]:
        """Calls the bot got no ``ok: true`` for (violations, 4xx from state, faults).

        Long polls abandoned by their client (status 499) are left out: nobody saw them fail.
        """
        with self._lock:
            return [c for c in self._calls if not c.ok and c.status != CLIENT_GONE]

    @property
    def uploads(self) -> list[UploadedFile]:
        """Every file uploaded with multipart/form-data, in order."""
        with self._lock:
            return list(self.world.uploads)

    def sent_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in ``chat_id`` as they are now: edits applied, deletions gone."""
        with self._lock:
            return json.loads(json.dumps(self.world.bot_messages(chat_id)))

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by getUpdates' offset."""
        with self._lock:
            return json.loads(json.dumps(self.world.updates))

    def callback_answer(self, update_id: int) -> dict[str, Any] | None:
        """The answerCallbackQuery params for the tap ``update_id``, None if unanswered."""
        with self._lock:
            for state in self.world.callback_queries.values():
                if state.update_id == update_id:
                    return state.answer
        raise KeyError(f"no callback query with update_id {update_id}")

    # ================================================================= waiting

    async def wait_for_reply(
        self, chat_id: int, after: int | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait for the bot's next message or edit in ``chat_id`` and return the Message.

        ``after`` is an update_id (from send_text/tap); the reply must come after it. By
        default: after the latest update in that chat. Works from any event loop.
        """
        since = self._since(chat_id, after)
        return await self._poll(
            lambda: self._find_reply(chat_id, since), timeout, f"a reply in chat {chat_id}"
        )

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``count`` calls of ``method`` completed; return all of them."""
        return await self._poll(
            lambda: self._enough_calls(method, count), timeout, f"{count} {method} call(s)"
        )

    async def wait_for_confirmation(self, update_id: int, timeout: float = 5.0) -> None:
        """Wait until the bot confirmed ``update_id`` with a later getUpdates offset."""
        await self._poll(
            lambda: self._confirmed(update_id), timeout, f"confirmation of update {update_id}"
        )

    def wait_for_reply_sync(
        self, chat_id: int, after: int | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Blocking ``wait_for_reply`` for threads (never call it on the server's loop)."""
        since = self._since(chat_id, after)
        return self._block(
            lambda: self._find_reply(chat_id, since), timeout, f"a reply in chat {chat_id}"
        )

    def wait_for_calls_sync(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Blocking ``wait_for_calls`` for threads."""
        return self._block(
            lambda: self._enough_calls(method, count), timeout, f"{count} {method} call(s)"
        )

    def wait_for_confirmation_sync(self, update_id: int, timeout: float = 5.0) -> None:
        """Blocking ``wait_for_confirmation`` for threads."""
        self._block(
            lambda: self._confirmed(update_id), timeout, f"confirmation of update {update_id}"
        )

    # ================================================================= HTTP: Bot API

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """GET /file/bot<token>/<file_path>: a file's bytes, as Telegram serves downloads."""
        token = request.match_info["token"]
        if self.expected_token is not None and token != self.expected_token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        with self._lock:
            try:
                data = self.world.download(request.match_info["path"])
            except BotApiError as error:
                return web.json_response(
                    {"ok": False, "error_code": error.status, "description": error.description},
                    status=error.status,
                )
            self.downloads.append(request.match_info["path"])
        return web.Response(body=data, content_type="application/octet-stream")

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        token = request.match_info["token"]
        method = self._methods.get(request.match_info["method"].lower())
        name = method or request.match_info["method"]
        try:
            raw = await _read_params(request)
        except ValueError as exc:
            return self._error(
                self._new_call(name, {}, token, arrived), 400, f"Bad Request: {exc}", violation=True
            )
        with self._lock:
            self.tokens.add(token)
            call = self._new_call(name, raw, token, arrived)
        if self.expected_token is not None and token != self.expected_token:
            return self._error(call, 401, "Unauthorized", violation=True)
        if method is None:
            return self._error(call, 404, "Not Found", violation=True)
        raw, attachments, attach_errors = _split_attachments(method, raw)
        params, errors = parse_call(method, raw)
        errors = attach_errors + errors
        if errors:
            return self._error(
                call, 400, f"Bad Request: {errors[0]}", violation=True, all_errors=errors
            )
        call.params = params
        fault = self._take_fault(method, arrived)
        if fault is not None and fault.kind != "delay":
            return await self._answer_fault(request, call, fault)
        try:
            if method == "getUpdates":
                result = await self._get_updates(params, request)
            else:
                with self._lock:
                    result = self.world.call(method, params)
                    self.world.uploads.extend(attachments.values())
        except BotApiError as exc:
            return self._error(
                call,
                exc.status,
                exc.description,
                parameters=exc.parameters,
                violation=exc.status == 501,
            )
        with self._lock:
            body = json.dumps({"ok": True, "result": result})
            call.result = json.loads(body)["result"]
        if fault is not None:  # "delay": the call took effect, the answer is late
            call.fault = fault.kind
            await self._sleep(fault.delay)
        return self._finish(call, 200, web.Response(text=body, content_type="application/json"))

    async def _get_updates(
        self, params: dict[str, Any], request: web.Request
    ) -> list[dict[str, Any]]:
        """Long polling: answer as soon as an update is pending or ``timeout`` s passed.

        A poll whose client went away ends early and is recorded with status 499.
        """
        with self._lock:
            if self.world.webhook.get("url"):
                raise BotApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is "
                    "active; use deleteWebhook to delete the webhook first",
                )
            self.world.set_allowed_updates(params.get("allowed_updates"))
            self._poll_generation += 1
            generation = self._poll_generation
        self._fire_update_event()  # a poll still waiting now gets 409 Conflict
        deadline = time.monotonic() + max(0, params.get("timeout", 0))
        while True:
            event = self._update_event
            if request.transport is None or request.transport.is_closing():
                raise BotApiError(CLIENT_GONE, "Client Closed Request")
            with self._lock:
                if generation != self._poll_generation:
                    raise BotApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                updates = self.world.take_updates(params.get("offset"), params.get("limit"))
                if updates or self._stop_event.is_set() or time.monotonic() >= deadline:
                    self._changed.notify_all()  # confirmations may have happened
                    return updates
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), deadline - time.monotonic())

    async def _push_webhook_updates(self) -> None:
        """Telegram's side of a webhook: POST pending updates to the URL given to setWebhook.

        Each update is a JSON body with the secret in ``X-Telegram-Bot-Api-Secret-Token``;
        up to ``max_connections`` (default 40) are in flight, one per chat at a time so a
        chat's updates arrive in order; an update leaves the queue only when answered 2xx,
        and a failed delivery is tried again a moment later.
        """
        in_flight: dict[int, int] = {}  # update_id -> chat
        retry_at: dict[int, float] = {}
        tasks: set[asyncio.Task] = set()
        async with ClientSession() as session:
            while not self._stop_event.is_set():
                event = self._update_event
                hook, updates = self._next_deliveries(in_flight, retry_at)
                for update in updates:
                    task = asyncio.create_task(
                        self._push_one(session, hook, update, in_flight, retry_at)
                    )
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), WEBHOOK_RETRY_SECONDS)

    def _next_deliveries(
        self, in_flight: dict[int, int], retry_at: dict[int, float]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The webhook as set now, and the pending updates to POST to it (marked in flight):
        oldest first, within the connection limit, none for a chat that has one in flight or
        waiting for a retry."""
        chosen: list[dict[str, Any]] = []
        with self._lock:
            hook = dict(self.world.webhook)
            if not hook.get("url"):
                return hook, chosen
            free = hook.get("max_connections", 40) - len(in_flight)
            busy = set(in_flight.values())
            now = time.monotonic()
            for update in self.world.updates:
                if free <= 0:
                    break
                chat = _update_chat(update)
                if chat in busy:
                    continue
                busy.add(chat)
                if retry_at.get(update["update_id"], 0) > now:
                    continue
                in_flight[update["update_id"]] = chat
                chosen.append(update)
                free -= 1
        return hook, chosen

    async def _push_one(
        self,
        session: ClientSession,
        hook: dict[str, Any],
        update: dict[str, Any],
        in_flight: dict[int, int],
        retry_at: dict[int, float],
    ) -> None:
        update_id = update["update_id"]
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers[SECRET_HEADER] = hook["secret_token"]
        status = 0
        try:
            timeout = ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS)
            async with session.post(
                hook["url"], data=json.dumps(update), headers=headers, timeout=timeout
            ) as response:
                status = response.status
        except (ClientError, TimeoutError):
            pass
        with self._lock:
            self.webhook_deliveries.append((update_id, status))
            if 200 <= status < 300:
                with contextlib.suppress(ValueError):
                    self.world.updates.remove(update)
                retry_at.pop(update_id, None)
            else:
                retry_at[update_id] = time.monotonic() + WEBHOOK_RETRY_SECONDS
            del in_flight[update_id]
            self._changed.notify_all()
        self._fire_update_event()

    async def _answer_fault(
        self, request: web.Request, call: Call, fault: Fault
    ) -> web.StreamResponse:
        call.fault = fault.kind
        if fault.kind == "flood":
            return self._error(
                call,
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                parameters={"retry_after": fault.retry_after},
            )
        if fault.kind == "bad_gateway":
            return self._error(call, 502, "Bad Gateway")
        # "drop": close the connection without an answer, as a dying proxy would.
        self._record(call, 0, None, "connection dropped")
        if request.transport is not None:
            request.transport.close()
        raise asyncio.CancelledError

    def _take_fault(self, method: str, arrived: float) -> Fault | None:
        """Pick the first rule matching ``method``; note retries for rules that fired."""
        with self._lock:
            chosen = next((f for f in self.faults if f.matches(method)), None)
            for fault in self.faults:
                if fault is chosen or not fault.hits or fault.next_call_at is not None:
                    continue
                if fault.method in (None, method):
                    fault.next_call_at = arrived
            if chosen is not None:
                chosen.hits.append(arrived)
            return chosen

    # ================================================================= HTTP: control API

    async def _handle_control(self, request: web.Request) -> web.Response:
        """Drive the server from another process: /_harness/<action>, JSON in and out."""
        action = request.match_info["action"]
        body = await request.json() if request.can_read_body else {}
        try:
            result = self._control(action, body, dict(request.query))
        except (KeyError, TypeError, ValueError, BotApiError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    def _control(self, action: str, body: dict[str, Any], query: dict[str, str]) -> Any:
        if action == "send_text":
            return self.send_text(**body)
        if action == "tap":
            return self.tap(
                body["user_id"], body["message_id"], body["callback_data"], chat_id=body["chat_id"]
            )
        if action == "inline_query":
            return self.inline_query(**body)
        if action == "member_joins":
            return self.member_joins(**body)
        if action == "member_leaves":
            return self.member_leaves(**body)
        if action == "set_bot_status":
            return self.set_bot_status(**body)
        if action == "fault":
            return self.inject_fault(**body).__dict__
        if action == "calls":
            since = int(query.get("since", 0))
            return [c.__dict__ for c in self.calls if c.seq >= since]
        if action == "violations":
            return list(self.violations)
        if action == "messages":
            return self.sent_messages(int(query["chat_id"]))
        raise KeyError(f"unknown control action {action!r}")

    # ================================================================= internals

    def _new_call(self, method: str, params: dict[str, Any], token: str, arrived: float) -> Call:
        with self._lock:
            self._seq += 1
            return Call(self._seq, method, params, token, arrived)

    def _record(self, call: Call, status: int, result: Any, description: str | None) -> None:
        with self._lock:
            call.status, call.result, call.description = status, result, description
            self._calls.append(call)
            self._calls_by_method.setdefault(call.method, []).append(call)
            if call.ok and call.method in REPLY_METHODS and isinstance(result, dict):
                self._replies_by_chat.setdefault(result["chat"]["id"], []).append(call)
            self._changed.notify_all()

    def _finish(self, call: Call, status: int, response: web.Response) -> web.Response:
        self._record(call, status, call.result, call.description)
        return response

    def _error(
        self,
        call: Call,
        status: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        violation: bool = False,
        all_errors: list[str] | None = None,
    ) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        with self._lock:
            if violation:
                for error in all_errors or [description]:
                    self.violations.append(f"{call.method}: {error}")
            self._record(call, status, None, description)
        return web.json_response(body, status=status)

    def _note_update(self, update_id: int | None, chat_id: int | None = None) -> int | None:
        """Remember when an update was made (for ``after=``) and wake long polls."""
        if update_id is None:
            return None
        self._seq += 1
        self._update_seq[update_id] = self._seq
        if chat_id is not None:
            self._chat_seq[chat_id] = self._seq
        self._changed.notify_all()
        self._wake_pollers()
        return update_id

    def _wake_pollers(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fire_update_event)

    def _fire_update_event(self) -> None:
        """Wake every waiting long poll (runs on the server loop)."""
        self._update_event.set()
        self._update_event = asyncio.Event()

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but end early when the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), seconds)

    def _since(self, chat_id: int, after: int | None) -> int:
        with self._lock:
            if after is None:
                return self._chat_seq.get(chat_id, 0)
            if after not in self._update_seq:
                raise KeyError(f"unknown update_id {after}")
            return self._update_seq[after]

    def _find_reply(self, chat_id: int, since: int) -> dict[str, Any] | None:
        for call in self._replies_by_chat.get(chat_id, []):
            if call.seq > since:
                return call.result
        return None

    def _enough_calls(self, method: str, count: int) -> list[Call] | None:
        matching = self._calls_by_method.get(method, [])
        return list(matching) if len(matching) >= count else None

    def _confirmed(self, update_id: int) -> bool | None:
        return all(u["update_id"] > update_id for u in self.world.updates) or None

    async def _poll(self, find: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = find()
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(what, timeout))
            await asyncio.sleep(0.005)

    def _block(self, find: Callable[[], T | None], timeout: float, what: str) -> T:
        with self._changed:
            found = self._changed.wait_for(find, timeout)
            if found is None:
                raise TimeoutError(self._timeout_message(what, timeout))
            return found

    def _timeout_message(self, what: str, timeout: float) -> str:
        recent = [f"{c.method} -> {c.status} {c.description or ''}" for c in self.calls[-8:]]
        return f"no {what} within {timeout} s; last calls: {recent}"


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query-string and body parameters; files become ``UploadedFile``."""
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise ValueError("can't parse JSON body") from exc
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        params.update(body)
        return params
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            params[name] = UploadedFile(name, value.filename, value.content_type, value.file.read())
        else:
            params[name] = value
    return params


def _split_attachments(
    method: str, raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, UploadedFile], list[str]]:
    """Separate files referenced as ``attach://<name>`` from the method's parameters."""
    fields = load_spec().method_fields(method)
    text = " ".join(v for v in raw.values() if isinstance(v, str))
    referenced = set(_ATTACH_RE.findall(text))
    attachments = {
        name: value
        for name, value in raw.items()
        if isinstance(value, UploadedFile) and name not in fields and name in referenced
    }
    params = {k: v for k, v in raw.items() if k not in attachments}
    errors = [
        f'file "attach://{name}" is not in the request'
        for name in sorted(referenced - attachments.keys() - fields.keys())
    ]
    return params, attachments, errors


def _update_chat(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (the user, for updates without a chat)."""
    payload = next(v for k, v in update.items() if k != "update_id")
    chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
    if chat is not None:
        return chat["id"]
    user = payload.get("from")
    return user["id"] if user is not None else None


def _dumps(value: Any) -> str:
    return json.dumps(value, default=repr)


def main(argv: list[str] | None = None) -> int:
    """Run FakeTelegram until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m devtools.fake_telegram.server",
        description="Fake Telegram Bot API server on loopback. "
        "Example: python -m devtools.fake_telegram.server --port 8081",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--token", default=None, help="answer 401 to any other token")
    parser.add_argument("--username", default=BOT_USERNAME, help="the bot's username")
    parser.add_argument("--no-privacy", action="store_true", help="bot sees all group messages")
    args = parser.parse_args(argv)

    async def serve() -> None:
        server = FakeTelegram(
            token=args.token,
            bot_username=args.username,
            privacy_mode=not args.no_privacy,
            host=args.host,
            port=args.port,
        )
        await server.start()
        print(f"FakeTelegram listening on {server.base_url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop()
        if server.violations:
            print("violations:\n  " + "\n  ".join(server.violations), flush=True)

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
