"""Group chats: who opted in to the chat's pool for shared recommendations, and moving a
group's rows to its new id when Telegram upgrades it to a supergroup."""

from __future__ import annotations

from sqlite_utils import Database

from storage.db import utc_now
from storage.users import require_user
from storage.validate import check_id


def join_pool(db: Database, chat_id: int, user_id: int) -> bool:
    """Add the user to the chat's pool; return False if they were already in it."""
    check_id(chat_id, "chat id")
    check_id(user_id, "user id")
    with db.atomic():
        require_user(db, user_id)
        cursor = db.execute(
            "INSERT OR IGNORE INTO chat_members (chat_id, user_id, joined_at) VALUES (?, ?, ?)",
            [chat_id, user_id, utc_now()],
        )
    return cursor.rowcount > 0


def leave_pool(db: Database, chat_id: int, user_id: int) -> bool:
    """Take the user out of the chat's pool; return False if they were not in it."""
    check_id(chat_id, "chat id")
    check_id(user_id, "user id")
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM chat_members WHERE chat_id = ? AND user_id = ?", [chat_id, user_id]
        )
    return cursor.rowcount > 0


def drop_pool(db: Database, chat_id: int) -> int:
    """Empty the chat's pool (the bot was removed from the chat); return how many left it."""
    check_id(chat_id, "chat id")
    with db.atomic():
        cursor = db.execute("DELETE FROM chat_members WHERE chat_id = ?", [chat_id])
    return cursor.rowcount


def move_chat(db: Database, old_chat_id: int, new_chat_id: int) -> int:
    """Move everything kept under a group's id to its new id (Telegram upgraded the group to
    a supergroup: the old id is dead): the pool, the "rate privately" invite, the movie nights.
    Rows the new id already has win; returns how many pool members moved. Doing it twice (both
    service messages arrive) changes nothing the second time."""
    check_id(old_chat_id, "chat id")
    check_id(new_chat_id, "chat id")
    if old_chat_id == new_chat_id:
        return 0
    with db.atomic():
        cursor = db.execute(
            """
            INSERT OR IGNORE INTO chat_members (chat_id, user_id, joined_at)
            SELECT ?, user_id, joined_at FROM chat_members WHERE chat_id = ?
            """,
            [new_chat_id, old_chat_id],
        )
        db.execute("DELETE FROM chat_members WHERE chat_id = ?", [old_chat_id])
        # The invite's token stays the same, so links already shared keep working.
        db.execute(
            "UPDATE OR IGNORE group_invites SET chat_id = ? WHERE chat_id = ?",
            [new_chat_id, old_chat_id],
        )
        db.execute("DELETE FROM group_invites WHERE chat_id = ?", [old_chat_id])
        db.execute(
            "UPDATE movie_nights SET chat_id = ? WHERE chat_id = ?", [new_chat_id, old_chat_id]
        )
    return cursor.rowcount


def pool_members(db: Database, chat_id: int) -> list[tuple[int, str | None]]:
    """(user id, display name) of everyone in the chat's pool, in the order they joined."""
    check_id(chat_id, "chat id")
    return db.execute(
        """
        SELECT u.id, u.display_name FROM chat_members c JOIN users u ON u.id = c.user_id
        WHERE c.chat_id = ? ORDER BY c.joined_at, u.id
        """,
        [chat_id],
    ).fetchall()
