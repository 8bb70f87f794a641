"""The update journal: Telegram updates, durable before they are confirmed, done once answered.

An update's life: `record_updates` (before the next getUpdates confirms it to Telegram) ->
`save_outcome` (the answer, committed together with its effects) -> `mark_delivered` per step
sent -> `mark_done`. Whatever is not done when the bot stops is picked up by
`unfinished_updates` on the next start.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlite_utils import Database

from storage.db import utc_now
from storage.validate import check_id


@dataclass(frozen=True)
class JournalEntry:
    update_id: int
    payload: str
    outcome: str | None
    delivered: int
    attempts: int
    done: bool


_COLUMNS = "update_id, payload, outcome, delivered, attempts, done_at IS NOT NULL"


def record_updates(db: Database, updates: Iterable[tuple[int, str]]) -> int:
    """Store (update_id, payload JSON) pairs durably; ones already stored are left alone.
    Returns how many were new."""
    rows = [
        (check_id(update_id, "update id"), payload, utc_now()) for update_id, payload in updates
    ]
    with db.atomic():
        before = db.execute("SELECT total_changes()").fetchone()[0]
        db.conn.executemany(
            "INSERT OR IGNORE INTO updates (update_id, payload, received_at) VALUES (?, ?, ?)",
            rows,
        )
        return db.execute("SELECT total_changes()").fetchone()[0] - before


def get_entry(db: Database, update_id: int) -> JournalEntry | None:
    check_id(update_id, "update id")
    row = db.execute(f"SELECT {_COLUMNS} FROM updates WHERE update_id = ?", [update_id]).fetchone()
    return JournalEntry(*row[:5], bool(row[5])) if row else None


def save_outcome(db: Database, update_id: int, outcome: str) -> None:
    """Store the answer; call inside the transaction that commits the update's effects."""
    with db.atomic():
        db.execute(
            """
            INSERT INTO updates (update_id, payload, received_at, outcome) VALUES (?, '{}', ?, ?)
            ON CONFLICT (update_id) DO UPDATE SET outcome = excluded.outcome
            """,
            [check_id(update_id, "update id"), utc_now(), outcome],
        )


@contextmanager
def _without_waiting_for_the_disk(db: Database) -> Iterator[None]:
    """Commit without fsync (synchronous=NORMAL): such a commit survives the process being
    killed, only a power cut can undo it. Used for delivery progress, where being undone means
    one answer sent twice, never anything lost; everything else keeps synchronous=FULL."""
    db.execute("PRAGMA synchronous=NORMAL")
    try:
        with db.atomic():
            yield
    finally:
        db.execute("PRAGMA synchronous=FULL")


def mark_delivered(db: Database, update_id: int, steps: int) -> None:
    with _without_waiting_for_the_disk(db):
        db.execute("UPDATE updates SET delivered = ? WHERE update_id = ?", [steps, update_id])


def mark_failed(db: Database, update_id: int, error: str) -> None:
    with db.atomic():
        db.execute(
            "UPDATE updates SET attempts = attempts + 1, last_error = ? WHERE update_id = ?",
            [error[:1000], update_id],
        )


def mark_done(db: Database, update_id: int, error: str | None = None) -> None:
    with _without_waiting_for_the_disk(db):
        db.execute(
            """
            UPDATE updates SET done_at = ?, last_error = coalesce(?, last_error)
            WHERE update_id = ?
            """,
            [utc_now(), error, update_id],
        )


def unfinished_updates(db: Database, max_attempts: int) -> list[JournalEntry]:
    """Updates not yet done that have failed fewer than `max_attempts` times, oldest first."""
    rows = db.execute(
        f"""
        SELECT {_COLUMNS} FROM updates
        WHERE done_at IS NULL AND attempts < ? ORDER BY update_id
        """,
        [max_attempts],
    ).fetchall()
    return [JournalEntry(*row[:5], bool(row[5])) for row in rows]


def prune_done(db: Database, older_than: str) -> int:
    """Forget updates answered before `older_than` (ISO time); returns how many went."""
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM updates WHERE done_at IS NOT NULL AND done_at < ?", [older_than]
        )
    return cursor.rowcount
