"""What the fake Telegram knows: users, chats, messages, pending updates, and the Bot API methods.

``TelegramWorld`` is plain synchronous state with no HTTP and no locking; ``server.FakeTelegram``
owns one, guards it with a lock and calls ``call(method, params)`` with parameters already
validated and coerced by ``spec.parse_call``. Failures Telegram would report are raised as
``BotApiError`` carrying the HTTP status and description.

Telegram behaviour kept on purpose:
  - updates wait in a queue until confirmed by ``getUpdates(offset=last_id + 1)``; confirmed
    updates are forgotten, a negative offset keeps only the last ``-offset`` updates;
  - ``allowed_updates`` decides which updates are stored at all (default: everything except
    chat_member, message_reaction and message_reaction_count);
  - message ids count up per chat, shared by the user's and the bot's messages;
  - privacy mode: in groups the bot only sees commands, replies to its messages and mentions
    (and service messages: members joining and leaving);
  - membership: a person who left or was banned cannot post; a bot removed from a group gets
    no more of its updates and sending there is 403; ``my_chat_member`` tells the bot of its
    own status, ``chat_member`` (only when asked for, and only to an administrator bot) of
    everyone else's;
  - editing to the same content is ``message is not modified``; unknown chats, messages,
    callback and inline query ids are 400s; a user who blocked the bot gives 403;
  - ``parse_mode=HTML`` text is parsed strictly (html_entities.py): the message keeps the
    visible text and its entities;
  - forum topics: ``message_thread_id`` must name a topic of a forum supergroup ("message
    thread not found" otherwise); messages in a topic carry it and ``is_topic_message``;
  - polls: sendPoll / stopPoll; a user's vote updates the counts and queues a ``poll`` update
    (the bot gets those for its own polls), plus a ``poll_answer`` when the poll is not
    anonymous; stopping a closed poll is "poll has already been closed".
"""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from devtools.fake_telegram.html_entities import parse_html, strip_entities
from devtools.fake_telegram.objects import (
    GROUP_CHAT_TYPES,
    MEMBER_STATUSES,
    bot_user,
    chat_full_info,
    chat_member,
    chat_member_updated,
    command_entities,
    human_user,
    make_chat,
)
from devtools.fake_telegram.spec import UploadedFile, load_spec, visible_text

DEFAULT_UPDATE_KINDS = frozenset(
    f["name"]
    for f in load_spec().types["Update"]["fields"]
    if f["name"] not in ("update_id", "chat_member", "message_reaction", "message_reaction_count")
)
MAX_UPDATES_PER_CALL = 100
_GONE = ("left", "kicked")  # statuses of someone no longer in a chat
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
# getFile refuses larger files: bots may download up to 20 MB.
MAX_DOWNLOAD_BYTES = 20 * 2**20


class BotApiError(Exception):
    """A Bot API call failed the way Telegram would fail it."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class QueryState:
    """A callback or inline query and the bot's answer to it (``None`` until answered)."""

    update_id: int
    answer: dict[str, Any] | None = None


@dataclass
class PollState:
    """A poll the bot sent: where it is and each voter's chosen options (never shown to the
    bot when the poll is anonymous)."""

    chat_id: int
    message_id: int
    votes: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class TelegramWorld:
    """The fake Telegram's state and the Bot API methods that act on it."""

    bot_username: str = "moviebot_test_bot"
    privacy_mode: bool = True
    bot: dict[str, Any] = field(init=False)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    allowed_updates: frozenset[str] = DEFAULT_UPDATE_KINDS
    webhook: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: list[UploadedFile] = field(default_factory=list)
    file_urls: list[str] = field(default_factory=list)  # photos sent by URL
    files: dict[str, bytes] = field(default_factory=dict)
    file_paths: dict[str, str] = field(default_factory=dict)  # file_path (getFile) -> file_id
    callback_queries: dict[str, QueryState] = field(default_factory=dict)
    inline_queries: dict[str, QueryState] = field(default_factory=dict)
    inline_edits: dict[str, dict[str, Any]] = field(default_factory=dict)
    chat_actions: list[tuple[int, str]] = field(default_factory=list)
    topics: dict[int, set[int]] = field(default_factory=dict)  # forum chat -> thread ids
    polls: dict[str, PollState] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    migrated: dict[int, int] = field(default_factory=dict)  # old group id -> its supergroup
    # Group chat id -> user id (the bot's too) -> "member", "administrator", "left", "kicked"
    # ...; someone who speaks in a group is a member of it.
    members: dict[int, dict[int, str]] = field(default_factory=dict)
    logged_out: bool = False

    def __post_init__(self) -> None:
        self.bot = bot_user(self.bot_username)
        self._update_ids = itertools.count(100_000_001)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._poll_ids = itertools.count(5_100_000_000_000_000_001)

    # ----------------------------------------------------------------- simulated users

    def add_chat(
        self,
        user_id: int,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        username: str | None = None,
        title: str | None = None,
        is_forum: bool = False,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Register (or refresh) a user and a chat they are in; return (user, chat)."""
        old = self.users.get(user_id, {})
        user = human_user(
            user_id,
            first_name or old.get("first_name"),
            username or old.get("username"),
            old.get("language_code"),
        )
        self.users[user_id] = user
        if chat_id is None:
            if chat_type != "private":
                raise ValueError(f"a {chat_type} chat needs an explicit negative chat_id")
            chat_id = user_id
        chat = self.chats.get(chat_id)
        if chat is None or chat["type"] != chat_type or (title and chat.get("title") != title):
            is_forum = is_forum or bool(chat and chat.get("is_forum"))
            chat = make_chat(chat_id, chat_type, user, title, is_forum)
            self.chats[chat_id] = chat
        elif is_forum and not chat.get("is_forum"):
            chat = make_chat(chat_id, chat_type, user, chat.get("title"), True)
            self.chats[chat_id] = chat
        return user, chat

    def create_topic(self, user_id: int, chat_id: int, name: str) -> int:
        """A user creates a topic in forum supergroup ``chat_id`` (made a forum if needed);
        return its message_thread_id (the id of the message that created it, as in Telegram)."""
        user, chat = self.add_chat(user_id, chat_id, "supergroup", is_forum=True)
        thread_id = self._next_message_id(chat["id"])
        self.messages.setdefault(chat["id"], {})[thread_id] = {
            "message_id": thread_id,
            "message_thread_id": thread_id,
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "forum_topic_created": {"name": name, "icon_color": 7322096},
            "is_topic_message": True,
        }
        self.topics.setdefault(chat["id"], set()).add(thread_id)
        return thread_id

    def vote(
        self, user_id: int, chat_id: int, message_id: int, option_ids: list[int]
    ) -> int | None:
        """A user votes in the bot's poll (an empty list retracts the vote); return the
        update_id of the ``poll`` update that follows."""
        message = self.find_message(chat_id, message_id)
        poll = message.get("poll")
        if poll is None or message.get("from", {}).get("id") != self.bot["id"]:
            raise ValueError(f"message {message_id} in chat {chat_id} is not a poll of the bot")
        if poll["is_closed"]:
            raise ValueError(f"poll {poll['id']} is closed")
        if len(option_ids) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError("this poll takes one answer")
        if any(not 0 <= i < len(poll["options"]) for i in option_ids):
            raise ValueError(f"poll {poll['id']} has no option among {option_ids}")
        user = self.users.get(user_id) or self.add_chat(user_id)[0]
        state = self.polls[poll["id"]]
        state.votes[user_id] = list(option_ids)
        if not option_ids:
            del state.votes[user_id]
        self._count_votes(poll, state)
        update_id = self.push_update("poll", poll)
        if not poll["is_anonymous"]:
            self.push_update(
                "poll_answer",
                {
                    "poll_id": poll["id"],
                    "user": user,
                    "option_ids": list(option_ids),
                    "option_persistent_ids": [
                        poll["options"][i]["persistent_id"] for i in option_ids
                    ],
                },
            )
        return update_id

    def set_language(self, user_id: int, language_code: str) -> None:
        """The user's Telegram app is set to `language_code` from now on."""
        self.add_chat(user_id)
        self.users[user_id]["language_code"] = language_code

    def user_message(
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
        """A user sends ``text`` (in forum topic ``message_thread_id``); return the update_id,
        or None if the bot may not see it."""
        user, chat = self.add_chat(user_id, chat_id, chat_type, first_name, username, title)
        if chat["type"] in GROUP_CHAT_TYPES:
            status = self.members.setdefault(chat["id"], {}).setdefault(user_id, "member")
            if status in _GONE:
                raise ValueError(f"user {user_id} is {status} from chat {chat['id']}: not a member")
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if message_thread_id is not None:
            if message_thread_id not in self.topics.get(chat["id"], set()):
                raise ValueError(f"chat {chat['id']} has no topic {message_thread_id}")
            message["message_thread_id"] = message_thread_id
            message["is_topic_message"] = True

        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        replied = None
        if reply_to_message_id is not None:
            replied = _without_reply(self.find_message(chat["id"], reply_to_message_id))
            message["reply_to_message"] = replied
        self.messages.setdefault(chat["id"], {})[message["message_id"]] = message
        if not self._bot_sees(chat, text, entities, replied):
            return None
        return self.push_update("message", message)

    def user_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str | None,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        username: str | None = None,
    ) -> int | None:
        """A user sends a file; return the update_id, or None if the bot may not see it."""
        user, chat = self.add_chat(user_id, chat_id, chat_type, first_name, username)
        file_id = f"BQAC{next(self._file_ids):06d}"
        self.files[file_id] = data
        document: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"{file_id}-u",
            "file_size": len(data),
        }
        if file_name is not None:
            document["file_name"] = file_name
        if mime_type is not None:
            document["mime_type"] = mime_type
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "document": document,
        }
        entities = command_entities(caption or "")
        if caption:
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
        self.messages.setdefault(chat["id"], {})[message["message_id"]] = message
        if not self._bot_sees(chat, caption or "", entities, None):
            return None
        return self.push_update("message", message)

    def tap(
        self, user_id: int, chat_id: int, message_id: int, callback_data: str, forged: bool = False
    ) -> int | None:
        """A user taps the inline button with ``callback_data``; return the update_id.
        ``forged``: a modified client sends data no button of the message carries."""
        message = self.find_message(chat_id, message_id)
        buttons = [
            button
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        ]
        if not forged and not any(b.get("callback_data") == callback_data for b in buttons):
            offered = [b.get("callback_data") for b in buttons]
            raise ValueError(
                f"message {message_id} in chat {chat_id} has no button with callback_data "
                f"{callback_data!r}; its buttons carry {offered}"
            )
        user = self.users.get(user_id) or self.add_chat(user_id)[0]
        query_id = str(next(self._query_ids))
        update_id = self.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": str(abs(chat_id) * 7919 % 10**12),
                "data": callback_data,
            },
        )
        if update_id is not None:
            self.callback_queries[query_id] = QueryState(update_id)
        return update_id

    def inline_query(
        self, user_id: int, query: str, offset: str = "", chat_type: str | None = "sender"
    ) -> int | None:
        """A user types ``@bot query``; return the update_id."""
        user = self.users.get(user_id) or self.add_chat(user_id)[0]
        query_id = str(next(self._query_ids))
        payload: dict[str, Any] = {"id": query_id, "from": user, "query": query, "offset": offset}
        if chat_type:
            payload["chat_type"] = chat_type
        update_id = self.push_update("inline_query", payload)
        if update_id is not None:
            self.inline_queries[query_id] = QueryState(update_id)
        return update_id

    def chosen_inline_result(
        self, user_id: int, result_id: str, query: str, inline_message_id: str | None = None
    ) -> int | None:
        """A user picks inline result ``result_id`` (needs inline feedback enabled)."""
        user = self.users.get(user_id) or self.add_chat(user_id)[0]
        payload: dict[str, Any] = {"result_id": result_id, "from": user, "query": query}
        if inline_message_id:
            payload["inline_message_id"] = inline_message_id
        return self.push_update("chosen_inline_result", payload)

    # ----------------------------------------------------------------- membership

    def member_joins(
        self,
        user_id: int,
        chat_id: int,
        chat_type: str = "group",
        first_name: str | None = None,
        title: str | None = None,
    ) -> list[int]:
        """A user joins a group: the new_chat_members service message, and a chat_member
        update for an administrator bot. Returns the ids of the updates the bot gets."""
        user, chat = self.add_chat(user_id, chat_id, chat_type, first_name, title=title)
        old = self._set_status(chat, user, "member")
        service = {"new_chat_members": [user]}
        return self._membership_updates(chat, user, user, old, "member", service)

    def member_leaves(
        self,
        user_id: int,
        chat_id: int,
        removed_by: int | None = None,
        service_message: bool = True,
    ) -> list[int]:
        """A user leaves a group (or the member `removed_by` bans them): the left_chat_member
        service message (unless `service_message` is False: a big supergroup, or one that
        hides them), and a chat_member update ("left" or "kicked") for an administrator bot.
        Returns the ids of the updates the bot gets."""
        chat = self._chat(chat_id)
        if chat["type"] not in GROUP_CHAT_TYPES:
            raise ValueError(f"chat {chat_id} is a {chat['type']} chat, not a group")
        user = self.users.get(user_id) or self.add_chat(user_id)[0]
        performer = user if removed_by is None else self.users[removed_by]
        status = "left" if removed_by is None else "kicked"
        if self.member_status(chat_id, user_id) in _GONE:
            raise ValueError(f"user {user_id} is not a member of chat {chat_id}")
        old = self._set_status(chat, user, status)
        service = {"left_chat_member": user} if service_message else None
        return self._membership_updates(chat, performer, user, old, status, service)

    def set_bot_status(self, chat_id: int, status: str, by_user_id: int) -> int | None:
        """`by_user_id` changes the bot's status in a group: "administrator" (promoted),
        "member", "left" or "kicked" (removed). Returns the my_chat_member update's id; a bot
        that is out of the group gets nothing more from it."""
        chat = self._chat(chat_id)
        if chat["type"] not in GROUP_CHAT_TYPES:
            raise ValueError(f"chat {chat_id} is a {chat['type']} chat (blocking: block())")
        performer = self.users[by_user_id]
        old = self._set_status(chat, self.bot, status)
        update = chat_member_updated(
            chat,
            performer,
            chat_member(self.bot, old),
            chat_member(self.bot, status),
            int(time.time()),
        )
        return self.push_update("my_chat_member", update)

    def migrate_to_supergroup(self, chat_id: int, new_chat_id: int, by_user_id: int) -> list[int]:
        """`by_user_id` upgrades group `chat_id` to supergroup `new_chat_id`, as Telegram does:
        a service message with ``migrate_to_chat_id`` in the old group and one with
        ``migrate_from_chat_id`` in the new supergroup; members (the bot too) move along, and
        sending to the old id answers 400 with ``migrate_to_chat_id``. Returns the update ids."""
        old = self._chat(chat_id)
        if old["type"] != "group":
            raise ValueError(f"chat {chat_id} is a {old['type']} chat, not a basic group")
        performer = self.users[by_user_id]
        new = make_chat(new_chat_id, "supergroup", performer, old.get("title"), False)
        self.chats[new_chat_id] = new
        self.members[new_chat_id] = dict(self.members.get(chat_id, {}))
        self.migrated[chat_id] = new_chat_id
        now, ids = int(time.time()), []
        for chat, service in (
            (old, {"migrate_to_chat_id": new_chat_id}),
            (new, {"migrate_from_chat_id": chat_id}),
        ):
            message = {
                "message_id": self._next_message_id(chat["id"]),
                "from": performer,
                "chat": chat,
                "date": now,
                **service,
            }
            self.messages.setdefault(chat["id"], {})[message["message_id"]] = message
            ids.append(self.push_update("message", message))
        return [update_id for update_id in ids if update_id is not None]

    def member_status(self, chat_id: int, user_id: int) -> str:
        """A user's (or the bot's) status in a chat; "member" until something changed it."""
        return self.members.get(chat_id, {}).get(user_id, "member")

    def _set_status(self, chat: dict[str, Any], user: dict[str, Any], status: str) -> str:
        """Set the user's status in the chat; return the one it replaces."""
        statuses = self.members.setdefault(chat["id"], {})
        old = statuses.get(user["id"], "left" if status == "member" else "member")
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}, got {status!r}")
        statuses[user["id"]] = status
        return old

    def _membership_updates(
        self,
        chat: dict[str, Any],
        performer: dict[str, Any],
        user: dict[str, Any],
        old: str,
        new: str,
        service: dict[str, Any] | None,
    ) -> list[int]:
        """The service message (every bot in the group gets it) and the chat_member update
        (only an administrator bot, and only when it asked for chat_member)."""
        if self.member_status(chat["id"], self.bot["id"]) in _GONE:
            return []
        now = int(time.time())
        ids = []
        if service is not None:
            message = {
                "message_id": self._next_message_id(chat["id"]),
                "from": performer,
                "chat": chat,
                "date": now,
                **service,
            }
            self.messages.setdefault(chat["id"], {})[message["message_id"]] = message
            ids.append(self.push_update("message", message))
        if self.member_status(chat["id"], self.bot["id"]) == "administrator":
            change = chat_member_updated(
                chat, performer, chat_member(user, old), chat_member(user, new), now
            )
            ids.append(self.push_update("chat_member", change))
        return [update_id for update_id in ids if update_id is not None]

    # ----------------------------------------------------------------- updates

    def push_update(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update unless ``allowed_updates`` excludes its kind; return its id."""
        if kind not in self.allowed_updates:
            return None
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        return update_id

    def restart_update_ids(self, start: int) -> None:
        """Number the next updates from ``start``, as Telegram does (at random) once a bot
        has not asked for updates for a week: ids it used before come again."""
        self._update_ids = itertools.count(start)

    def take_updates(self, offset: int | None, limit: int | None) -> list[dict[str, Any]]:
        """Apply ``offset`` (confirming older updates for good) and return up to ``limit``."""
        if offset is not None and offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset is not None and offset < 0:
            self.updates = self.updates[offset:]
        count = min(max(limit or MAX_UPDATES_PER_CALL, 1), MAX_UPDATES_PER_CALL)
        return self.updates[:count]

    def set_allowed_updates(self, kinds: list[str] | None) -> None:
        """Remember ``allowed_updates`` from getUpdates/setWebhook (empty list = the default)."""
        if kinds is not None:
            self.allowed_updates = frozenset(kinds) or DEFAULT_UPDATE_KINDS

    # ----------------------------------------------------------------- lookups

    def find_message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """Return the current state of a message, or raise BotApiError like Telegram."""
        message = self.messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise BotApiError(400, "Bad Request: message not found")
        return message

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent to ``chat_id`` that still exist, oldest first, edits applied."""
        return [
            m
            for m in self.messages.get(chat_id, {}).values()
            if m.get("from", {}).get("id") == self.bot["id"]
        ]

    # ----------------------------------------------------------------- Bot API methods

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """Run Bot API ``method`` with validated params and return its ``result``."""
        if self.logged_out and method != "logOut":
            raise BotApiError(401, "Unauthorized")
        handler = getattr(self, f"_api_{method}", None)
        if handler is not None:
            return handler(params)
        if load_spec().methods[method]["returns"] == ["Boolean"]:
            return True
        raise BotApiError(
            501, f"Not Implemented: {method} is not simulated by devtools/fake_telegram/world.py"
        )

    def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self.bot

    def _api_logOut(self, params: dict[str, Any]) -> Any:
        self.logged_out = True
        return True

    def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        if not params["url"]:
            return self._api_deleteWebhook(params)
        self.webhook = dict(params)
        self.set_allowed_updates(params.get("allowed_updates"))
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": "certificate" in self.webhook,
            "pending_update_count": len(self.updates),
        }
        for key in ("max_connections", "ip_address"):
            if key in self.webhook:
                info[key] = self.webhook[key]
        if "allowed_updates" in self.webhook:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands[_commands_key(params)] = params["commands"]
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(_commands_key(params), [])

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(_commands_key(params), None)
        return True

    def _api_getChat(self, params: dict[str, Any]) -> Any:
        return chat_full_info(self._chat(params["chat_id"]))

    def _api_getChatMember(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        user_id = params["user_id"]
        user = self.bot if user_id == self.bot["id"] else self.users.get(user_id)
        if user is None:
            raise BotApiError(400, "Bad Request: user not found")
        return chat_member(user, self.member_status(chat["id"], user_id))

    def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        chat = self._writable_chat(params["chat_id"])
        self._check_thread(chat, params)
        self.chat_actions.append((chat["id"], params["action"]))
        return True

    def _api_sendPoll(self, params: dict[str, Any]) -> Any:
        chat = self._writable_chat(params["chat_id"])
        if chat["type"] == "channel" and params.get("is_anonymous") is False:
            raise BotApiError(
                400, "Bad Request: non-anonymous polls can't be sent to channel chats"
            )
        options = params["options"]
        if not 2 <= len(options) <= 12:
            raise BotApiError(400, "Bad Request: poll must have 2-12 options")
        texts = [visible_text(o["text"], o.get("text_parse_mode")) for o in options]
        if any(not 1 <= len(text) <= 100 for text in texts):
            raise BotApiError(400, "Bad Request: poll options length must not exceed 100")
        question = visible_text(params["question"], params.get("question_parse_mode"))
        if not 1 <= len(question) <= 300:
            raise BotApiError(400, "Bad Request: poll question length must not exceed 300")
        message = self._new_bot_message(chat, params)
        poll_id = str(next(self._poll_ids))
        message["poll"] = {
            "id": poll_id,
            "question": question,
            "options": [
                {"persistent_id": f"{poll_id}-{i}", "text": text, "voter_count": 0}
                for i, text in enumerate(texts)
            ],
            "total_voter_count": 0,
            "is_closed": bool(params.get("is_closed", False)),
            "is_anonymous": params.get("is_anonymous", True),
            "type": params.get("type", "regular"),
            "allows_multiple_answers": params.get("allows_multiple_answers", False),
            "allows_revoting": params.get("allows_revoting", True),
            "members_only": params.get("members_only", False),
        }
        self.polls[poll_id] = PollState(chat["id"], message["message_id"])
        return message

    def _api_stopPoll(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        message = self.messages.get(chat["id"], {}).get(params["message_id"])
        if message is None:
            raise BotApiError(400, "Bad Request: message to stop poll not found")
        if "poll" not in message or message.get("from", {}).get("id") != self.bot["id"]:
            raise BotApiError(400, "Bad Request: message with poll to stop not found")
        poll = message["poll"]
        if poll["is_closed"]:
            raise BotApiError(400, "Bad Request: poll has already been closed")
        poll["is_closed"] = True
        markup = params.get("reply_markup")
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        self.push_update("poll", poll)
        return copy.deepcopy(poll)

    def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._writable_chat(params["chat_id"])
        message = self._new_bot_message(chat, params)
        message["text"], entities = _parsed(params["text"], params.get("parse_mode"))
        entities = params.get("entities") or entities
        if entities:
            message["entities"] = entities
        return message

    def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat = self._writable_chat(params["chat_id"])
        message = self._new_bot_message(chat, params)
        file_id, size = self._store_file(params["photo"])
        message["photo"] = [
            {
                "file_id": f"{file_id}-{side}",
                "file_unique_id": f"{file_id}-{side}-u",
                "width": side,
                "height": side,
                "file_size": size,
            }
            for side in (90, 320, 800)
        ]
        self._set_caption(message, params)
        return message

    def _api_getFile(self, params: dict[str, Any]) -> Any:
        file_id = params["file_id"]
        data = self.files.get(file_id)
        if data is None:
            raise BotApiError(400, "Bad Request: invalid file_id")
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise BotApiError(400, "Bad Request: file is too big")
        path = next((p for p, f in self.file_paths.items() if f == file_id), None)
        if path is None:
            path = f"documents/file_{len(self.file_paths) + 1}"
            self.file_paths[path] = file_id
        return {
            "file_id": file_id,
            "file_unique_id": f"{file_id}-u",
            "file_size": len(data),
            "file_path": path,
        }

    def download(self, file_path: str) -> bytes:
        """The bytes behind a file_path that getFile handed out (the download route)."""
        file_id = self.file_paths.get(file_path)
        if file_id is None:
            raise BotApiError(404, "Not Found")
        return self.files[file_id]

    def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        chat = self._writable_chat(params["chat_id"])
        message = self._new_bot_message(chat, params)
        file_id, size = self._store_file(params["document"])
        document = params["document"]
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": f"{file_id}-u",
            "file_size": size,
        }
        if isinstance(document, UploadedFile):
            message["document"]["file_name"] = document.filename
            message["document"]["mime_type"] = document.content_type
        self._set_caption(message, params)
        return message

    def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        text, entities = _parsed(params["text"], params.get("parse_mode"))
        entities = params.get("entities") or entities
        return self._edit(params, "text", text, params.get("reply_markup"), entities)

    def _api_editMessageCaption(self, params: dict[str, Any]) -> Any:
        caption = visible_text(params.get("caption", ""), params.get("parse_mode"))
        return self._edit(params, "caption", caption, params.get("reply_markup"))

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return self._edit(params, None, None, params.get("reply_markup"))

    def _api_deleteMessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        if self.messages.get(chat["id"], {}).pop(params["message_id"], None) is None:
            raise BotApiError(400, "Bad Request: message to delete not found")
        return True

    def _api_deleteMessages(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        for message_id in params["message_ids"]:
            self.messages.get(chat["id"], {}).pop(message_id, None)
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self._answer(self.callback_queries, params["callback_query_id"], params)
        return True

    def _api_answerInlineQuery(self, params: dict[str, Any]) -> Any:
        self._answer(self.inline_queries, params["inline_query_id"], params)
        return True

    # ----------------------------------------------------------------- helpers

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _bot_sees(
        self,
        chat: dict[str, Any],
        text: str,
        entities: list[dict[str, Any]],
        replied: dict[str, Any] | None,
    ) -> bool:
        """Privacy mode: in groups only commands, replies to the bot and mentions get through;
        nothing does once the bot is out of the group."""
        if (
            chat["type"] in GROUP_CHAT_TYPES
            and self.member_status(chat["id"], self.bot["id"]) in _GONE
        ):
            return False
        if chat["type"] not in GROUP_CHAT_TYPES or not self.privacy_mode:
            return True
        mention = f"@{self.bot_username}".lower()
        if replied is not None and replied.get("from", {}).get("id") == self.bot["id"]:
            return True
        if mention in text.lower():
            return True
        for entity in entities:
            token = text.encode("utf-16-le")[
                2 * entity["offset"] : 2 * (entity["offset"] + entity["length"])
            ].decode("utf-16-le")
            if "@" not in token or token.lower().endswith(mention):
                return True
        return False

    def _chat(self, chat_id: int | str) -> dict[str, Any]:
        if isinstance(chat_id, str):
            wanted = chat_id.lstrip("@").lower()
            for chat in self.chats.values():
                if chat.get("username", "").lower() == wanted:
                    return chat
            raise BotApiError(400, "Bad Request: chat not found")
        chat = self.chats.get(chat_id)
        if chat is None:
            raise BotApiError(400, "Bad Request: chat not found")
        return chat

    def _writable_chat(self, chat_id: int | str) -> dict[str, Any]:
        chat = self._chat(chat_id)
        if chat["id"] in self.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        if chat["id"] in self.migrated:
            raise BotApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat["id"]]},
            )
        status = self.member_status(chat["id"], self.bot["id"])
        if status == "kicked":
            raise BotApiError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
        if status == "left":
            raise BotApiError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")
        return chat

    def _check_thread(self, chat: dict[str, Any], params: dict[str, Any]) -> int | None:
        """The topic a send names, which must exist in a forum (Telegram's 400 otherwise)."""
        thread = params.get("message_thread_id")
        if thread is None:
            return None
        if not chat.get("is_forum") or thread not in self.topics.get(chat["id"], set()):
            raise BotApiError(400, "Bad Request: message thread not found")
        return thread

    def _count_votes(self, poll: dict[str, Any], state: PollState) -> None:
        for option in poll["options"]:
            option["voter_count"] = 0
        for chosen in state.votes.values():
            for i in chosen:
                poll["options"][i]["voter_count"] += 1
        poll["total_voter_count"] = len(state.votes)

    def _new_bot_message(self, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        thread = self._check_thread(chat, params)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.bot,
            "chat": chat,
            "date": int(time.time()),
        }
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        markup = params.get("reply_markup")
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        reply = params.get("reply_parameters")
        if reply:
            target = self.messages.get(chat["id"], {}).get(reply["message_id"])
            if target is not None:
                message["reply_to_message"] = _without_reply(target)
            elif not reply.get("allow_sending_without_reply"):
                raise BotApiError(400, "Bad Request: message to be replied not found")
        self.messages.setdefault(chat["id"], {})[message["message_id"]] = message
        return message

    def _store_file(self, value: UploadedFile | str) -> tuple[str, int]:
        """Keep an uploaded file's bytes; a String is an existing file_id or an HTTP URL
        (Telegram fetches only http and https URLs, and refuses any other scheme)."""
        file_id = f"AgAD{next(self._file_ids):06d}"
        if isinstance(value, UploadedFile):
            self.uploads.append(value)
            self.files[file_id] = value.data
            return file_id, len(value.data)
        if "://" in value or value.startswith(("http:", "https:")):
            url = urlsplit(value)
            if url.scheme not in ("http", "https") or not url.hostname or " " in value:
                raise BotApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            self.file_urls.append(value)
        return file_id, 0

    def _set_caption(self, message: dict[str, Any], params: dict[str, Any]) -> None:
        if params.get("caption"):
            message["caption"], entities = _parsed(params["caption"], params.get("parse_mode"))
            if entities := params.get("caption_entities") or entities:
                message["caption_entities"] = entities

    def _edit(
        self,
        params: dict[str, Any],
        content_field: str | None,
        content: str | None,
        markup: dict[str, Any] | None,
        entities: list[dict[str, Any]] | None = None,
    ) -> Any:
        """Apply an edit; an inline message edit answers True like Telegram."""
        if "inline_message_id" in params:
            self.inline_edits[params["inline_message_id"]] = dict(params)
            return True
        if "chat_id" not in params or "message_id" not in params:
            raise BotApiError(400, "Bad Request: message identifier is not specified")
        chat = self._chat(params["chat_id"])
        message = self.messages.get(chat["id"], {}).get(params["message_id"])
        if message is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot["id"]:
            raise BotApiError(400, "Bad Request: message can't be edited")
        if content_field == "text" and "text" not in message:
            raise BotApiError(400, "Bad Request: there is no text in the message to edit")
        if content_field == "caption" and "text" in message:
            raise BotApiError(400, "Bad Request: there is no caption in the message to edit")
        new_markup = markup if markup and "inline_keyboard" in markup else None
        same_content = content_field is None or (
            message.get(content_field, "") == content
            and (content_field != "text" or message.get("entities", []) == (entities or []))
        )
        if same_content and message.get("reply_markup") == new_markup:
            raise BotApiError(400, NOT_MODIFIED)
        if content_field is not None:
            message[content_field] = content
        if content_field == "text":
            if entities:
                message["entities"] = entities
            else:
                message.pop("entities", None)
        if new_markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        return message

    def _answer(
        self, queries: dict[str, QueryState], query_id: str, params: dict[str, Any]
    ) -> None:
        state = queries.get(query_id)
        if state is None or state.answer is not None:
            raise BotApiError(400, QUERY_TOO_OLD)
        state.answer = dict(params)


def _parsed(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """A message's text as Telegram stores it (markup parsed, whitespace trimmed) and its
    entities (HTML only; spec.markup_errors refused unparsable HTML before this)."""
    if (parse_mode or "").lower() == "html":
        return strip_entities(*parse_html(text))
    return visible_text(text, parse_mode).strip(), []


def _without_reply(message: dict[str, Any]) -> dict[str, Any]:
    """Copy a message for ``reply_to_message``, which Telegram never nests further."""
    return {key: value for key, value in message.items() if key != "reply_to_message"}


def _commands_key(params: dict[str, Any]) -> str:
    scope = params.get("scope") or {"type": "default"}
    parts = [scope["type"], str(scope.get("chat_id", "")), str(scope.get("user_id", ""))]
    return "/".join([*parts, params.get("language_code", "")])
