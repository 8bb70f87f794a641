"""Alerts: who opted into which (the weekly "new for you" digest, watchlisted films that start
streaming), and the outbox every alert is journaled in before it is sent.

An alert row is unique per (user, kind, period): filling the outbox twice for the same week
adds nothing. Its state goes pending -> sending (written before the request) -> sent; a row a
kill left `sending` may or may not have reached Telegram, so `recover` marks it `uncertain` and
it is never sent again (a repeat is what an alert must not do); `dropped` when the person
blocked the bot or stopped alerts before it went.

Quiet hours: an alert that would go in the person's quiet hours (local time) waits until they
end (its `not_before`), whatever its kind: `journal_alert` writes it so, and `claim` puts back
one whose time came inside quiet hours begun (or set) after it was journaled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlite_utils import Database

from storage.db import utc_now
from storage.errors import InvalidArgument
from storage.users import require_user
from storage.validate import check_id

DIGEST, STREAMING = "digest", "streaming"
KINDS = (DIGEST, STREAMING)
# The weekly digest's default time: Friday 18:00 where the person lives.
FRIDAY, EVENING = 4, 18
# The `error` of an alert held back by quiet hours (its not_before is when they end).
QUIET = "quiet hours"
# Sent rows are kept this long (their unique key stops a repeat), then pruned.
KEEP_SENT_DAYS = 60


@dataclass(frozen=True)
class Subscription:
    user_id: int
    digest: bool
    streaming: bool
    weekday: int
    hour: int
    time_zone: str
    digest_since: str | None
    quiet_from: int | None = None  # local hours; None: no quiet hours
    quiet_until: int | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    user_id: int
    kind: str
    period: str
    outcome: str


_COLUMNS = (
    "user_id, digest, streaming, weekday, hour, time_zone, digest_since, quiet_from, quiet_until"
)


def _row(row: tuple) -> Subscription:
    uid, digest, streaming, weekday, hour, zone, since, quiet_from, quiet_until = row
    return Subscription(
        uid, bool(digest), bool(streaming), weekday, hour, zone, since, quiet_from, quiet_until
    )


def get_subscription(db: Database, user_id: int) -> Subscription | None:
    """The person's alert settings; None when they never opted into any."""
    check_id(user_id, "user id")
    row = db.execute(
        f"SELECT {_COLUMNS} FROM alert_subscriptions WHERE user_id = ?", [user_id]
    ).fetchone()
    return _row(row) if row else None


def subscribe(db: Database, user_id: int, kind: str, on: bool, time_zone: str = "UTC") -> None:
    """Opt the person into `kind` (or out of it). The first opt-in stores the default time
    (Friday 18:00 in `time_zone`) and starts the digest from now: films added before it are
    not news. Opting out drops their alerts of that kind not sent yet."""
    check_id(user_id, "user id")
    if kind not in KINDS:
        raise InvalidArgument(f"alert kind must be one of {KINDS}, not {kind!r}")
    _check_zone(time_zone)
    now = utc_now()
    with db.atomic():
        require_user(db, user_id)
        db.execute(
            "INSERT OR IGNORE INTO alert_subscriptions (user_id, weekday, hour, time_zone, "
            "digest_since, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [user_id, FRIDAY, EVENING, time_zone, now, now],
        )
        if on and kind == DIGEST:  # turned on again: films added while it was off are old
            db.execute(
                "UPDATE alert_subscriptions SET digest_since = ? WHERE user_id = ? AND digest = 0",
                [now, user_id],
            )
        # `kind` is one of KINDS (checked above), the column of the same name.
        db.execute(
            f"UPDATE alert_subscriptions SET {kind} = ?, updated_at = ? WHERE user_id = ?",
            [int(on), now, user_id],
        )
        if not on:
            _drop_unsent(db, user_id, kind, "stopped")


def _check_zone(time_zone: str) -> None:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise InvalidArgument(f"unknown time zone {time_zone!r}") from error


def _check_hour(hour: object, what: str) -> None:
    if not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23:
        raise InvalidArgument(f"{what} must be an hour from 0 to 23, not {hour!r}")


def set_schedule(db: Database, user_id: int, weekday: int, hour: int, time_zone: str) -> None:
    """When the person's weekly digest goes: `weekday` (0 Monday) at `hour` in `time_zone`.
    Only for someone who opted into alerts (InvalidArgument otherwise: nothing is written)."""
    check_id(user_id, "user id")
    if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
        raise InvalidArgument(f"weekday must be 0 (Monday) to 6, not {weekday!r}")
    _check_hour(hour, "the digest's hour")
    _check_zone(time_zone)
    _update_subscription(
        db, user_id, "weekday = ?, hour = ?, time_zone = ?", [weekday, hour, time_zone]
    )


def set_quiet_hours(db: Database, user_id: int, start: int | None, end: int | None) -> None:
    """No alert for the person from `start` to `end` o'clock (local; 22 to 8 spans midnight);
    both None: none. Only for someone who opted into alerts."""
    check_id(user_id, "user id")
    if (start is None) != (end is None):
        raise InvalidArgument("quiet hours need a start and an end, or neither")
    if start is not None:
        _check_hour(start, "quiet hours' start")
        _check_hour(end, "quiet hours' end")
        if start == end:
            raise InvalidArgument("quiet hours must start and end at different hours")
    with db.atomic():
        _update_subscription(db, user_id, "quiet_from = ?, quiet_until = ?", [start, end])
        # What the old quiet hours held back is free to go (`claim` holds it again if the
        # new ones say so).
        db.execute(
            "UPDATE alert_outbox SET not_before = NULL, error = NULL "
            "WHERE user_id = ? AND state = 'pending' AND error = ?",
            [user_id, QUIET],
        )


def _update_subscription(db: Database, user_id: int, assignments: str, values: list) -> None:
    with db.atomic():
        cursor = db.execute(
            f"UPDATE alert_subscriptions SET {assignments}, updated_at = ? WHERE user_id = ?",
            [*values, utc_now(), user_id],
        )
        if cursor.rowcount != 1:
            raise InvalidArgument(f"user {user_id} has not opted into alerts")


def quiet_end(sub: Subscription, now: datetime) -> datetime | None:
    """When the quiet hours `now` (aware) falls in end (UTC), or None when it is not in any."""
    if sub.quiet_from is None or sub.quiet_until is None:
        return None
    local = now.astimezone(ZoneInfo(sub.time_zone))
    start, end = sub.quiet_from, sub.quiet_until
    inside = start <= local.hour < end if start < end else local.hour >= start or local.hour < end
    if not inside:
        return None
    until = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if until <= local:  # 23:30 in 22-08: tomorrow's 08:00 (a wall-clock day, DST included)
        until = (until.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=until.tzinfo)
    return until.astimezone(UTC)


def _quiet_until(db: Database, user_id: int, now: datetime) -> str | None:
    """`quiet_end` for the person as a timestamp column's text, or None."""
    sub = get_subscription(db, user_id)
    end = quiet_end(sub, now) if sub else None
    return end.isoformat(timespec="microseconds") if end else None


def stop_all(db: Database, user_id: int, reason: str = "stopped") -> None:
    """Every alert off for the person ("Stop these", or Telegram said they blocked the bot);
    their alerts not sent yet are dropped."""
    check_id(user_id, "user id")
    with db.atomic():
        db.execute(
            "UPDATE alert_subscriptions SET digest = 0, streaming = 0, updated_at = ? "
            "WHERE user_id = ?",
            [utc_now(), user_id],
        )
        for kind in KINDS:
            _drop_unsent(db, user_id, kind, reason)


def _drop_unsent(db: Database, user_id: int, kind: str, reason: str) -> None:
    db.execute(
        "UPDATE alert_outbox SET state = 'dropped', error = ? "
        "WHERE user_id = ? AND kind = ? AND state = 'pending'",
        [reason, user_id, kind],
    )


def week_of(sub: Subscription, now: datetime) -> str | None:
    """The digest period due for `sub` at `now` (aware): its ISO week ("2026-W49") once this
    week's weekday and hour have passed in its time zone, else None."""
    local = now.astimezone(ZoneInfo(sub.time_zone))
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    due = monday + timedelta(days=sub.weekday, hours=sub.hour)
    if local < due:
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def due_digests(db: Database, now: datetime | None = None) -> list[tuple[Subscription, str]]:
    """(subscription, period) of every opted-in person whose digest time has come this week
    and who has no digest row for that week yet."""
    now = now or datetime.now(UTC)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM alert_subscriptions WHERE digest = 1 ORDER BY user_id"
    ).fetchall()
    # This week's rows were written within the last 8 days (a week, and time zones apart).
    recent = (now - timedelta(days=8)).isoformat(timespec="microseconds")
    done = {
        (uid, period)
        for uid, period in db.execute(
            "SELECT user_id, period FROM alert_outbox WHERE kind = 'digest' AND created_at > ?",
            [recent],
        ).fetchall()
    }
    due = []
    for row in rows:
        sub = _row(row)
        period = week_of(sub, now)
        if period is not None and (sub.user_id, period) not in done:
            due.append((sub, period))
    return due


def films_added_since(db: Database, since: str | None, until: str | None = None) -> list[int]:
    """Ids of the films that entered the catalog after `since` (None: any time) and up to
    `until` (None: now)."""
    rows = db.execute(
        "SELECT id FROM movies WHERE added_at IS NOT NULL AND (? IS NULL OR added_at > ?) "
        "AND (? IS NULL OR added_at <= ?)",
        [since, since, until, until],
    ).fetchall()
    return [r[0] for r in rows]


def digest_until(db: Database, since: str | None) -> str:
    """Where the next digest's window ends: now, or when the last successful fit started if
    that is earlier, so a film added since is left for the digest after the refit that
    teaches the model about it (never earlier than `since`: an empty window)."""
    row = db.execute("SELECT max(started_at) FROM model_fits WHERE status = 'ok'").fetchone()
    until = min(utc_now(), row[0]) if row and row[0] else utc_now()
    return max(until, since) if since else until


def journal_alert(
    db: Database, user_id: int, kind: str, period: str, outcome: str | None, until: str
) -> bool:
    """Write the alert (an Outcome as JSON; None: nothing fitted, the period is only marked
    done) and move the person's digest window to `until`, in one transaction; False when
    that (user, kind, period) was journaled before. An alert journaled in the person's quiet
    hours waits until they end."""
    moment = datetime.now(UTC)
    now = moment.isoformat(timespec="microseconds")
    with db.atomic():
        if (
            db.execute(
                "SELECT 1 FROM alert_subscriptions WHERE user_id = ? AND "
                + ("digest" if kind == DIGEST else "streaming")
                + " = 1",
                [user_id],
            ).fetchone()
            is None
        ):
            return False  # opted out meanwhile: nothing is written for them
        quiet = _quiet_until(db, user_id, moment) if outcome else None
        cursor = db.execute(
            "INSERT OR IGNORE INTO alert_outbox (user_id, kind, period, outcome, state, "
            "not_before, created_at, sent_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                user_id,
                kind,
                period,
                outcome or "",
                "pending" if outcome else "sent",
                quiet,
                now,
                None if outcome else now,
                QUIET if quiet else None,
            ],
        )
        if cursor.rowcount and kind == DIGEST:
            db.execute(
                "UPDATE alert_subscriptions SET digest_since = ? WHERE user_id = ?",
                [until, user_id],
            )
    return bool(cursor.rowcount)


def pending(db: Database, limit: int, now: str | None = None) -> list[OutboxRow]:
    """Up to `limit` alerts waiting to be sent (oldest first), not before their retry time."""
    rows = db.execute(
        "SELECT id, user_id, kind, period, outcome FROM alert_outbox "
        "WHERE state = 'pending' AND (not_before IS NULL OR not_before <= ?) ORDER BY id LIMIT ?",
        [now or utc_now(), limit],
    ).fetchall()
    return [OutboxRow(*row) for row in rows]


def claim(db: Database, alert_id: int) -> bool:
    """Mark a pending alert `sending` before its request; False when it is not pending any
    more (another drain took it, or it was dropped meanwhile), or when the person's quiet
    hours are on (it is put back until they end): then it is not sent now."""
    with db.atomic():
        row = db.execute(
            "SELECT user_id FROM alert_outbox WHERE id = ? AND state = 'pending'", [alert_id]
        ).fetchone()
        if row is None:
            return False
        quiet = _quiet_until(db, row[0], datetime.now(UTC))
        if quiet is not None:
            db.execute(
                "UPDATE alert_outbox SET not_before = ?, error = ? WHERE id = ?",
                [quiet, QUIET, alert_id],
            )
            return False
        db.execute("UPDATE alert_outbox SET state = 'sending' WHERE id = ?", [alert_id])
    return True


def mark(db: Database, alert_id: int, state: str, error: str | None = None) -> None:
    """Move an alert to `state` ('sent', 'uncertain', 'dropped')."""
    with db.atomic():
        db.execute(
            "UPDATE alert_outbox SET state = ?, error = ?, "
            "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
            [state, error, state, utc_now(), alert_id],
        )


def retry_later(db: Database, alert_id: int, seconds: float, error: str) -> None:
    """Put an alert Telegram did not take back in the queue, not before `seconds` from now."""
    when = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds")
    with db.atomic():
        db.execute(
            "UPDATE alert_outbox SET state = 'pending', not_before = ?, error = ? WHERE id = ?",
            [when, error, alert_id],
        )


def recover(db: Database) -> int:
    """After a restart: alerts left `sending` (the request may have arrived) become
    `uncertain` and are not sent again; returns how many."""
    with db.atomic():
        cursor = db.execute("UPDATE alert_outbox SET state = 'uncertain' WHERE state = 'sending'")
    return cursor.rowcount


def prune_sent(db: Database) -> int:
    """Forget alerts finished more than KEEP_SENT_DAYS ago."""
    cutoff = (datetime.now(UTC) - timedelta(days=KEEP_SENT_DAYS)).isoformat()
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM alert_outbox WHERE state != 'pending' AND created_at < ?", [cutoff]
        )
    return cursor.rowcount
