"""Build the Telegram objects (User, Chat, Message, MessageEntity ...) the fake server returns.

Everything here is plain JSON-ready dicts shaped as in the Bot API spec, so
``telegram.Update.de_json`` parses them and ``spec.validate_object`` accepts them.
"""

from __future__ import annotations

import re
from typing import Any

BOT_ID = 7_000_000_001
BOT_USERNAME = "moviebot_test_bot"
BOT_FIRST_NAME = "MovieBot (test)"

_COMMAND_TOKEN = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")

GROUP_CHAT_TYPES = ("group", "supergroup")
CHAT_TYPES = ("private", "channel", *GROUP_CHAT_TYPES)


def bot_user(username: str = BOT_USERNAME, bot_id: int = BOT_ID) -> dict[str, Any]:
    """Return the bot's own User object as getMe reports it."""
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": BOT_FIRST_NAME,
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": True,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def human_user(
    user_id: int,
    first_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
) -> dict[str, Any]:
    """Return a User object for a simulated person (their Telegram app in English unless
    `language_code` says otherwise)."""
    user: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name or f"User{user_id}",
        "language_code": language_code or "en",
    }
    if username:
        user["username"] = username
    return user


def make_chat(
    chat_id: int,
    chat_type: str,
    user: dict[str, Any],
    title: str | None = None,
    is_forum: bool = False,
) -> dict[str, Any]:
    """Return a Chat object: private chats carry the user's names, groups a title; a forum
    is a supergroup with topics."""
    if chat_type not in CHAT_TYPES:
        raise ValueError(f"chat_type must be one of {CHAT_TYPES}, got {chat_type!r}")
    if chat_type == "private":
        if chat_id <= 0:
            raise ValueError(f"a private chat id is the user's id (> 0), got {chat_id}")
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return chat
    if chat_id >= 0:
        raise ValueError(f"group and channel chat ids are negative, got {chat_id}")
    chat = {"id": chat_id, "type": chat_type, "title": title or f"Test {chat_type} {chat_id}"}
    if is_forum:
        if chat_type != "supergroup":
            raise ValueError(f"only a supergroup can be a forum, not a {chat_type}")
        chat["is_forum"] = True
    return chat


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of MessageEntity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """Return bot_command entities for each ``/cmd`` or ``/cmd@bot`` token, as Telegram marks."""
    entities = []
    for match in _COMMAND_TOKEN.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities


def chat_full_info(chat: dict[str, Any]) -> dict[str, Any]:
    """Return a ChatFullInfo for getChat with every field the spec requires."""
    return {
        **chat,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


# What an administrator may do, as ChatMemberAdministrator lists it (the bot made an admin by
# the group's owner: it may read members' changes, chat_member updates, and nothing unusual).
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": False,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
# A restricted member's rights (ChatMemberRestricted: every one required): may only read.
_RESTRICTED_RIGHTS = {
    name: False
    for name in [
        "can_send_messages",
        "can_send_audios",
        "can_send_documents",
        "can_send_photos",
        "can_send_videos",
        "can_send_video_notes",
        "can_send_voice_notes",
        "can_send_polls",
        "can_send_other_messages",
        "can_add_web_page_previews",
        "can_react_to_messages",
        "can_edit_tag",
        "can_change_info",
        "can_invite_users",
        "can_pin_messages",
        "can_manage_topics",
    ]
}


def chat_member(user: dict[str, Any], status: str, is_member: bool = True) -> dict[str, Any]:
    """Return a ChatMember of the given status ("member", "left", "kicked", ...); a
    "restricted" one is still in the chat unless `is_member` is False."""
    if status not in MEMBER_STATUSES:
        raise ValueError(f"status must be one of {MEMBER_STATUSES}, got {status!r}")
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "administrator":
        member.update(_ADMIN_RIGHTS)
    elif status == "creator":
        member["is_anonymous"] = False
    elif status == "kicked":
        member["until_date"] = 0  # banned for good
    elif status == "restricted":
        member.update(_RESTRICTED_RIGHTS, is_member=is_member, until_date=0)
    return member


def chat_member_updated(
    chat: dict[str, Any],
    performer: dict[str, Any],
    old: dict[str, Any],
    new: dict[str, Any],
    date: int,
) -> dict[str, Any]:
    """Return a ChatMemberUpdated: `performer` changed a member from `old` to `new`."""
    return {
        "chat": chat,
        "from": performer,
        "date": date,
        "old_chat_member": old,
        "new_chat_member": new,
    }
