"""The TMDB client and cache against the loopback TMDB (devtools/fake_tmdb), strict like the real
one: auth, 404s, 429 with Retry-After, the documented shapes, and the cache saving requests."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import aiohttp
import pytest
from sqlite_utils import Database

from bot.tmdb.client import NotFound, TmdbClient, TmdbConfig, TmdbError
from bot.tmdb.facts import FilmFacts
from bot.tmdb.films import facts_for, refresh_changed
from devtools.fake_tmdb import films
from devtools.fake_tmdb.server import FakeTMDB
from storage import tmdb_cache
from storage.movies import get_movies

TOY_STORY, MATRIX, TED, FROZEN = 1, 2571, 95441, 106696  # MovieLens ids of the written films


async def run(fn, *args):
    """The database "thread" of these tests: the caller's."""
    return fn(*args)


def config(tmdb: FakeTMDB, token: str | None = None) -> TmdbConfig:
    return TmdbConfig(token or tmdb.token, tmdb.api_url, tmdb.image_url)


def test_config_from_env_needs_a_token_and_hides_it() -> None:
    assert TmdbConfig.from_env({}) is None
    assert TmdbConfig.from_env({"MOVIEBOT_TMDB_TOKEN": "  "}) is None
    found = TmdbConfig.from_env(
        {"MOVIEBOT_TMDB_TOKEN": "abc123", "MOVIEBOT_TMDB_API_URL": "http://x:1/3/"}
    )
    assert found == TmdbConfig("abc123", "http://x:1/3", "https://image.tmdb.org/t/p")
    assert not found.is_bearer
    assert "abc123" not in repr(found)


@pytest.mark.parametrize("bearer", [True, False])
def test_movie_with_everything_appended_in_one_request(bearer: bool) -> None:
    async def main() -> dict:
        async with FakeTMDB() as tmdb:
            key = tmdb.token if bearer else tmdb.api_key
            async with TmdbClient(config(tmdb, key)) as client:
                body = await client.movie(862)
            assert len(tmdb.requests) == 1
            path, query = tmdb.requests[0]
            assert path == "/3/movie/862"
            assert ("api_key" in query) is not bearer
            return body

    body = asyncio.run(main())
    facts = FilmFacts.from_tmdb(body)
    assert facts.poster_path == films.TOY_STORY.poster_path
    assert facts.runtime == 81
    assert facts.imdb_id == "tt0114709"
    assert facts.overview("es-MX").startswith("Los juguetes de Andy")
    assert facts.overview("ru").startswith("Игрушки Энди")
    assert facts.overview("de") is None
    spain = facts.offers_in("es")
    assert spain is not None
    assert spain.names("flatrate") == ["Disney Plus"]
    assert spain.names("rent") == ["Apple TV"]
    assert spain.link == "https://www.themoviedb.org/movie/862/watch?locale=ES"
    assert facts.offers_in("RU").names("flatrate") == ["Kinopoisk"]
    assert facts.offers_in("FR") is None
    assert FilmFacts.from_json(facts.to_json()) == facts


@pytest.mark.parametrize("key", ["wrong-v3-key", "eyJ.wrong.token"])
def test_a_wrong_key_gets_tmdbs_401(key: str) -> None:
    async def main() -> None:
        async with FakeTMDB() as tmdb:
            # What the real service answers, seen without the client.
            session = aiohttp.ClientSession()
            async with session, session.get(f"{tmdb.api_url}/movie/862") as response:
                assert response.status == 401
                assert (await response.json())["status_code"] == 7
            async with TmdbClient(config(tmdb, key)) as client:
                with pytest.raises(TmdbError, match="401"):
                    await client.movie(862)

    asyncio.run(main())


def test_unknown_film_is_not_found_and_unknown_imdb_id_finds_nothing() -> None:
    async def main() -> None:
        async with FakeTMDB() as tmdb, TmdbClient(config(tmdb)) as client:
            with pytest.raises(NotFound):
                await client.movie(999999)
            assert await client.find_imdb("tt0133093") == 603
            assert await client.find_imdb("tt9999999") is None
            async with aiohttp.ClientSession() as session:
                url = f"{tmdb.api_url}/movie/999999?api_key={tmdb.api_key}"
                async with session.get(url) as response:
                    assert (response.status, (await response.json())["status_code"]) == (404, 34)

    asyncio.run(main())


def test_429_retry_after_is_waited_out() -> None:
    async def main() -> None:
        async with FakeTMDB() as tmdb, TmdbClient(config(tmdb)) as client:
            tmdb.throttle(2, retry_after=1)
            loop = asyncio.get_running_loop()
            began = loop.time()
            body = await client.movie(603)
            waited = loop.time() - began
            assert body["id"] == 603
            assert tmdb.throttled == 2
            assert client.calls == 3
            # Two Retry-After: 1 honoured (a bound on correctness, not a speed target).
            assert waited >= 2.0

    asyncio.run(main())


def test_throttled_beyond_retries_is_an_error() -> None:
    async def main() -> None:
        async with FakeTMDB() as tmdb, TmdbClient(config(tmdb), retries=1) as client:
            tmdb.throttle(5, retry_after=1)
            with pytest.raises(TmdbError, match="429"):
                await client.movie(603)
            assert client.calls == 2

    asyncio.run(main())


def test_client_rate_cap_keeps_under_the_servers_limit() -> None:
    async def main() -> None:
        catalog = [films.made_up(i, None, f"Film {i}", 2000) for i in range(1, 13)]
        # The client stays below the server's limit, as 40/s stays below TMDB's ~50/s.
        async with FakeTMDB(catalog, rate_limit=7, rate_window=0.5) as tmdb:
            async with TmdbClient(config(tmdb), rate=5, per=0.5) as client:
                bodies = await asyncio.gather(*(client.movie(i) for i in range(1, 13)))
            assert [b["id"] for b in bodies] == list(range(1, 13))
            assert tmdb.throttled == 0
            assert sorted(tmdb.movie_requests()) == list(range(1, 13))

    asyncio.run(main())


def test_server_throttles_a_client_without_a_cap() -> None:
    async def main() -> None:
        async with FakeTMDB(rate_limit=3, rate_window=60) as tmdb:
            async with aiohttp.ClientSession() as session:
                url = f"{tmdb.api_url}/movie/603?api_key={tmdb.api_key}"
                statuses = []
                for _ in range(4):
                    async with session.get(url) as response:
                        statuses.append(response.status)
                        retry_after = response.headers.get("Retry-After")
            assert statuses == [200, 200, 200, 429]
            assert retry_after is not None and int(retry_after) >= 1

    asyncio.run(main())


def test_changes_lists_touched_films_in_14_day_windows() -> None:
    async def main() -> None:
        async with FakeTMDB() as tmdb, TmdbClient(config(tmdb)) as client:
            today = date.today()
            tmdb.touch(862, today - timedelta(days=20))
            tmdb.touch(603, today)
            assert await client.changed_ids(today - timedelta(days=3), today) == {603}
            assert await client.changed_ids(today - timedelta(days=30), today) == {862, 603}
            # Each request stayed within TMDB's 14-day limit (the fake answers 400 beyond it).
            assert len(tmdb.requests) == 1 + 3

    asyncio.run(main())


def test_images_are_served_for_known_posters_only() -> None:
    async def main() -> None:
        async with FakeTMDB() as tmdb, aiohttp.ClientSession() as session:
            poster = config(tmdb).image(films.TOY_STORY.poster_path, "w342")
            async with session.get(poster) as response:
                assert response.status == 200
                assert response.content_type == "image/jpeg"
                assert (await response.read())[:2] == b"\xff\xd8"
            async with session.get(config(tmdb).image("/nope.jpg")) as response:
                assert response.status == 404

    asyncio.run(main())


def test_facts_are_cached_and_a_warm_cache_asks_nothing(catalog_db: Database) -> None:
    movies = list(get_movies(catalog_db, [TOY_STORY, MATRIX, TED, FROZEN]).values())

    async def main() -> None:
        async with FakeTMDB() as tmdb, TmdbClient(config(tmdb)) as client:
            first = await facts_for(movies, client=client, run=run, db=catalog_db)
            assert sorted(tmdb.movie_requests()) == [603, 862, 72105, 109445]
            assert first[TOY_STORY].runtime == 81
            assert first[FROZEN].poster_path is None
            before = len(tmdb.requests)
            again = await facts_for(movies, client=client, run=run, db=catalog_db)
            assert len(tmdb.requests) == before  # cache hit: 0 requests
            assert again == first

    asyncio.run(main())
    assert tmdb_cache.cached_count(catalog_db) == 4


def test_imdb_only_film_is_found_by_imdb_id_and_misses_are_remembered(
    catalog_db: Database,
) -> None:
    catalog_db.execute("UPDATE movies SET tmdb_id = NULL WHERE id IN (?, ?)", [MATRIX, TED])
    catalog_db.execute("UPDATE movies SET imdb_id = 'tt9999999' WHERE id = ?", [TED])
    movies = list(get_movies(catalog_db, [MATRIX, TED]).values())

    async def main() -> None:
        async with FakeTMDB() as tmdb, TmdbClient(config(tmdb)) as client:
            found = await facts_for(movies, client=client, run=run, db=catalog_db)
            assert list(found) == [MATRIX]
            assert found[MATRIX].tmdb_id == 603
            paths = sorted(path for path, _ in tmdb.requests)
            assert paths == ["/3/find/tt0133093", "/3/find/tt9999999", "/3/movie/603"]
            await facts_for(movies, client=client, run=run, db=catalog_db)
            assert len(tmdb.requests) == 3  # the miss is cached too

    asyncio.run(main())


def test_tmdb_down_leaves_films_out_and_uncached(catalog_db: Database) -> None:
    movies = list(get_movies(catalog_db, [TOY_STORY]).values())

    async def main() -> None:
        async with FakeTMDB() as tmdb:
            dead = TmdbConfig(tmdb.token, "http://127.0.0.1:9/3", tmdb.image_url)
        async with TmdbClient(dead, timeout=2) as client:
            assert await facts_for(movies, client=client, run=run, db=catalog_db) == {}

    asyncio.run(main())
    assert tmdb_cache.cached_count(catalog_db) == 0


def test_stale_and_changed_rows_are_fetched_again(catalog_db: Database) -> None:
    movies = list(get_movies(catalog_db, [TOY_STORY, MATRIX]).values())

    async def main() -> None:
        async with FakeTMDB() as tmdb, TmdbClient(config(tmdb)) as client:
            await facts_for(movies, client=client, run=run, db=catalog_db)
            tmdb.touch(603)
            dropped = await refresh_changed(
                client=client, run=run, db=catalog_db, since=date.today() - timedelta(days=1)
            )
            assert dropped == 1
            assert tmdb_cache.cached(catalog_db, [TOY_STORY, MATRIX]).keys() == {TOY_STORY}
            assert tmdb_cache.cached(catalog_db, [TOY_STORY], timedelta(0)) == {}
            tmdb.requests.clear()
            await facts_for(movies, client=client, run=run, db=catalog_db)
            assert tmdb.movie_requests() == [603]

    asyncio.run(main())
