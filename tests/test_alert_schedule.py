"""When alerts come (issue 28): the digest's day, hour and time zone, asked when someone first
opts in and changed from /settings, and quiet hours, which hold back every alert until they
end (storage/alerts.py writes the wait; the drain sends nothing before it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database
from telegram.ext import Application

from bot.commands.conversation import Chat, Conversation, Sender
from bot.telegram.alerts import alerts_now
from bot.ui import alert_times, callbacks
from bot.ui.callbacks import Verb
from bot.ui.html import to_plain
from devtools.app import run_bot
from devtools.fake_telegram.server import FakeTelegram
from storage import alerts, users
from storage.db import utc_now
from storage.errors import InvalidArgument
from tests.alert_helpers import (
    digests,
    due_now,
    films_arrive,
    opt_in,
    popular,
    rounds_run_by_the_tests,  # noqa: F401 (autouse: the tests here run the job's rounds too)
)

ANN, BOB = 3_862_001, 3_862_002
OPT_IN = callbacks.encode(Verb.ALERTS, 1)


def when(field: int, n: int | None = None) -> str:
    return callbacks.encode(Verb.ALERT_WHEN, field, n)


def _labels(reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def _sub(db: Database, user_id: int) -> alerts.Subscription:
    return alerts.get_subscription(db, user_id)


def _schedule(sub: alerts.Subscription) -> tuple:
    return (sub.weekday, sub.hour, sub.time_zone, sub.quiet_from, sub.quiet_until)


# ------------------------------------------------------------------ quiet hours in storage


def test_quiet_hours_end_at_their_end_hour_in_the_persons_time_zone() -> None:
    sub = alerts.Subscription(1, True, False, 4, 18, "Europe/Madrid", None, 22, 8)
    # 21:59 in Madrid (20:59 UTC, winter): not quiet; 22:00 to 07:59: quiet until 08:00 there.
    assert alerts.quiet_end(sub, datetime(2026, 12, 4, 20, 59, tzinfo=UTC)) is None
    eight = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # 08:00 in Madrid
    assert alerts.quiet_end(sub, datetime(2026, 12, 4, 21, 0, tzinfo=UTC)) == eight
    assert alerts.quiet_end(sub, datetime(2026, 12, 5, 6, 59, tzinfo=UTC)) == eight
    assert alerts.quiet_end(sub, datetime(2026, 12, 5, 7, 0, tzinfo=UTC)) is None
    morning = alerts.Subscription(1, True, False, 4, 18, "UTC", None, 0, 9)
    assert alerts.quiet_end(morning, datetime(2026, 12, 4, 23, 59, tzinfo=UTC)) is None
    assert alerts.quiet_end(morning, datetime(2026, 12, 5, 3, 0, tzinfo=UTC)) == datetime(
        2026, 12, 5, 9, 0, tzinfo=UTC
    )
    # The night the clocks go back in New York (1 November 2026): 08:00 is still 08:00 there.
    ny = alerts.Subscription(1, True, False, 4, 18, "America/New_York", None, 22, 8)
    assert alerts.quiet_end(ny, datetime(2026, 11, 1, 3, 0, tzinfo=UTC)) == datetime(
        2026, 11, 1, 13, 0, tzinfo=UTC
    )
    assert alerts.quiet_end(alerts.Subscription(1, True, False, 4, 18, "UTC", None), eight) is None


def _quiet_now(db: Database, user_id: int) -> None:
    """Quiet hours that hold now (UTC) and end two hours from now."""
    hour = datetime.now(UTC).hour
    with db.atomic():
        db.execute("UPDATE alert_subscriptions SET time_zone = 'UTC' WHERE user_id = ?", [user_id])
    alerts.set_quiet_hours(db, user_id, hour, (hour + 2) % 24)


def test_an_alert_journaled_in_quiet_hours_waits_until_they_end(catalog_db: Database) -> None:
    users.save_user(catalog_db, ANN, "Ann")
    alerts.subscribe(catalog_db, ANN, alerts.DIGEST, True, "UTC")
    _quiet_now(catalog_db, ANN)
    assert alerts.journal_alert(catalog_db, ANN, alerts.STREAMING, "42", "{}", utc_now()) is False
    alerts.subscribe(catalog_db, ANN, alerts.STREAMING, True, "UTC")
    assert alerts.journal_alert(catalog_db, ANN, alerts.STREAMING, "42", "{}", utc_now())
    assert alerts.pending(catalog_db, 10) == []  # any kind: not before the quiet hours end
    (not_before,) = catalog_db.execute("SELECT not_before FROM alert_outbox").fetchone()
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    assert datetime.fromisoformat(not_before) == end
    later = (end + timedelta(seconds=1)).isoformat(timespec="microseconds")
    assert [r.period for r in alerts.pending(catalog_db, 10, later)] == ["42"]
    # Quiet hours off: it is free to go now.
    alerts.set_quiet_hours(catalog_db, ANN, None, None)
    assert [r.period for r in alerts.pending(catalog_db, 10)] == ["42"]


def test_quiet_hours_set_after_an_alert_was_journaled_still_hold_it_back(
    catalog_db: Database,
) -> None:
    users.save_user(catalog_db, ANN, "Ann")
    alerts.subscribe(catalog_db, ANN, alerts.DIGEST, True, "UTC")
    alerts.journal_alert(catalog_db, ANN, alerts.DIGEST, "2026-W49", "{}", utc_now())
    (row,) = alerts.pending(catalog_db, 10)
    _quiet_now(catalog_db, ANN)
    assert not alerts.claim(catalog_db, row.id)  # not sent now: back until they end
    assert alerts.pending(catalog_db, 10) == []
    state, error = catalog_db.execute("SELECT state, error FROM alert_outbox").fetchone()
    assert (state, error) == ("pending", alerts.QUIET)
    alerts.set_quiet_hours(catalog_db, ANN, None, None)
    assert alerts.claim(catalog_db, row.id)


@pytest.mark.parametrize(
    "call",
    [
        lambda db: alerts.set_schedule(db, ANN, 7, 18, "UTC"),
        lambda db: alerts.set_schedule(db, ANN, -1, 18, "UTC"),
        lambda db: alerts.set_schedule(db, ANN, 4, 24, "UTC"),
        lambda db: alerts.set_schedule(db, ANN, 4, True, "UTC"),
        lambda db: alerts.set_schedule(db, ANN, 4, 18, "Mars/Olympus"),
        lambda db: alerts.set_schedule(db, ANN, 4, 18, ""),
        lambda db: alerts.set_quiet_hours(db, ANN, 22, None),
        lambda db: alerts.set_quiet_hours(db, ANN, 22, 22),
        lambda db: alerts.set_quiet_hours(db, ANN, 22, 25),
        lambda db: alerts.set_quiet_hours(db, ANN, -1, 8),
        lambda db: alerts.set_schedule(db, BOB, 1, 8, "UTC"),  # never opted in
        lambda db: alerts.set_quiet_hours(db, BOB, 22, 8),
    ],
)
def test_a_bad_schedule_changes_nothing(catalog_db: Database, call) -> None:
    for user_id in (ANN, BOB):
        users.save_user(catalog_db, user_id, "P")
    alerts.subscribe(catalog_db, ANN, alerts.DIGEST, True, "Europe/Madrid")
    alerts.set_quiet_hours(catalog_db, ANN, 23, 7)
    before = catalog_db.execute("SELECT * FROM alert_subscriptions").fetchall()
    with pytest.raises(InvalidArgument):
        call(catalog_db)
    assert catalog_db.execute("SELECT * FROM alert_subscriptions").fetchall() == before


# ------------------------------------------------------------------ the card


def test_the_first_opt_in_asks_when_with_the_zones_of_the_persons_country(service) -> None:
    conversation = Conversation(service, "moviebot_test_bot")
    ann, chat = Sender(ANN, "Ann", "es"), Chat(ANN)
    conversation.on_text(ann, chat, "/settings")
    tapped = conversation.on_button(ann, chat, OPT_IN)
    assert tapped.toast == "Avisos activados: películas nuevas para ti cada semana"
    card = tapped.edit
    text = to_plain(card.text)
    assert "¿Cuándo te envío los avisos?" in text
    assert "el viernes a las 18:00 (Europe/Madrid)" in text and "Sin horas de silencio" in text
    labels = _labels(card)
    assert "vie ✓" in labels and "18:00 ✓" in labels and "Madrid ✓" in labels
    assert "Canary" in labels and "New York" not in labels  # Spain's two zones only

    # Each tap changes one thing and draws the card again.
    madrid = alert_times.ZONE_CHOICES.index("Atlantic/Canary")
    for data in (when(alert_times.DAY, 6), when(alert_times.HOUR, 10), when(3, madrid)):
        assert conversation.on_button(ann, chat, data).edit is not None
    quiet = conversation.on_button(ann, chat, when(alert_times.QUIET, 1))
    assert quiet.toast == "Horas de silencio: 22:00–08:00"
    assert "Horas de silencio: 22:00–08:00" in to_plain(quiet.edit.text)
    assert _schedule(_sub(service.db, ANN)) == (6, 10, "Atlantic/Canary", 22, 8)
    done = conversation.on_button(ann, chat, when(alert_times.DONE))
    assert "/settings" in to_plain(done.edit.text) and done.edit.buttons == ()

    # Later, /settings has the way back to the card; opting in again does not ask again.
    settings = conversation.on_text(ann, chat, "/settings").replies[0]
    assert when(alert_times.SHOW) in [b.data for row in settings.buttons for b in row]
    conversation.on_button(ann, chat, callbacks.encode(Verb.ALERTS, 0))
    again = conversation.on_button(ann, chat, OPT_IN)
    assert "¿Cuándo" not in to_plain(again.edit.text)
    assert _schedule(_sub(service.db, ANN)) == (6, 10, "Atlantic/Canary", 22, 8)


def test_a_country_with_several_zones_offers_them_and_one_with_one_does_not(service) -> None:
    conversation = Conversation(service, "moviebot_test_bot")
    us = conversation.on_button(Sender(ANN, "Ann", "en-US"), Chat(ANN), OPT_IN).edit
    labels = _labels(us)
    assert "New York ✓" in labels and {"Chicago", "Denver", "Los Angeles"} <= set(labels)
    de = conversation.on_button(Sender(BOB, "Bob", "de"), Chat(BOB), OPT_IN).edit
    zones = [b.label for b in de.buttons[3]]  # after the days and the two rows of hours
    assert zones == ["Berlin ✓"]


@pytest.mark.parametrize(
    "data",
    [
        when(alert_times.DAY, 7),
        when(alert_times.DAY, -1),
        when(alert_times.HOUR, 9),  # not one the card offers
        when(alert_times.HOUR, 24),
        when(alert_times.ZONE, len(alert_times.ZONE_CHOICES)),
        when(alert_times.ZONE, -1),
        when(alert_times.QUIET, len(alert_times.QUIET_CHOICES)),
        when(9, 1),
        when(-5, 0),
    ],
)
def test_a_button_that_is_not_the_cards_changes_nothing(service, data: str) -> None:
    conversation = Conversation(service, "moviebot_test_bot")
    ann, chat = Sender(ANN, "Ann", "en"), Chat(ANN)
    conversation.on_button(ann, chat, OPT_IN)
    before = _schedule(_sub(service.db, ANN))
    tapped = conversation.on_button(ann, chat, data)
    assert tapped.toast == "That button has expired. Try the command again."
    assert tapped.edit is None and tapped.replies == []
    assert _schedule(_sub(service.db, ANN)) == before


def test_someone_without_alerts_cannot_set_their_times(service) -> None:
    conversation = Conversation(service, "moviebot_test_bot")
    bob, chat = Sender(BOB, "Bob", "en"), Chat(BOB)
    for data in (when(alert_times.SHOW), when(alert_times.DAY, 1), when(alert_times.QUIET, 1)):
        tapped = conversation.on_button(bob, chat, data)
        assert tapped.toast == "Turn alerts on in /settings first." and tapped.edit is None
    assert _sub(service.db, BOB) is None


# ------------------------------------------------------------------ through PTB


def test_a_digest_due_in_quiet_hours_goes_when_they_end(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        await opt_in(fake_telegram, ANN, catalog_db)
        due_now(catalog_db, ANN)
        _quiet_now(catalog_db, ANN)
        films_arrive(catalog_db, popular(catalog_db, 40)[20:32])
        assert await alerts_now(app) == 0  # journaled, held back
        assert digests(fake_telegram, ANN) == []
        state, error = catalog_db.execute("SELECT state, error FROM alert_outbox").fetchone()
        assert (state, error) == ("pending", alerts.QUIET)
        # The quiet hours end (moved to hours that are not now): it goes, once.
        hour = datetime.now(UTC).hour
        alerts.set_quiet_hours(catalog_db, ANN, (hour + 2) % 24, (hour + 4) % 24)
        assert await alerts_now(app) == 1
        assert await alerts_now(app) == 0
        assert len(digests(fake_telegram, ANN)) == 1

    run_bot(fake_telegram, service, settings, scenario)
