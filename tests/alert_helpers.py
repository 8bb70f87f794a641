"""What the alerts tests share (tests/test_alerts.py, test_alert_schedule.py,
test_alerts_streaming.py): people opting in, films arriving, the digests they got, the outbox
checked against the settings, and the fixture that leaves the job's rounds to the tests."""

from __future__ import annotations

import pytest
from sqlite_utils import Database
from telegram.ext import Application

from bot.telegram import app as telegram_app
from bot.telegram.alerts import AlertJob, schedule
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from devtools.app import buttons, messages
from devtools.fake_telegram.server import FakeTelegram
from storage import alerts, ratings
from storage.db import utc_now
from tests.helpers import until

DIGEST_HEADER = "New in my catalog this week, for you"
OPT_IN = callbacks.encode(Verb.ALERTS, 1)


def popular(db: Database, count: int) -> list[int]:
    counts = ratings.rating_counts(db)
    return sorted(counts, key=lambda m: -counts[m])[:count]


def films_arrive(db: Database, movie_ids: list[int]) -> None:
    """The catalog update brought these films (as if new: the model knows them already)."""
    with db.atomic():
        db.execute(
            f"UPDATE movies SET added_at = ? WHERE id IN ({','.join('?' * len(movie_ids))})",
            [utc_now(), *movie_ids],
        )


@pytest.fixture(autouse=True)
def rounds_run_by_the_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests run the alerts job's rounds themselves (`alerts_now`, `fill`), so the bot
    they start schedules none: a scheduled round (first after ALERT_SECONDS) journaled the
    digests a scenario was about to, when a loaded machine took the scenario past it (the
    restart test's fill then counted 2 of 3). The real schedule runs in tests/test_alerts_kill.py.
    """

    def unscheduled(application: Application) -> AlertJob:
        job = schedule(application)
        for scheduled in application.job_queue.get_jobs_by_name("alerts_job"):
            scheduled.schedule_removal()
        return job

    monkeypatch.setattr(telegram_app, "schedule_alerts", unscheduled)


def due_now(db: Database, user_id: int) -> None:
    """Their weekly time has come this week: Monday 00:00 UTC, its first hour (the default is
    Friday 18:00 where they live). Not "this hour": run across Sunday midnight, that is next
    week's time and nothing is due."""
    with db.atomic():
        db.execute(
            "UPDATE alert_subscriptions SET weekday = 0, hour = 0, time_zone = 'UTC' "
            "WHERE user_id = ?",
            [user_id],
        )


def digests(server: FakeTelegram, chat_id: int) -> list[dict]:
    return [
        m
        for m in server.sent_messages(chat_id)
        if DIGEST_HEADER in (m.get("text") or m.get("caption") or "")
    ]


def outbox_without_opt_in(db: Database) -> list[tuple]:
    """Outbox rows (pending or sent) of people not opted into that kind: must be none."""
    return db.execute(
        """
        SELECT o.user_id, o.kind, o.state FROM alert_outbox o
        LEFT JOIN alert_subscriptions s ON s.user_id = o.user_id
        WHERE o.state IN ('pending', 'sending', 'sent') AND o.outcome != ''
          AND NOT coalesce(CASE o.kind WHEN 'digest' THEN s.digest ELSE s.streaming END, 0)
        """
    ).fetchall()


async def opt_in(server: FakeTelegram, user_id: int, db: Database) -> None:
    server.send_text(user_id, "/settings", first_name="Ann")
    card = (await messages(server, user_id, 1))[-1]
    assert OPT_IN in buttons(card)
    server.tap(user_id, card, OPT_IN)

    def opted_in() -> bool:
        sub = alerts.get_subscription(db, user_id)
        return sub is not None and sub.digest

    await until(opted_in)
