"""Alerts (issue 28): opt-in in /settings, the weekly "new for you" digest, the outbox that
journals each alert before it is sent, and sending it through the real PTB stack."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlite_utils import Database
from telegram.ext import Application

from bot.commands.conversation import Chat, Conversation, Sender
from bot.commands.features.alerts import DIGEST_SIZE, weekly_digest
from bot.telegram.alerts import AlertLimiter, alerts_now
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from bot.ui.html import to_plain
from devtools.app import buttons, messages, run_bot
from devtools.fake_telegram.server import FakeTelegram
from storage import alerts, fits, users
from storage.db import utc_now
from storage.errors import InvalidArgument
from tests.alert_helpers import (
    OPT_IN,
    digests,
    due_now,
    films_arrive,
    opt_in,
    outbox_without_opt_in,
    popular,
    rounds_run_by_the_tests,  # noqa: F401 (autouse: the tests run the job's rounds)
)
from tests.helpers import rows_mentioning, until

ANN, BOB, CY = 3_861_001, 3_861_002, 3_861_003


def _sends(server: FakeTelegram) -> int:
    return len(server.calls_of("sendMessage")) + len(server.calls_of("sendPhoto"))


# ------------------------------------------------------------------ storage and command layer


def test_the_digest_is_due_from_the_weekday_and_hour_in_the_persons_time_zone() -> None:
    sub = alerts.Subscription(1, True, False, alerts.FRIDAY, 18, "Europe/Madrid", None)
    # Friday 2026-12-04: 18:00 in Madrid is 17:00 UTC (winter time).
    assert alerts.week_of(sub, datetime(2026, 12, 4, 16, 59, tzinfo=UTC)) is None
    assert alerts.week_of(sub, datetime(2026, 12, 4, 17, 0, tzinfo=UTC)) == "2026-W49"
    assert alerts.week_of(sub, datetime(2026, 12, 6, 22, 0, tzinfo=UTC)) == "2026-W49"
    assert alerts.week_of(sub, datetime(2026, 12, 7, 9, 0, tzinfo=UTC)) is None  # next Monday


def test_an_alert_is_journaled_once_per_person_kind_and_week(catalog_db: Database) -> None:
    users.save_user(catalog_db, ANN, "Ann")
    alerts.subscribe(catalog_db, ANN, alerts.DIGEST, True, "Europe/Madrid")
    assert alerts.journal_alert(catalog_db, ANN, alerts.DIGEST, "2026-W49", "{}", utc_now())
    assert not alerts.journal_alert(catalog_db, ANN, alerts.DIGEST, "2026-W49", "{}", utc_now())
    assert [r.period for r in alerts.pending(catalog_db, 10)] == ["2026-W49"]
    # Nobody who did not opt in is ever journaled.
    users.save_user(catalog_db, BOB, "Bob")
    assert not alerts.journal_alert(catalog_db, BOB, alerts.DIGEST, "2026-W49", "{}", utc_now())
    with pytest.raises(InvalidArgument):
        alerts.subscribe(catalog_db, ANN, alerts.DIGEST, True, "Mars/Olympus")


def test_a_film_added_after_the_last_fit_waits_for_the_digest_after_the_refit(
    catalog_db: Database,
) -> None:
    users.save_user(catalog_db, ANN, "Ann")
    alerts.subscribe(catalog_db, ANN, alerts.DIGEST, True, "UTC")
    since = alerts.get_subscription(catalog_db, ANN).digest_since

    def fit() -> None:
        fit_id = fits.start_fit(catalog_db, 1)
        fits.finish_fit(catalog_db, fit_id, n_users=1, n_movies=1, scores={}, model_path=None)

    fit()
    film = popular(catalog_db, 1)[0]
    films_arrive(catalog_db, [film])  # the model does not know it yet
    until = alerts.digest_until(catalog_db, since)
    assert alerts.films_added_since(catalog_db, since, until) == []
    fit()  # the refit that teaches the model about it
    until = alerts.digest_until(catalog_db, since)
    assert alerts.films_added_since(catalog_db, since, until) == [film]


def test_stopping_drops_the_alerts_not_sent_yet(catalog_db: Database) -> None:
    users.save_user(catalog_db, ANN, "Ann")
    alerts.subscribe(catalog_db, ANN, alerts.DIGEST, True, "UTC")
    alerts.journal_alert(catalog_db, ANN, alerts.DIGEST, "2026-W49", '{"replies": []}', utc_now())
    alerts.stop_all(catalog_db, ANN)
    assert alerts.pending(catalog_db, 10) == []
    state = catalog_db.execute("SELECT state FROM alert_outbox").fetchone()[0]
    assert state == "dropped"


def test_an_alert_is_claimed_once_so_two_drains_never_send_it_twice(catalog_db: Database) -> None:
    users.save_user(catalog_db, ANN, "Ann")
    alerts.subscribe(catalog_db, ANN, alerts.DIGEST, True, "UTC")
    alerts.journal_alert(catalog_db, ANN, alerts.DIGEST, "2026-W49", '{"replies": []}', utc_now())
    (row,) = alerts.pending(catalog_db, 10)
    assert alerts.claim(catalog_db, row.id)
    assert not alerts.claim(catalog_db, row.id)
    assert alerts.recover(catalog_db) == 1  # left `sending` by a kill: uncertain, not resent
    assert alerts.pending(catalog_db, 10) == [] and not alerts.claim(catalog_db, row.id)


def test_a_broadcast_waits_while_the_limiter_has_no_room_for_answers() -> None:
    """Stepping the coroutine by hand: `room` returns at once only with headroom to spare."""

    def returns_at_once(limiter: AlertLimiter) -> bool:
        waiting = limiter.room()
        try:
            waiting.send(None)
        except StopIteration:
            return True
        waiting.close()
        return False

    async def scenario() -> None:
        limiter = AlertLimiter()
        assert returns_at_once(limiter)
        for _ in range(30):  # the answers took the whole second's 30 messages
            await limiter._base_limiter.acquire()
        assert not returns_at_once(limiter)
        flooded = AlertLimiter()
        flooded._retry_after_event.clear()  # Telegram's flood wait is on
        assert not returns_at_once(flooded)

    asyncio.run(scenario())


def test_forget_leaves_no_subscription_or_alert_of_theirs(catalog_db: Database) -> None:
    users.save_user(catalog_db, ANN, "Annabella")
    alerts.subscribe(catalog_db, ANN, alerts.DIGEST, True, "UTC")
    alerts.journal_alert(catalog_db, ANN, alerts.DIGEST, "2026-W49", '{"replies": []}', utc_now())
    users.forget_user(catalog_db, ANN)
    assert rows_mentioning(catalog_db, str(ANN), "Annabella") == {}


def test_opting_in_in_settings_then_the_digest_holds_only_new_films(service) -> None:
    conversation = Conversation(service, "moviebot_test_bot")
    ann, chat = Sender(ANN, "Ann", "es"), Chat(ANN)
    conversation.on_text(ann, chat, "/settings")
    tapped = conversation.on_button(ann, chat, OPT_IN)
    assert tapped.toast == "Avisos activados: películas nuevas para ti cada semana"
    assert "viernes a las 18:00 (Europe/Madrid)" in to_plain(tapped.edit.text)
    sub = alerts.get_subscription(service.db, ANN)
    assert sub.digest and (sub.weekday, sub.hour, sub.time_zone) == (4, 18, "Europe/Madrid")

    assert weekly_digest(service, sub) is None  # nothing was added since they opted in
    new = popular(service.db, 40)[20:32]
    films_arrive(service.db, new)
    digest = weekly_digest(service, alerts.get_subscription(service.db, ANN))
    card = digest.replies[0]
    listed = [b.data for row in card.buttons for b in row if b.data and b.data.startswith("w:")]
    assert 1 <= len(listed) <= DIGEST_SIZE
    assert {int(d.split(":")[1]) for d in listed} <= set(new)
    assert "Nuevo en mi catálogo esta semana" in card.text  # in their language
    assert card.buttons[-1][0].data == callbacks.encode(Verb.STOP_ALERTS, 0)

    stopped = conversation.on_button(ann, chat, callbacks.encode(Verb.STOP_ALERTS, 0))
    assert stopped.toast.startswith("Avisos desactivados")
    assert not alerts.get_subscription(service.db, ANN).digest


# ------------------------------------------------------------------ through PTB


def test_an_opted_in_person_gets_one_digest_and_nobody_else_gets_any(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        await opt_in(fake_telegram, ANN, catalog_db)
        fake_telegram.send_text(BOB, "/rate Ted 8", first_name="Bob")  # talks, never opts in
        await messages(fake_telegram, BOB, 1)
        due_now(catalog_db, ANN)
        films_arrive(catalog_db, popular(catalog_db, 40)[20:32])
        assert await alerts_now(app) == 1
        assert await alerts_now(app) == 0  # the same week again: nothing more
        digest = digests(fake_telegram, ANN)
        assert len(digest) == 1
        assert callbacks.encode(Verb.STOP_ALERTS, 0) in buttons(digest[0])
        assert digests(fake_telegram, BOB) == []

    run_bot(fake_telegram, service, settings, scenario)
    assert outbox_without_opt_in(catalog_db) == []
    states = catalog_db.execute("SELECT user_id, state FROM alert_outbox").fetchall()
    assert states == [(ANN, "sent")]


def test_no_digest_goes_when_no_new_film_fits(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        await opt_in(fake_telegram, ANN, catalog_db)
        due_now(catalog_db, ANN)
        before = len(fake_telegram.sent_messages(ANN))
        assert await alerts_now(app) == 0
        assert len(fake_telegram.sent_messages(ANN)) == before

    run_bot(fake_telegram, service, settings, scenario)
    # The week is marked done without a message: a later run does not make it again.
    assert catalog_db.execute("SELECT state, outcome FROM alert_outbox").fetchall() == [
        ("sent", "")
    ]


def test_a_person_who_blocked_the_bot_is_unsubscribed_and_not_tried_again(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        await opt_in(fake_telegram, ANN, catalog_db)
        await opt_in(fake_telegram, CY, catalog_db)
        for user_id in (ANN, CY):
            due_now(catalog_db, user_id)
        films_arrive(catalog_db, popular(catalog_db, 40)[20:32])
        fake_telegram.block(ANN)
        assert await alerts_now(app) == 1  # Cy's
        tries = _sends(fake_telegram)
        # Next week (the same week's row deleted), with more new films: Ann is not tried.
        with catalog_db.atomic():
            catalog_db.execute("DELETE FROM alert_outbox WHERE user_id = ?", [CY])
        films_arrive(catalog_db, popular(catalog_db, 40)[32:40])
        assert await alerts_now(app) == 1  # Cy's again, Ann's not
        assert _sends(fake_telegram) == tries + 1
        assert len(digests(fake_telegram, CY)) == 2

    run_bot(fake_telegram, service, settings, scenario)
    sub = alerts.get_subscription(catalog_db, ANN)
    assert not sub.digest and not sub.streaming
    row = catalog_db.execute("SELECT state, error FROM alert_outbox WHERE user_id = ?", [ANN])
    state, error = row.fetchone()
    assert state == "dropped" and "blocked" in error.lower()


def test_a_restart_mid_broadcast_neither_loses_nor_repeats_an_alert(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    people = (ANN, BOB, CY)

    async def first_run(app: Application) -> None:
        for user_id in people:
            await opt_in(fake_telegram, user_id, catalog_db)
            due_now(catalog_db, user_id)
        films_arrive(catalog_db, popular(catalog_db, 40)[20:32])
        # Journaled, not sent: then the bot stops.
        assert await app.bot_data.alerts.fill(app.bot_data.runtime) == 3

    run_bot(fake_telegram, service, settings, first_run)
    ids = [r[0] for r in catalog_db.execute("SELECT id FROM alert_outbox ORDER BY user_id")]
    assert len(ids) == 3
    # As a kill -9 leaves it: Ann's went and was marked, Bob's request was on its way.
    with catalog_db.atomic():
        catalog_db.execute("UPDATE alert_outbox SET state = 'sent' WHERE id = ?", [ids[0]])
        catalog_db.execute("UPDATE alert_outbox SET state = 'sending' WHERE id = ?", [ids[1]])

    async def second_run(app: Application) -> None:
        assert await alerts_now(app) == 1  # Cy's only
        assert await alerts_now(app) == 0

    run_bot(fake_telegram, service, settings, second_run)
    assert [len(digests(fake_telegram, u)) for u in people] == [0, 0, 1]
    states = [r[0] for r in catalog_db.execute("SELECT state FROM alert_outbox ORDER BY user_id")]
    assert states == ["sent", "uncertain", "sent"]
    assert outbox_without_opt_in(catalog_db) == []


def test_flood_control_puts_the_alert_back_for_after_the_wait(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        await opt_in(fake_telegram, ANN, catalog_db)
        due_now(catalog_db, ANN)
        films_arrive(catalog_db, popular(catalog_db, 40)[20:32])
        # More 429s than the limiter retries: the last one reaches the alerts job.
        fault = fake_telegram.inject_fault("flood", "sendMessage", times=4, retry_after=1)
        assert await alerts_now(app) == 0
        assert len(fault.hits) == 4
        row = catalog_db.execute("SELECT state, not_before FROM alert_outbox").fetchone()
        assert row[0] == "pending" and row[1] > utc_now()
        assert await alerts_now(app) == 0  # not before the wait ends
        assert digests(fake_telegram, ANN) == []
        await until(lambda: utc_now() > row[1])
        assert await alerts_now(app) == 1
        assert len(digests(fake_telegram, ANN)) == 1

    run_bot(fake_telegram, service, settings, scenario)
