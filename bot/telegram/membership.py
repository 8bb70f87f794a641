"""Group membership as Telegram reports it: whoever is out of a group is out of its pool.

Three updates say someone is no longer in a group (bot/telegram/app.py routes them here):

- a ``left_chat_member`` service message (every bot in the group gets it, privacy mode or not);
- ``chat_member`` with the member's new status left or kicked (only an administrator bot that
  asks for chat_member updates gets these; big groups may send no service message);
- ``my_chat_member`` with the bot's own new status left or kicked: the bot was removed, so the
  whole pool goes (nothing about that group can be shown again anyway).

And one says the group has a new id: a ``migrate_to_chat_id`` service message in the old group
(``migrate_from_chat_id`` in the new supergroup): its pool, invite and movie nights move to the
new id (`chat_migrated`).

None is answered (Telegram itself shows "Ann left the group"): the pool change is the effect,
committed with the update's empty answer like every other update's (bot/telegram/delivery.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlite_utils import Database
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.commands.conversation import Chat, Sender
from bot.ui.replies import Outcome
from storage import chats, movienight

if TYPE_CHECKING:
    from bot.telegram.delivery import BotRuntime

log = logging.getLogger(__name__)

# ChatMember statuses of someone no longer in the chat.
GONE = frozenset({"left", "kicked"})


def is_gone(status: str, is_member: bool | None = None) -> bool:
    """Whether a ChatMember's status says they are out of the chat: left, banned, or
    restricted and no longer a member."""
    return status in GONE or (status == "restricted" and is_member is False)


def member_left(db: Database, chat_id: int, user_id: int) -> Outcome:
    """Take a member who left (or was removed from) the group out of its pool, and rotate the
    group's invite: a link they kept no longer joins anyone."""
    chats.leave_pool(db, chat_id, user_id)
    movienight.revoke_invite(db, chat_id)
    return Outcome()


def bot_removed(db: Database, chat_id: int) -> Outcome:
    """Drop the pool and the invite of a group the bot was removed from."""
    movienight.revoke_invite(db, chat_id)
    dropped = chats.drop_pool(db, chat_id)
    if dropped:
        log.info("removed from chat %d: its pool of %d dropped", chat_id, dropped)
    return Outcome()


def chat_migrated(db: Database, old_chat_id: int, new_chat_id: int) -> Outcome:
    """Move a group's pool (and invite, movie nights) to the supergroup it became."""
    moved = chats.move_chat(db, old_chat_id, new_chat_id)
    if moved:
        log.info("chat %d became %d: its pool of %d moved", old_chat_id, new_chat_id, moved)
    return Outcome()


async def checked_status(
    bot: Bot, rt: BotRuntime, sender: Sender, chat: Chat, text: str
) -> str | None:
    """The sender's status in the group the command in `text` depends on
    (Conversation.membership_target: a "rate privately" link, /invite), asked of Telegram;
    None when the command depends on none, or Telegram did not answer (the command says so).

    "user not found", "chat not found" or the bot no longer in the group mean not in it:
    "left"; so does a restricted user who is no longer a member."""
    if not rt.conversation.depends_on_membership(text):
        return None  # most messages: no trip to the database thread
    target = await rt.run(rt.conversation.membership_target, chat, text)
    if target is None:
        return None
    try:
        member = await bot.get_chat_member(target, sender.user_id)
    except (BadRequest, Forbidden) as error:
        log.info("membership in chat %d not confirmed (%s)", target, type(error).__name__)
        return "left"
    except TelegramError as error:
        log.warning("membership in chat %d not checked (%s)", target, type(error).__name__)
        return None
    if is_gone(member.status, getattr(member, "is_member", None)):
        return "left" if member.status == "restricted" else member.status
    return member.status
