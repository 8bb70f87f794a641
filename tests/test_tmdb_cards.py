"""Cards with TMDB posters through the real PTB stack: the loopback Bot API (strict about
sendPhoto's caption like sendMessage's text) and the loopback TMDB (devtools/fake_tmdb) with the
real client; and without a key, today's text card with the country's JustWatch site."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlite_utils import Database
from telegram.ext import Application

from bot.commands.conversation import Chat, Conversation, Sender
from bot.tmdb.client import TmdbConfig
from bot.tmdb.facts import FilmFacts, Offers
from bot.ui import callbacks, countries
from bot.ui.callbacks import Verb
from bot.ui.posters import MAX_CAPTION, poster_caption, visible_length
from bot.ui.replies import Outcome, Poster, Reply, outcome_from_json, outcome_to_json
from devtools.app import messages, run_bot
from devtools.fake_telegram.server import FakeTelegram
from devtools.fake_tmdb import films
from devtools.fake_tmdb.server import FakeTMDB
from storage import tmdb_cache

ANN, BEA, CHE = 701, 702, 703


@pytest.fixture
def tmdb(catalog_db: Database):
    """The loopback TMDB knowing every catalog film with a TMDB id."""
    rows = catalog_db["movies"].rows_where(
        "tmdb_id IS NOT NULL", select="tmdb_id, imdb_id, title, year"
    )
    catalog = films.catalog((r["tmdb_id"], r["imdb_id"], r["title"], r["year"]) for r in rows)
    with FakeTMDB(catalog) as server:
        yield server


@pytest.fixture
def conversation(service) -> Conversation:
    return Conversation(service, bot_username="moviebot_test_bot")


@pytest.fixture
def keyed(settings, tmdb: FakeTMDB):
    """The bot's settings with the operator's TMDB key pointing at the loopback TMDB."""
    return replace(settings, tmdb=TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url))


def test_recommend_is_one_photo_with_the_card_as_caption_and_a_warm_cache_asks_nothing(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        await messages(fake_telegram, ANN, 1)
        fake_telegram.send_text(ANN, "/recommend 5")
        card = (await messages(fake_telegram, ANN, 2))[1]
        assert "photo" in card and "text" not in card
        assert "\n1. " in card["caption"] and "\n5. " in card["caption"]  # the list follows
        asked = len(tmdb.requests)
        assert asked == 1  # one round trip for the one film shown with a poster
        fake_telegram.send_text(ANN, "/recommend 5")
        again = (await messages(fake_telegram, ANN, 3))[2]
        # The same top pick, from the cache (its lines; the scores may move a little).
        assert again["caption"].split("\n")[:3] == card["caption"].split("\n")[:3]
        assert len(tmdb.requests) == asked  # warm cache: no request

    run_bot(fake_telegram, service, keyed, scenario)
    photo = fake_telegram.calls_of("sendPhoto")[0].params
    top = tmdb.films[tmdb.movie_requests()[0]]
    assert photo["photo"] == f"{tmdb.image_url}/w500{top.poster_path}"
    assert photo["parse_mode"] == "HTML"
    assert fake_telegram.world.file_urls == [photo["photo"]] * 2
    caption = fake_telegram.sent_messages(ANN)[1]["caption"]
    assert caption.startswith(f"{top.title} ({top.release_date[:4]}) · {top.runtime} min")
    assert f"What happens in {top.title}." in caption
    assert "🇺🇸 Stream" in caption or "🇺🇸 Rent" in caption  # an English user: the US
    assert "Streaming data: JustWatch" in caption
    # The buttons (links, Rate/Save...) are on the photo message.
    markup = fake_telegram.sent_messages(ANN)[1]["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in markup[0]][-1] == "Where to watch ↗"
    assert not fake_telegram.calls_of("sendMessage")[1:]  # the card went as a photo only
    assert tmdb_cache.cached_count(catalog_db) == 1


def test_a_spanish_user_sees_the_spanish_overview_and_spanish_services(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB
) -> None:
    fake_telegram.set_language(BEA, "es")

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(BEA, "/rate Frozen 9")
        await messages(fake_telegram, BEA, 1)
        fake_telegram.send_text(BEA, "/recommend 3")
        await messages(fake_telegram, BEA, 2)

    run_bot(fake_telegram, service, keyed, scenario)
    caption = fake_telegram.sent_messages(BEA)[1]["caption"]
    top = tmdb.films[tmdb.movie_requests()[0]]
    spanish_title, spanish_overview = top.translations["es"]
    assert spanish_overview in caption
    assert top.overview not in caption
    assert "🇪🇸 Streaming: " in caption
    spain = top.providers["ES"]
    assert spain.flatrate[0][1] in caption  # Netflix or Movistar Plus+, as Spain has it
    assert "Alquiler: Apple TV" in caption
    assert "Datos de streaming: JustWatch" in caption
    links = [
        e["url"] for e in fake_telegram.sent_messages(BEA)[1]["caption_entities"] if "url" in e
    ]
    assert links[0] == f"https://www.imdb.com/title/{top.imdb_id}/"  # the title, as in a text card
    assert f"https://www.themoviedb.org/movie/{top.id}/watch?locale=ES" in links


def test_a_tapped_score_on_a_poster_card_edits_its_caption(
    fake_telegram: FakeTelegram, service, keyed
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(CHE, "/start")
        sent = await messages(fake_telegram, CHE, 2)
        card = next(m for m in sent if "photo" in m)
        rate = next(
            b["callback_data"]
            for row in card["reply_markup"]["inline_keyboard"]
            for b in row
            if b.get("callback_data", "").startswith("r:") and b["callback_data"].endswith(":8")
        )
        fake_telegram.tap(CHE, card, rate)
        await fake_telegram.wait_for_calls("editMessageCaption", 1)
        await messages(fake_telegram, CHE, len(sent) + 1)

    run_bot(fake_telegram, service, keyed, scenario)
    edited = fake_telegram.calls_of("editMessageCaption")[0].params
    assert edited["caption"].endswith("8/10 ✓")
    assert fake_telegram.calls_of("editMessageText") == []


def test_without_a_key_the_card_is_text_with_the_countrys_justwatch_site(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    fake_telegram.set_language(BEA, "es-MX")
    fake_telegram.set_language(CHE, "ru")

    async def scenario(app: Application) -> None:
        for user in (ANN, BEA, CHE):
            fake_telegram.send_text(user, "/rate Frozen 9")
            await messages(fake_telegram, user, 1)
            fake_telegram.send_text(user, "/recommend 3")
            await messages(fake_telegram, user, 2)

    run_bot(fake_telegram, service, settings, scenario)
    assert fake_telegram.calls_of("sendPhoto") == []
    sites = []
    for user in (ANN, BEA, CHE):
        card = fake_telegram.sent_messages(user)[1]
        assert "text" in card
        where = card["reply_markup"]["inline_keyboard"][0][-1]["url"]
        sites.append(where.split("/search")[0])
    # Mexico's site for es-MX; Russia has no JustWatch site: the US one.
    assert sites == [
        "https://www.justwatch.com/us",
        "https://www.justwatch.com/mx",
        "https://www.justwatch.com/us",
    ]


def test_settings_pick_the_country_and_the_link_follows(conversation: Conversation) -> None:
    sender, chat = Sender(ANN, "Ann", "es"), Chat(ANN)
    card = conversation.on_text(sender, chat, "/settings").replies[0]
    assert "Dónde ver: 🇪🇸 ES" in card.text
    opener = next(
        b for row in card.buttons for b in row if b.data == callbacks.encode(Verb.COUNTRY, -1)
    )
    picker = conversation.on_button(sender, chat, opener.data).edit
    mexico = next(b for row in picker.buttons for b in row if b.label.endswith("MX"))
    back = conversation.on_button(sender, chat, mexico.data)
    assert "Dónde ver: 🇲🇽 MX" in back.edit.text
    assert countries.country_of(conversation.db, ANN, "es") == "MX"
    picks = conversation.on_text(sender, chat, "/recommend 2").replies[0]
    assert picks.poster is not None and picks.poster.country == "MX"
    assert picks.buttons[0][-1].url.startswith("https://www.justwatch.com/mx/search?q=")
    auto = next(b for row in picker.buttons for b in row if b.data.endswith(":0"))
    conversation.on_button(sender, chat, auto.data)
    assert countries.country_of(conversation.db, ANN, "es") == "ES"


@pytest.mark.parametrize(
    "code, country",
    [("es-MX", "MX"), ("pt-br", "BR"), ("es", "ES"), ("ru", "RU"), ("en", "US"), (None, "US")],
)
def test_the_country_is_guessed_from_telegrams_language(code, country) -> None:
    assert countries.guess(code) == country


def test_a_poster_survives_the_journal() -> None:
    with countries.located("MX"):
        reply = Reply("<b>x</b>", poster=Poster(1, "es"))
    assert reply.poster == Poster(1, "es", "MX")
    stored = outcome_from_json(outcome_to_json(Outcome(replies=[reply])))
    assert stored.replies[0].poster == reply.poster


def test_a_caption_too_long_is_split_into_the_poster_and_the_text() -> None:
    facts = FilmFacts(
        1,
        poster_path="/p.jpg",
        runtime=100,
        overviews={"en": "A film. " * 100},
        offers={"US": Offers("https://tmdb/1/watch", ((8, "Netflix"),))},
    )
    short = "<b>Your picks</b>\n1. A &amp; B"
    caption, rest = poster_caption(short, "A &amp; B", facts, "en", "US")
    assert rest is None and caption.endswith(short)
    assert "A film." in caption and "A film. A film." not in caption  # one line only
    long = "\n".join(f"{i}. <a href='https://x.org/{i}'>{'&lt;' * 60}</a>" for i in range(20))
    caption, rest = poster_caption(long, "A", facts, "en", "US")
    assert rest == long
    assert visible_length(caption) <= MAX_CAPTION
    assert "Netflix" in caption and "Streaming data: JustWatch" in caption


def test_the_console_prints_the_poster_url_and_the_films_lines(
    service, tmdb: FakeTMDB, tmp_path
) -> None:
    import io

    from bot.console import ConsoleChat
    from bot.tmdb.films import TmdbFilms

    service.tmdb = TmdbFilms(TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url))
    out = io.StringIO()
    chat = ConsoleChat(Conversation(service), Sender(ANN, "Ann", "es"), out, picture_dir=tmp_path)
    chat.handle("/similar Toy Story")
    printed = out.getvalue()
    top = tmdb.films[tmdb.movie_requests()[0]]
    assert f"[poster: {tmdb.image_url}/w500{top.poster_path}]" in printed
    assert top.translations["es"][1] in printed
    assert "Datos de streaming: JustWatch" in printed
    assert tmdb.images == []  # the console downloads nothing


def test_inline_results_get_poster_thumbnails(
    fake_telegram: FakeTelegram, service, keyed, tmdb: FakeTMDB
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.inline_query(ANN, "toy story")
        await fake_telegram.wait_for_calls("answerInlineQuery", 1)
        fake_telegram.inline_query(ANN, "toy story")
        await fake_telegram.wait_for_calls("answerInlineQuery", 2)

    run_bot(fake_telegram, service, keyed, scenario)
    first, second = (c.params["results"] for c in fake_telegram.calls_of("answerInlineQuery"))
    toy_story = next(r for r in first if r["id"] == "m1")
    assert toy_story["thumbnail_url"] == f"{tmdb.image_url}/w92{films.TOY_STORY.poster_path}"
    assert second == first
    asked = {path for path, _ in tmdb.requests}
    assert len(tmdb.requests) == len(asked) == len(first)  # each film once; then the cache


def test_recommend_streaming_picks_only_films_on_the_users_services_in_their_country(
    conversation: Conversation, service, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    import asyncio

    from bot.tmdb.client import TmdbClient
    from bot.tmdb.films import facts_for
    from storage.movies import get_movies

    sender, chat = Sender(BEA, "Bea", "es"), Chat(BEA)
    conversation.on_text(sender, chat, "/rate Frozen 9")
    refused = conversation.on_text(sender, chat, "/recommend streaming").replies[0].text
    assert "/settings" in refused  # no services yet
    picker = conversation.on_button(sender, chat, "sv:-1").edit
    assert [b.label for b in picker.buttons[0]] == ["Netflix", "Amazon Prime Video", "Disney Plus"]
    for pid in (8, 337, 9, 9):  # Netflix, Disney Plus; Prime Video ticked and unticked
        picker = conversation.on_button(sender, chat, f"sv:{pid}").edit
    assert [b.label for b in picker.buttons[0]] == [
        "Netflix ✓",
        "Amazon Prime Video",
        "Disney Plus ✓",
    ]
    back = conversation.on_button(sender, chat, "sv:0").edit
    assert "Mis servicios: Netflix, Disney Plus" in back.text
    # What the bot learnt from TMDB so far: the 60 films it would show first.
    shown = [p.movie.id for p in service.recommend(BEA, 60)]

    async def warm() -> None:
        async with TmdbClient(TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url)) as client:
            movies = get_movies(catalog_db, shown).values()
            await facts_for(movies, client=client, run=run_here, db=catalog_db)

    asyncio.run(warm())
    reply = conversation.on_text(sender, chat, "/recommend 5 streaming").replies[0]
    ids = picked(reply)
    assert len(ids) == 5
    films_by_id = get_movies(catalog_db, ids)
    for movie_id in ids:
        spain = tmdb.films[films_by_id[movie_id].tmdb_id].providers["ES"]
        assert {pid for pid, _ in spain.flatrate} & {8, 337}, movie_id
    assert reply.text.count("en Netflix") + reply.text.count("en Disney Plus") == 5
    # In the US the same services carry other films: the country decides.
    us = conversation.on_text(Sender(BEA, "Bea", "en"), chat, "/recommend 5 streaming")
    for movie_id in (
        int(b.data.split(":")[1]) for row in us.replies[0].buttons[1:] for b in row[:1]
    ):
        usa = tmdb.films[get_movies(catalog_db, [movie_id])[movie_id].tmdb_id].providers["US"]
        assert {pid for pid, _ in usa.flatrate} & {8, 337}


def picked(reply: Reply) -> list[int]:
    """The movie ids of a /recommend answer, from its "Rate n" buttons."""
    return [int(row[0].data.split(":")[1]) for row in reply.buttons[1:]]


async def run_here(fn, *args):
    return fn(*args)


def test_tmdb_unreachable_leaves_the_text_card(
    fake_telegram: FakeTelegram, service, settings, tmdb: FakeTMDB
) -> None:
    dead = replace(settings, tmdb=TmdbConfig(tmdb.token, "http://127.0.0.1:9/3", tmdb.image_url))

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        await messages(fake_telegram, ANN, 1)
        fake_telegram.send_text(ANN, "/recommend 3")
        await messages(fake_telegram, ANN, 2)

    run_bot(fake_telegram, service, dead, scenario)
    assert fake_telegram.calls_of("sendPhoto") == []
    card = fake_telegram.sent_messages(ANN)[1]
    assert "1. " in card["text"] and "Where to watch ↗" in str(card["reply_markup"])


def test_a_wrong_key_leaves_the_text_card_and_nothing_is_cached(
    fake_telegram: FakeTelegram, service, settings, tmdb: FakeTMDB, catalog_db: Database
) -> None:
    wrong = replace(settings, tmdb=TmdbConfig("wrong-key", tmdb.api_url, tmdb.image_url))

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/similar Toy Story")
        await messages(fake_telegram, ANN, 1)

    run_bot(fake_telegram, service, wrong, scenario)
    assert fake_telegram.calls_of("sendPhoto") == []
    assert "text" in fake_telegram.sent_messages(ANN)[0]
    assert len(tmdb.requests) == 1  # one 401, not retried
    assert tmdb_cache.cached_count(catalog_db) == 0
