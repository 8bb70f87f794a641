"""The update journal: Telegram updates, durable before they are confirmed, done once answered.

An update's life: `record_updates` (before the next getUpdates confirms it to Telegram) ->
`save_outcome` (the answer, committed together with its effects) -> `mark_delivered` per step
sent -> `mark_done`. Whatever is not done when the bot stops is picked up by
`unfinished_updates` on the next start.

The journal forgets: `mark_done` clears the payload and the answer, keeping only what
de-duplication needs (the update id, a digest of the payload, the times); `prune_done` deletes
done rows once Telegram can no longer redeliver them (`DONE_RETENTION`); `discard` drops an
update that is kept for nothing (group chatter); `forget_sender` clears a person's rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


# Telegram redelivers an unconfirmed update for up to 24 hours; a done update id is kept a day
# longer than that, so a redelivered update is still recognised and answered once.
DONE_RETENTION = timedelta(hours=48)
# A delivery that keeps failing is given up after a day (bot/telegram/delivery.py: done, with the
# error); this many attempts (more than a day of the bot's back-off, one a minute) is a
# backstop, after which an update is abandoned (kept, not done, not tried again).
MAX_ATTEMPTS = 2_000
# The error a dropped owed answer is closed with.
GIVEN_UP = "given up"
# What a done update's payload is replaced with.
_CLEARED = "{}"

_COLUMNS = "update_id, payload, outcome, delivered, attempts, done_at IS NOT NULL"


def record_updates(db: Database, updates: Iterable[tuple[int, str]]) -> int:
    """Store (update_id, payload JSON) pairs durably; returns how many were stored.

    An update already stored is left alone: a redelivery (Telegram sends an unconfirmed update
    again). But a done update whose digest differs from the payload's is another update with
    the same id (Telegram numbers updates from a random start after a week without
    getUpdates): it replaces the old row and is handled as new. A done row without a digest
    (from before migration 0004) cannot be told apart and counts as a redelivery."""
    rows = [
        (check_id(update_id, "update id"), payload, utc_now(), _digest(payload))
        for update_id, payload in updates
    ]
    with db.atomic():
        before = db.execute("SELECT total_changes()").fetchone()[0]
        db.conn.executemany(
            """
            INSERT INTO updates (update_id, payload, received_at) VALUES (?1, ?2, ?3)
            ON CONFLICT (update_id) DO UPDATE SET
                payload = excluded.payload, received_at = excluded.received_at, outcome = NULL,
                delivered = 0, attempts = 0, last_error = NULL, done_at = NULL, digest = NULL
            WHERE updates.done_at IS NOT NULL AND updates.digest IS NOT NULL
              AND updates.digest != ?4
            """,
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


def mark_failed(db: Database, update_id: int, error: str) -> int:
    """Count a failed delivery; returns how many the update has had."""
    with db.atomic():
        db.execute(
            "UPDATE updates SET attempts = attempts + 1, last_error = ? WHERE update_id = ?",
            [error[:1000], update_id],
        )
        row = db.execute("SELECT attempts FROM updates WHERE update_id = ?", [update_id])
        found = row.fetchone()
    return found[0] if found else 0


def received_at(db: Database, update_id: int) -> str | None:
    """When the update was recorded (ISO time), None when the journal does not have it."""
    row = db.execute("SELECT received_at FROM updates WHERE update_id = ?", [update_id])
    found = row.fetchone()
    return found[0] if found else None


def drop_owed(db: Database, received_before: str, keep: int) -> list[int]:
    """Give up the updates not done that were received before `received_before` (ISO time),
    and the oldest beyond the newest `keep` of them: done, their payload and answer cleared,
    with the error GIVEN_UP; returns their ids (a bounded queue of owed answers)."""
    with db.atomic():
        rows = db.execute(
            """
            SELECT update_id FROM updates WHERE done_at IS NULL AND (
                received_at < ? OR update_id NOT IN (
                    SELECT update_id FROM updates WHERE done_at IS NULL
                    ORDER BY received_at DESC, update_id DESC LIMIT ?
                )
            )
            """,
            [received_before, keep],
        ).fetchall()
        ids = [row[0] for row in rows]
        db.conn.executemany(
            f"""
            UPDATE updates SET done_at = ?, payload = '{_CLEARED}', outcome = NULL,
                last_error = ? || coalesce(': ' || last_error, '')
            WHERE update_id = ?
            """,
            [(utc_now(), GIVEN_UP, update_id) for update_id in ids],
        )
    return ids


def mark_done(db: Database, update_id: int, error: str | None = None) -> None:
    """The update is handled: keep its id, a digest and the time; clear what it said and the
    answer (the person's words and names are not kept once they are no longer needed)."""
    row = db.execute("SELECT payload FROM updates WHERE update_id = ?", [update_id]).fetchone()
    digest = _digest(row[0]) if row and row[0] != _CLEARED else None
    with _without_waiting_for_the_disk(db):
        db.execute(
            f"""
            UPDATE updates SET done_at = ?, last_error = coalesce(?, last_error),
                digest = coalesce(?, digest), payload = '{_CLEARED}', outcome = NULL
            WHERE update_id = ?
            """,
            [utc_now(), error, digest, update_id],
        )


def discard(db: Database, update_id: int) -> None:
    """Delete a handled update that is kept for nothing (group chatter not for the bot): if
    Telegram hands it over again, it is handled again, which answers nothing again."""
    with _without_waiting_for_the_disk(db):
        db.execute("DELETE FROM updates WHERE update_id = ?", [update_id])


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()


def forget_sender(db: Database, user_id: int, max_attempts: int = MAX_ATTEMPTS) -> int:
    """Clear every update sent by the user or in their private chat that no longer needs its
    content: done ones, and ones given up after `max_attempts` failed deliveries (closed
    now). Updates still being handled (the /forget itself) keep theirs until `mark_done`.
    Call inside the transaction that deletes the user; returns how many rows were cleared."""
    check_id(user_id, "user id")
    now = utc_now()
    with db.atomic():
        cursor = db.execute(
            f"""
            UPDATE updates SET payload = '{_CLEARED}', outcome = NULL, last_error = NULL,
                done_at = coalesce(done_at, ?)
            WHERE (done_at IS NOT NULL OR attempts >= ?) AND payload != '{_CLEARED}'
              AND EXISTS (
                SELECT 1 FROM json_each(updates.payload) AS part
                WHERE part.type = 'object' AND (
                    json_extract(part.value, '$.from.id') = ?
                    OR json_extract(part.value, '$.chat.id') = ?
                    OR json_extract(part.value, '$.message.chat.id') = ?
                )
              )
            """,
            [now, max_attempts, user_id, user_id, user_id],
        )
        # Answers stored for updates of other people can name the user (a group's picks).
        db.execute(
            f"UPDATE updates SET outcome = NULL, payload = '{_CLEARED}' "
            "WHERE done_at IS NOT NULL AND (payload != ? OR outcome IS NOT NULL)",
            [_CLEARED],
        )
    return cursor.rowcount


@dataclass(frozen=True)
class Backlog:
    open: int  # not done, still being handled or retried
    abandoned: int  # not done, delivery given up after `max_attempts` failed sends
    oldest_received_at: str | None  # when the oldest open one arrived


def backlog(db: Database, max_attempts: int) -> Backlog:
    """What the journal holds that is not done (for metrics and `moviebot health`)."""
    row = db.execute(
        """
        SELECT count(*) FILTER (WHERE attempts < :max),
               count(*) FILTER (WHERE attempts >= :max),
               min(received_at) FILTER (WHERE attempts < :max)
        FROM updates WHERE done_at IS NULL
        """,
        {"max": max_attempts},
    ).fetchone()
    return Backlog(*row)


def dropped_answers(db: Database) -> int:
    """Owed answers dropped (GIVEN_UP) among the done updates the journal still keeps."""
    return db.execute(
        "SELECT count(*) FROM updates WHERE done_at IS NOT NULL AND last_error LIKE ?",
        [GIVEN_UP + "%"],
    ).fetchone()[0]


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


def prune_done(db: Database, older_than: str | None = None, limit: int | None = None) -> int:
    """Forget updates answered before `older_than` (ISO time; default: `DONE_RETENTION`
    ago), at most `limit` of them, the oldest first; returns how many went."""
    if older_than is None:
        older_than = (datetime.now(UTC) - DONE_RETENTION).isoformat(timespec="microseconds")
    with db.atomic():
        cursor = db.execute(
            """
            DELETE FROM updates WHERE update_id IN (
                SELECT update_id FROM updates WHERE done_at IS NOT NULL AND done_at < ?
                ORDER BY done_at LIMIT ?
            )
            """,
            [older_than, -1 if limit is None else limit],
        )
    return cursor.rowcount
