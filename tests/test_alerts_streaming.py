"""The streaming and release alert (issue 28): a film a person waits for (their watchlist, or
"Tell me when" on a card) starts streaming on their services in their country, or comes out
there; one alert, in their language, once. Through the real PTB stack, the loopback Bot API
and the loopback TMDB with the real client."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlite_utils import Database
from telegram.ext import Application

from bot.commands.conversation import Chat, Conversation, Sender
from bot.commands.features.alerts import weekly_digest
from bot.telegram.watch_job import WATCH_SECONDS, journal_watches
from bot.tmdb.client import TmdbConfig
from bot.tmdb.facts import FilmFacts, Offers
from bot.tmdb.films import TmdbFilms
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from bot.ui.cards import TELL_ME_STOP, TELL_ME_TOGGLE, tell_me_row
from bot.ui.html import to_plain
from bot.ui.replies import outcome_from_json
from devtools.app import buttons, messages, run_bot
from devtools.fake_telegram.server import FakeTelegram
from devtools.fake_tmdb import films
from devtools.fake_tmdb.films import APPLE, DISNEY, NETFLIX, Providers
from devtools.fake_tmdb.server import FakeTMDB
from storage import alert_watches, alerts, ratings, tmdb_cache, users, watchlist
from storage.db import utc_now
from storage.movies import get_movie, get_movies
from tests.alert_helpers import outbox_without_opt_in
from tests.helpers import rows_mentioning, until

ANN, BOB, CY = 3_862_001, 3_862_002, 3_862_003
WAITING_ON = callbacks.encode(Verb.WATCH_ALERTS, 1)


@pytest.fixture
def tmdb(catalog_db: Database):
    """The loopback TMDB knowing every catalog film, none of them streaming in Spain yet (each
    a copy: the written films are shared by every test)."""
    rows = catalog_db["movies"].rows_where(
        "tmdb_id IS NOT NULL", select="tmdb_id, imdb_id, title, year"
    )
    catalog = films.catalog((r["tmdb_id"], r["imdb_id"], r["title"], r["year"]) for r in rows)
    unstreamed = [
        replace(film, providers={**film.providers, "ES": Providers(rent=[APPLE])})
        for film in catalog
    ]
    with FakeTMDB(unstreamed) as server:
        yield server


@pytest.fixture
def keyed(settings, tmdb: FakeTMDB):
    """The bot's settings with the operator's TMDB key pointing at the loopback TMDB."""
    return replace(settings, tmdb=TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url))


def _streams_in_spain(tmdb: FakeTMDB, tmdb_id: int, *services: tuple[int, str]) -> None:
    """JustWatch now lists the film on `services` in Spain, and TMDB's change list says so."""
    film = tmdb.films[tmdb_id]
    tmdb.add(replace(film, providers={**film.providers, "ES": Providers(flatrate=list(services))}))
    tmdb.touch(tmdb_id)


def _alerts_to(server: FakeTelegram, chat_id: int) -> list[dict]:
    return [m for m in server.sent_messages(chat_id) if "🔔 " in (m.get("text") or m["caption"])]


def _tmdb_id(db: Database, movie_id: int) -> int:
    return db.execute("SELECT tmdb_id FROM movies WHERE id = ?", [movie_id]).fetchone()[0]


async def _recommend(server: FakeTelegram, user_id: int, seen: int) -> dict:
    """Ask for picks; the card (its top pick has the "Tell me when" row)."""
    server.send_text(user_id, "/recommend 3")
    return (await messages(server, user_id, seen + 1))[seen]


def _tell_me_data(card: dict) -> str:
    (data,) = [d for d in buttons(card) if d.startswith("tm:")]
    return data


# ------------------------------------------------------------------ through PTB


def test_a_film_that_starts_streaming_alerts_once_in_spanish_and_nobody_else(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    fake_telegram.set_language(ANN, "es")
    fake_telegram.set_language(BOB, "es")

    async def scenario(app: Application) -> None:
        job = app.bot_data.watch
        for user_id in (ANN, BOB):
            fake_telegram.send_text(user_id, "/rate Frozen 9")
            await messages(fake_telegram, user_id, 1)
        card = await _recommend(fake_telegram, ANN, 1)
        tell_me = _tell_me_data(card)
        top = int(tell_me.split(":")[1])
        assert tell_me == callbacks.encode(Verb.TELL_ME, top, TELL_ME_TOGGLE)
        update = fake_telegram.tap(ANN, card, tell_me)
        await until(lambda: fake_telegram.callback_answer(update) is not None)
        toast = fake_telegram.callback_answer(update)["text"]
        assert toast.startswith("🔔 Te avisaré cuando")
        # One tap turned the streaming alert on, and the film is watched.
        await until(lambda: alert_watches.watching(catalog_db, ANN, top))
        assert alerts.get_subscription(catalog_db, ANN).streaming
        # Ann also saved the second pick; Bob saved the top pick but never opted in.
        second = int([d for d in buttons(card) if d.startswith("w:")][1].split(":")[1])
        watchlist.save_for_later(catalog_db, ANN, second)
        watchlist.save_for_later(catalog_db, BOB, top)

        assert await job.run(app) == 0  # the first look only records what is true
        _streams_in_spain(tmdb, _tmdb_id(catalog_db, top), NETFLIX)
        assert await job.run(app) == 1
        await until(lambda: len(_alerts_to(fake_telegram, ANN)) == 1)
        assert await job.run(app) == 0  # a second round: nothing new
        assert await job.run(app) == 0

    run_bot(fake_telegram, service, keyed, scenario)
    (alert,) = _alerts_to(fake_telegram, ANN)
    said = alert.get("caption") or alert["text"]
    assert "ya está en streaming en Netflix (🇪🇸 ES)" in said
    assert "🇪🇸 Streaming: Netflix" in said  # the poster's lines: Spain's, in Spanish too
    data = buttons(alert)
    top = int(data[0].split(":")[1])
    assert data == [
        callbacks.encode(Verb.TELL_ME, top, TELL_ME_STOP),
        callbacks.encode(Verb.STOP_ALERTS, 0),
    ]
    assert _alerts_to(fake_telegram, BOB) == []
    assert outbox_without_opt_in(catalog_db) == []
    rows = catalog_db.execute("SELECT user_id, kind, period, state FROM alert_outbox").fetchall()
    assert rows == [(ANN, "streaming", f"{top}:stream", "sent")]


def test_a_film_streaming_only_on_a_service_the_person_lacks_is_not_news(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    fake_telegram.set_language(CY, "es")

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(CY, "/rate Frozen 9")
        await messages(fake_telegram, CY, 1)
        card = await _recommend(fake_telegram, CY, 1)
        top = int(_tell_me_data(card).split(":")[1])
        fake_telegram.tap(CY, card, _tell_me_data(card))
        await until(lambda: alert_watches.watching(catalog_db, CY, top))
        tmdb_cache.set_service(catalog_db, CY, DISNEY[0], True)
        assert await app.bot_data.watch.run(app) == 0
        _streams_in_spain(tmdb, _tmdb_id(catalog_db, top), NETFLIX)
        assert await app.bot_data.watch.run(app) == 0  # Netflix: not one of Cy's
        _streams_in_spain(tmdb, _tmdb_id(catalog_db, top), NETFLIX, DISNEY)
        assert await app.bot_data.watch.run(app) == 1

    run_bot(fake_telegram, service, keyed, scenario)
    (alert,) = _alerts_to(fake_telegram, CY)
    assert "en Disney Plus (🇪🇸 ES)" in (alert.get("caption") or alert["text"])


def test_a_film_coming_out_in_the_persons_country_alerts_once(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        await messages(fake_telegram, ANN, 1)
        card = await _recommend(fake_telegram, ANN, 1)
        top = int(_tell_me_data(card).split(":")[1])
        film = tmdb.films[_tmdb_id(catalog_db, top)]
        # TMDB lists it as coming to US cinemas on 18 December 2026 (a re-release counts
        # as its US date here: only the US date is what an English user's country knows).
        tmdb.add(replace(film, releases={"US": (3, "2026-12-18")}))
        tmdb.touch(film.id, date(2026, 12, 10))  # the change list of the first round's day
        fake_telegram.tap(ANN, card, _tell_me_data(card))
        await until(lambda: alert_watches.watching(catalog_db, ANN, top))
        job = app.bot_data.watch
        assert await job.run(app, today=date(2026, 12, 10)) == 0
        assert await job.run(app, today=date(2026, 12, 17)) == 0
        assert await job.run(app, today=date(2026, 12, 18)) == 1
        assert await job.run(app, today=date(2026, 12, 19)) == 0

    run_bot(fake_telegram, service, keyed, scenario)
    (alert,) = _alerts_to(fake_telegram, ANN)
    assert "is out (🇺🇸 US, 18 December 2026)." in (alert.get("caption") or alert["text"])


def test_the_settings_row_turns_the_alert_on_and_off(
    fake_telegram: FakeTelegram, service, keyed, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/settings")
        card = (await messages(fake_telegram, ANN, 1))[0]
        assert WAITING_ON in buttons(card)
        fake_telegram.tap(ANN, card, WAITING_ON)

        def on() -> bool:
            sub = alerts.get_subscription(catalog_db, ANN)
            return sub is not None and sub.streaming

        await until(on)
        off = callbacks.encode(Verb.WATCH_ALERTS, 0)
        # The card is edited after the tap is stored: its button says "on" now.
        await until(lambda: off in buttons(fake_telegram.sent_messages(ANN)[0]))
        fake_telegram.tap(ANN, fake_telegram.sent_messages(ANN)[0], off)
        await until(lambda: not on())

    run_bot(fake_telegram, service, keyed, scenario)
    assert not alerts.get_subscription(catalog_db, ANN).digest  # the digest stays as it was


# ------------------------------------------------------------------ command layer and storage


def test_tell_me_when_toggles_and_stop_watching_ends_it(service, tmdb: FakeTMDB) -> None:
    service.tmdb = TmdbFilms(TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url))
    conversation = Conversation(service, "moviebot_test_bot")
    ann, chat = Sender(ANN, "Ann", "en"), Chat(ANN)
    conversation.on_text(ann, chat, "/rate Frozen 9")
    card = conversation.on_text(ann, chat, "/recommend 3").replies[-1]
    (data,) = [b.data for row in card.buttons for b in row if b.data and b.data.startswith("tm:")]
    movie_id = int(data.split(":")[1])
    first = conversation.on_button(ann, chat, data)
    assert first.toast.startswith("🔔 I'll tell you when")
    assert alert_watches.watching(service.db, ANN, movie_id)
    again = conversation.on_button(ann, chat, data)
    assert again.toast.startswith("I won't tell you about")
    assert not alert_watches.watching(service.db, ANN, movie_id)
    conversation.on_button(ann, chat, data)  # on again
    stop = callbacks.encode(Verb.TELL_ME, movie_id, TELL_ME_STOP)
    conversation.on_button(ann, chat, stop)
    conversation.on_button(ann, chat, stop)  # twice: still off, not toggled back on
    assert not alert_watches.watching(service.db, ANN, movie_id)
    forged = conversation.on_button(ann, chat, callbacks.encode(Verb.TELL_ME, movie_id, 7))
    assert forged.toast == "That button has expired. Try the command again."


def test_tell_me_when_on_a_watchlisted_film_says_yes_and_the_second_tap_stops(
    service, tmdb: FakeTMDB
) -> None:
    # A watchlisted film is watched already once the alert is on; "Tell me when" on its card
    # used to stop its alerts at the first tap.
    service.tmdb = TmdbFilms(TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url))
    conversation = Conversation(service, "moviebot_test_bot")
    ann, chat = Sender(ANN, "Ann", "en"), Chat(ANN)
    conversation.on_text(ann, chat, "/rate Frozen 9")
    card = conversation.on_text(ann, chat, "/recommend 3").replies[-1]
    (data,) = [b.data for row in card.buttons for b in row if b.data and b.data.startswith("tm:")]
    movie_id = int(data.split(":")[1])
    watchlist.save_for_later(service.db, ANN, movie_id)
    alerts.subscribe(service.db, ANN, alerts.STREAMING, True)
    assert alert_watches.watching(service.db, ANN, movie_id)
    first = conversation.on_button(ann, chat, data)
    assert first.toast.startswith("🔔 I'll tell you when")
    assert alert_watches.watching(service.db, ANN, movie_id)
    again = conversation.on_button(ann, chat, data)
    assert again.toast.startswith("I won't tell you about")
    assert not alert_watches.watching(service.db, ANN, movie_id)


def test_without_a_tmdb_key_no_card_or_setting_offers_the_alert(service) -> None:
    conversation = Conversation(service, "moviebot_test_bot")
    ann, chat = Sender(ANN, "Ann", "en"), Chat(ANN)
    conversation.on_text(ann, chat, "/rate Frozen 9")
    card = conversation.on_text(ann, chat, "/recommend 3").replies[-1]
    settings = conversation.on_text(ann, chat, "/settings").replies[-1]
    data = [b.data for reply in (card, settings) for row in reply.buttons for b in row]
    assert not [d for d in data if d and d.split(":")[0] in ("tm", "aw")]


def test_forget_removes_the_films_a_person_waits_for(catalog_db: Database) -> None:
    users.save_user(catalog_db, ANN, "Annabella")
    movie_id = catalog_db.execute("SELECT min(id) FROM movies").fetchone()[0]
    alert_watches.tell_me(catalog_db, ANN, movie_id, True)
    alert_watches.note_seen(catalog_db, ANN, movie_id, False, True, "ES:")
    users.forget_user(catalog_db, ANN)
    assert rows_mentioning(catalog_db, str(ANN), "Annabella") == {}
    assert catalog_db.execute("SELECT count(*) FROM alert_watches").fetchone()[0] == 0


def test_facts_cached_before_dates_were_kept_are_not_taken_for_unreleased() -> None:
    old = FilmFacts(862, "tt0114709", None, 81, {}, {}).to_json()
    cached = old.replace(', "release_date": null, "releases": {}', "")
    facts = FilmFacts.from_json(cached)
    assert facts.out_on("ES") is None  # unknown: not "unreleased", which would alert later


def test_release_dates_are_read_per_country_theatrical_or_digital() -> None:
    body = {
        "id": 1,
        "release_date": "2026-11-01",
        "release_dates": {
            "results": [
                {
                    "iso_3166_1": "ES",
                    "release_dates": [
                        {"type": 1, "release_date": "2026-09-01T00:00:00.000Z"},  # premiere
                        {"type": 4, "release_date": "2027-01-15T00:00:00.000Z"},  # digital
                        {"type": 3, "release_date": "2026-12-04T00:00:00.000Z"},
                    ],
                }
            ]
        },
    }
    facts = FilmFacts.from_json(FilmFacts.from_tmdb(body).to_json())
    assert facts.out_on("es") == date(2026, 12, 4)
    assert facts.out_on("FR") == date(2026, 11, 1)  # no date there: the primary one


def test_settings_say_the_alert_is_on_when_only_it_is_on(service, tmdb: FakeTMDB) -> None:
    """The "Alerts:" line said "none" while the streaming alert was on (it read the digest
    only)."""
    service.tmdb = TmdbFilms(TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url))
    conversation = Conversation(service, "moviebot_test_bot")
    ann, chat = Sender(ANN, "Ann", "es"), Chat(ANN)
    conversation.on_text(ann, chat, "/settings")
    tapped = conversation.on_button(ann, chat, WAITING_ON)
    assert tapped.toast.startswith("Avisos activados: cuando una película que esperas")
    said = to_plain(tapped.edit.text)
    assert "Avisos: ninguno" not in said
    assert "Avisos: películas que esperas" in said
    label = [
        b.label
        for row in tapped.edit.buttons
        for b in row
        if b.data == callbacks.encode(Verb.WATCH_ALERTS, 0)
    ]
    assert label == ["🔔 Cuando una película que espero llegue al streaming o se estrene ✓"]


def test_a_film_fetched_during_the_last_round_is_asked_again_this_round(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    """A watched film's facts fetched a minute into the previous round (a round is
    WATCH_SECONDS apart) were still "fresh" at this round's start, so a change was seen only
    two rounds later."""

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        await messages(fake_telegram, ANN, 1)
        card = await _recommend(fake_telegram, ANN, 1)
        top = int(_tell_me_data(card).split(":")[1])
        fake_telegram.tap(ANN, card, _tell_me_data(card))
        await until(lambda: alert_watches.watching(catalog_db, ANN, top))
        assert await app.bot_data.watch.run(app) == 0
        # As if fetched a minute after the previous round began, one round ago.
        fetched = datetime.now(UTC) - timedelta(seconds=WATCH_SECONDS - 60)
        with catalog_db.atomic():
            catalog_db.execute(
                "UPDATE tmdb_cache SET fetched_at = ?",
                [fetched.isoformat(timespec="microseconds")],
            )
        asked = tmdb.movie_requests().count(_tmdb_id(catalog_db, top))
        assert await app.bot_data.watch.run(app) == 0
        assert tmdb.movie_requests().count(_tmdb_id(catalog_db, top)) == asked + 1

    run_bot(fake_telegram, service, keyed, scenario)


def test_an_alert_fires_once_across_a_restart_even_if_what_was_seen_is_lost(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    watched: list[int] = []
    fake_telegram.set_language(ANN, "es")  # in Spain, where nothing streams yet

    async def first_run(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        await messages(fake_telegram, ANN, 1)
        card = await _recommend(fake_telegram, ANN, 1)
        watched.append(int(_tell_me_data(card).split(":")[1]))
        fake_telegram.tap(ANN, card, _tell_me_data(card))
        await until(lambda: alert_watches.watching(catalog_db, ANN, watched[0]))
        assert await app.bot_data.watch.run(app) == 0
        _streams_in_spain(tmdb, _tmdb_id(catalog_db, watched[0]), NETFLIX)
        assert await app.bot_data.watch.run(app) == 1

    run_bot(fake_telegram, service, keyed, first_run)
    # As if the note of what was seen had been lost: the outbox's key still says "sent".
    with catalog_db.atomic():
        catalog_db.execute("UPDATE alert_watches SET streams = 0")  # seen_for kept

    async def second_run(app: Application) -> None:
        assert await app.bot_data.watch.run(app) == 0
        assert await app.bot_data.alerts.run(app) == 0

    run_bot(fake_telegram, service, keyed, second_run)
    assert len(_alerts_to(fake_telegram, ANN)) == 1
    assert catalog_db.execute("SELECT count(*) FROM alert_outbox").fetchone()[0] == 1


def test_turning_the_alert_off_means_no_alert_and_the_outbox_matches_the_settings(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        await messages(fake_telegram, ANN, 1)
        card = await _recommend(fake_telegram, ANN, 1)
        top = int(_tell_me_data(card).split(":")[1])
        fake_telegram.tap(ANN, card, _tell_me_data(card))
        await until(lambda: alert_watches.watching(catalog_db, ANN, top))
        tmdb_cache.choose_country(catalog_db, ANN, "ES")
        assert await app.bot_data.watch.run(app) == 0
        alerts.subscribe(catalog_db, ANN, alerts.STREAMING, False)  # /settings: off
        _streams_in_spain(tmdb, _tmdb_id(catalog_db, top), NETFLIX)
        assert await app.bot_data.watch.run(app) == 0
        assert await app.bot_data.alerts.run(app) == 0

    run_bot(fake_telegram, service, keyed, scenario)
    assert _alerts_to(fake_telegram, ANN) == []
    assert outbox_without_opt_in(catalog_db) == []
    assert catalog_db.execute("SELECT count(*) FROM alert_outbox").fetchone()[0] == 0


def test_the_weekly_digest_offers_tell_me_when_for_its_top_film(service, tmdb: FakeTMDB) -> None:
    service.tmdb = TmdbFilms(TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url))
    users.save_user(service.db, ANN, "Ann", "en")
    alerts.subscribe(service.db, ANN, alerts.DIGEST, True)
    new = [m for m, _ in sorted(ratings.rating_counts(service.db).items(), key=lambda x: -x[1])]
    with service.db.atomic():
        marks = ",".join("?" * 12)
        service.db.execute(
            f"UPDATE movies SET added_at = ? WHERE id IN ({marks})", [utc_now(), *new[20:32]]
        )
    digest = weekly_digest(service, alerts.get_subscription(service.db, ANN))
    card = digest.replies[0]
    top = get_movie(service.db, card.poster.movie_id)
    assert top.id in new[20:32]
    assert card.buttons[1] == tell_me_row(top)


def test_naming_a_service_the_film_already_streams_on_is_not_news(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    """The person changed, not the film: adding Netflix in /settings sent "now streaming on
    Netflix" for a film that had been there all along."""
    fake_telegram.set_language(ANN, "es")

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        await messages(fake_telegram, ANN, 1)
        card = await _recommend(fake_telegram, ANN, 1)
        top = int(_tell_me_data(card).split(":")[1])
        tmdb_cache.set_service(catalog_db, ANN, DISNEY[0], True)
        fake_telegram.tap(ANN, card, _tell_me_data(card))
        await until(lambda: alert_watches.watching(catalog_db, ANN, top))
        _streams_in_spain(tmdb, _tmdb_id(catalog_db, top), NETFLIX)
        assert await app.bot_data.watch.run(app) == 0  # on Netflix, which Ann lacks
        tmdb_cache.set_service(catalog_db, ANN, NETFLIX[0], True)
        assert await app.bot_data.watch.run(app) == 0
        tmdb_cache.choose_country(catalog_db, ANN, "US")  # and moving is not news either
        assert await app.bot_data.watch.run(app) == 0

    run_bot(fake_telegram, service, keyed, scenario)
    assert _alerts_to(fake_telegram, ANN) == []


def test_out_and_streaming_in_one_round_is_one_message(service) -> None:
    db = service.db
    users.save_user(db, ANN, "Ann", "es")
    alerts.subscribe(db, ANN, alerts.STREAMING, True, "Europe/Madrid")
    movie_id = db.execute("SELECT min(id) FROM movies").fetchone()[0]
    alert_watches.tell_me(db, ANN, movie_id, True)
    movies = get_movies(db, [movie_id])

    def look(streaming: tuple, today: date) -> int:
        offers = Offers(None, streaming, ((2, "Apple TV"),))
        facts = FilmFacts(1, None, None, 90, {}, {"ES": offers}, None, {"ES": "2026-12-18"})
        watches = alert_watches.watched(db)
        return journal_watches(service, watches, movies, {movie_id: facts}, today)

    assert look((), date(2026, 12, 10)) == 0  # the first look
    assert look((), date(2026, 12, 17)) == 0
    assert look((NETFLIX,), date(2026, 12, 18)) == 1
    assert look((NETFLIX,), date(2026, 12, 19)) == 0
    rows = db.execute("SELECT period, state, outcome FROM alert_outbox ORDER BY period").fetchall()
    assert [(period, state) for period, state, _ in rows] == [
        (f"{movie_id}:out", "sent"),  # said by the other one
        (f"{movie_id}:stream", "pending"),
    ]
    (reply,) = outcome_from_json(rows[1][2]).replies
    assert "ya se ha estrenado y está en streaming en Netflix (🇪🇸 ES)" in to_plain(reply.text)


def test_similar_offers_tell_me_when_for_its_top_film(service, tmdb: FakeTMDB) -> None:
    service.tmdb = TmdbFilms(TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url))
    conversation = Conversation(service, "moviebot_test_bot")
    ann, chat = Sender(ANN, "Ann", "en"), Chat(ANN)
    answer = conversation.on_text(ann, chat, "/similar Toy Story")
    top = get_movie(service.db, answer.replies[0].poster.movie_id)
    assert answer.replies[-1].buttons[0] == tell_me_row(top)
    tapped = conversation.on_button(ann, chat, answer.replies[-1].buttons[0][0].data)
    assert tapped.toast.startswith("🔔 I'll tell you when")
    assert alert_watches.watching(service.db, ANN, top.id)


def test_no_alert_is_ever_journaled_for_someone_not_opted_in_or_not_waiting(service) -> None:
    """Many people, some opted in, some not, some turning it off midway; films starting to
    stream at random: the outbox, scanned against the settings, holds only alerts of people
    opted in, for films they wait for."""
    db, rng = service.db, random.Random(28)
    ids = [r[0] for r in db.execute("SELECT id FROM movies ORDER BY id LIMIT 12")]
    movies = get_movies(db, ids)
    people = list(range(4_000_001, 4_000_031))
    for uid in people:
        users.save_user(db, uid, f"p{uid}", rng.choice(["es", "en", "ru"]))
        if rng.random() < 0.6:
            alerts.subscribe(db, uid, alerts.STREAMING, True)
        for film in rng.sample(ids, 4):
            watchlist.save_for_later(db, uid, film)
        alert_watches.tell_me(db, uid, rng.choice(ids), rng.random() < 0.7)
    streaming: set[int] = set()
    for day in range(1, 8):
        streaming |= set(rng.sample(ids, 2))
        known = {
            f: FilmFacts(
                f,
                None,
                None,
                90,
                {},
                {
                    c: Offers(None, ((8, "Netflix"),) if f in streaming else ())
                    for c in ("ES", "US", "RU")
                },
            )
            for f in ids
        }
        journal_watches(service, alert_watches.watched(db), movies, known, date(2026, 12, day))
        for uid in rng.sample(people, 3):  # some turn it off (or on) between rounds
            alerts.subscribe(db, uid, alerts.STREAMING, rng.random() < 0.5)
        assert outbox_without_opt_in(db) == []
    waited = {(w.user_id, w.movie_id) for w in alert_watches.watched(db)}
    rows = db.execute("SELECT user_id, period, state FROM alert_outbox").fetchall()
    assert rows  # the scenario did alert someone
    for uid, period, state in rows:
        film = int(period.split(":")[0])
        assert (uid, film) in waited or state == "dropped"
        assert period.endswith(":stream")  # no release facts: no release alert
