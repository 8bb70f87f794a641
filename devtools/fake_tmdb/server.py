"""A TMDB API (v3) on loopback, strict where moviebot's client could go wrong.

Like the real service it wants a key on every API call (a v3 ``api_key`` query parameter or a
v4 read-access token as ``Authorization: Bearer``; 401 with TMDB's JSON error body, status_code 7,
otherwise), answers unknown ids with 404 and status_code 34, and throttles: more than
``rate_limit`` calls in ``rate_window`` seconds get 429 with ``Retry-After`` (status_code 25).
The documented shapes it serves (https://developer.themoviedb.org/reference):

- ``GET /3/movie/{id}?append_to_response=external_ids,images,watch/providers,release_dates,
  translations&language=xx``: the film, its title and overview in ``language`` ("" when TMDB
  has no translation, as TMDB does), and one key per appended part;
- ``GET /3/find/{imdb_id}?external_source=imdb_id``: ``movie_results`` and the other lists;
- ``GET /3/movie/changes?start_date=&end_date=&page=``: ids changed in that window;
- ``GET /t/p/{size}/{file}.jpg``: a small JPEG for every poster it knows (no key needed).

In a test::

    with FakeTMDB(films.WRITTEN) as tmdb:       # a daemon thread with its own loop
        config = TmdbConfig(tmdb.token, tmdb.api_url, tmdb.image_url)
        ...
        assert tmdb.requests == [...]

From a shell: ``python -m devtools.fake_tmdb.server --port 8082`` (prints its URLs).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from devtools.fake_tmdb.films import WRITTEN, Film, Providers

API_KEY = "fake-tmdb-v3-key"
# A v4 read-access token is a JWT; the shape matters (the client tells them apart by it).
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJmYWtlIn0.ZmFrZS10bWRiLXY0LXRva2Vu"
IMAGE_SIZES = ("w92", "w154", "w185", "w342", "w500", "w780", "original")
APPENDABLE = {"external_ids", "images", "watch/providers", "release_dates", "translations"}
MAX_APPENDED = 20  # TMDB's limit on append_to_response
CHANGES_MAX_DAYS = 14  # TMDB: "You can query up to 14 days in a single query"
CHANGES_PAGE = 100
# A 20x30 grey JPEG (what a poster looks like to a test).
POSTER_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABQODxIPDRQSEBIXFRQYHjIhHhwcHj0sLiQySUBMS0dARkVQWnNiUFVt"
    "VkVGZIhlbXd7gYKBTmCNl4x9lnN+gXz/2wBDARUXFx4aHjshITt8U0ZTfHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8"
    "fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHz/wAARCAAeABQDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAA"
    "AAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAk"
    "M2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKT"
    "lJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QA"
    "HwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdh"
    "cRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hp"
    "anN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk"
    "5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwBlFFFABRRRQAUUUUAFFFFAH//Z"
)


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None):
    """TMDB's error body: {"success": false, "status_code": N, "status_message": "..."}."""
    body = {"success": False, "status_code": code, "status_message": message}
    return web.json_response(body, status=status, headers=headers)


NOT_FOUND = (404, 34, "The resource you requested could not be found.")
BAD_KEY = (401, 7, "Invalid API key: You must be granted a valid key.")


class FakeTMDB:
    """A loopback TMDB: films, auth, throttling, a change list, and a record of every call."""

    def __init__(
        self,
        films: Iterable[Film] = WRITTEN,
        *,
        rate_limit: int = 40,
        rate_window: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.films = {film.id: film for film in films}
        self.api_key = API_KEY
        self.token = TOKEN
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.host = host
        self.port = port
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, query) of API calls
        self.throttled = 0  # 429s answered
        self.images: list[str] = []  # image paths served
        self.changed: dict[int, date] = {}  # tmdb id -> the day it changed
        self._throttle_next: list[int] = []  # Retry-After seconds for the next calls
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # ================================================================= for tests

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/3"

    @property
    def image_url(self) -> str:
        return f"http://{self.host}:{self.port}/t/p"

    def add(self, *films: Film) -> None:
        with self._lock:
            self.films.update((film.id, film) for film in films)

    def touch(self, tmdb_id: int, day: date | None = None) -> None:
        """Film `tmdb_id` changed on `day` (today): /movie/changes lists it."""
        with self._lock:
            self.changed[tmdb_id] = day or date.today()

    def throttle(self, count: int = 1, retry_after: int = 1) -> None:
        """The next `count` API calls get 429 with this Retry-After, whatever the rate."""
        with self._lock:
            self._throttle_next.extend([retry_after] * count)

    def movie_requests(self) -> list[int]:
        """The ids asked for with GET /movie/{id}, in order."""
        return [int(p.rsplit("/", 1)[1]) for p, _ in self.requests if p[9:].isdigit()]

    # ================================================================= lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/t/p/{size}/{name}", self._image)
        app.router.add_route("*", "/3/{path:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTMDB:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def __enter__(self) -> FakeTMDB:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            assert self._loop is not None
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="FakeTMDB", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise TimeoutError("FakeTMDB did not start listening in time")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    # ================================================================= routes

    async def _image(self, request: web.Request) -> web.StreamResponse:
        size, name = request.match_info["size"], request.match_info["name"]
        known = {f.poster_path for f in self.films.values() if f.poster_path}
        if size not in IMAGE_SIZES or f"/{name}" not in known:
            return web.Response(status=404, text="Not Found")
        self.images.append(f"/{size}/{name}")
        return web.Response(body=POSTER_JPEG, content_type="image/jpeg")

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path, query = request.path, dict(request.query)
        with self._lock:
            self.requests.append((path, query))
            if (wait := self._over_limit()) is not None:
                self.throttled += 1
                return _error(
                    429,
                    25,
                    f"Your request count is over the allowed limit of {self.rate_limit}.",
                    {"Retry-After": str(wait)},
                )
        if not self._authorized(request):
            return _error(*BAD_KEY)
        if request.method != "GET":
            return _error(405, 3, "Authentication failed: You do not have permissions.")
        parts = path.removeprefix("/3/").split("/")
        if parts == ["movie", "changes"]:
            return self._changes(query)
        if len(parts) == 2 and parts[0] == "movie" and parts[1].isdigit():
            return self._movie(int(parts[1]), query)
        if len(parts) == 2 and parts[0] == "find":
            return self._find(parts[1], query)
        return _error(*NOT_FOUND)

    def _over_limit(self) -> int | None:
        """Retry-After seconds if this call is one too many, else None (counts the call)."""
        if self._throttle_next:
            return self._throttle_next.pop(0)
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= self.rate_window:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            return max(1, math.ceil(self.rate_window - (now - self._recent[0])))
        self._recent.append(now)
        return None

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization")
        if header is not None:
            return header == f"Bearer {self.token}"
        return request.query.get("api_key") == self.api_key

    def _movie(self, tmdb_id: int, query: dict[str, str]) -> web.Response:
        film = self.films.get(tmdb_id)
        if film is None:
            return _error(*NOT_FOUND)
        language = query.get("language", "en-US").split("-")[0]
        appended = [p for p in query.get("append_to_response", "").split(",") if p]
        if len(appended) > MAX_APPENDED:
            return _error(400, 18, "Validation failed: too many append_to_response objects.")
        body = _details(film, language)
        for part in appended:
            if part in APPENDABLE:
                body[part] = _APPENDED[part](film, language)
        return web.json_response(body)

    def _find(self, external_id: str, query: dict[str, str]) -> web.Response:
        if query.get("external_source") not in ("imdb_id", "tvdb_id", "wikidata_id"):
            return _error(400, 5, "Invalid parameters: Your request parameters are incorrect.")
        language = query.get("language", "en-US").split("-")[0]
        found = [
            _summary(film, language)
            for film in self.films.values()
            if query["external_source"] == "imdb_id" and film.imdb_id == external_id
        ]
        return web.json_response(
            {
                "movie_results": found,
                "person_results": [],
                "tv_results": [],
                "tv_episode_results": [],
                "tv_season_results": [],
            }
        )

    def _changes(self, query: dict[str, str]) -> web.Response:
        try:
            end = date.fromisoformat(query["end_date"]) if "end_date" in query else date.today()
            start = (
                date.fromisoformat(query["start_date"])
                if "start_date" in query
                else end - timedelta(days=1)
            )
            page = int(query.get("page", "1"))
        except ValueError:
            return _error(400, 5, "Invalid parameters: Your request parameters are incorrect.")
        if start > end or (end - start).days > CHANGES_MAX_DAYS or not 1 <= page <= 500:
            return _error(400, 5, "Invalid parameters: Your request parameters are incorrect.")
        ids = sorted(i for i, day in self.changed.items() if start <= day <= end)
        total_pages = max(1, math.ceil(len(ids) / CHANGES_PAGE))
        chunk = ids[(page - 1) * CHANGES_PAGE : page * CHANGES_PAGE]
        return web.json_response(
            {
                "results": [{"id": i, "adult": False} for i in chunk],
                "page": page,
                "total_pages": total_pages,
                "total_results": len(ids),
            }
        )


# ===================================================================== response shapes


def _title_overview(film: Film, language: str) -> tuple[str, str]:
    if language == "en":
        return film.title, film.overview
    title, overview = film.translations.get(language, ("", ""))
    # TMDB falls back to the original title, but leaves a missing overview empty.
    return title or film.title, overview


def _summary(film: Film, language: str) -> dict[str, Any]:
    """A film as /find and lists show it."""
    title, overview = _title_overview(film, language)
    return {
        "adult": False,
        "backdrop_path": None,
        "genre_ids": [g for g, _ in film.genres],
        "id": film.id,
        "media_type": "movie",
        "original_language": film.original_language,
        "original_title": film.title,
        "overview": overview,
        "popularity": 10.0,
        "poster_path": film.poster_path,
        "release_date": film.release_date,
        "title": title,
        "video": False,
        "vote_average": 7.5,
        "vote_count": 1000,
    }


def _details(film: Film, language: str) -> dict[str, Any]:
    """GET /movie/{id} without appended parts."""
    body = _summary(film, language)
    del body["genre_ids"], body["media_type"]
    body.update(
        belongs_to_collection=None,
        budget=0,
        genres=[{"id": g, "name": n} for g, n in film.genres],
        homepage="",
        imdb_id=film.imdb_id,
        origin_country=["US"],
        production_companies=[],
        production_countries=[],
        revenue=0,
        runtime=film.runtime,
        spoken_languages=[],
        status="Released",
        tagline="",
    )
    return body


def _external_ids(film: Film, language: str) -> dict[str, Any]:
    return {
        "id": film.id,
        "imdb_id": film.imdb_id,
        "wikidata_id": None,
        "facebook_id": None,
        "instagram_id": None,
        "twitter_id": None,
    }


def _images(film: Film, language: str) -> dict[str, Any]:
    # Without include_image_language TMDB keeps the images in `language` and those with none.
    posters = []
    if film.poster_path:
        posters.append(
            {
                "aspect_ratio": 0.667,
                "height": 3000,
                "iso_639_1": "en",
                "file_path": film.poster_path,
                "vote_average": 5.5,
                "vote_count": 10,
                "width": 2000,
            }
        )
    return {
        "id": film.id,
        "backdrops": [],
        "logos": [],
        "posters": [p for p in posters if p["iso_639_1"] in (language, None)],
    }


def _offers(offers: list[tuple[int, str]]) -> list[dict[str, Any]]:
    return [
        {
            "logo_path": f"/logo{pid}.jpg",
            "provider_id": pid,
            "provider_name": name,
            "display_priority": rank,
        }
        for rank, (pid, name) in enumerate(offers)
    ]


def _country(film: Film, country: str, providers: Providers) -> dict[str, Any]:
    body: dict[str, Any] = {
        "link": f"https://www.themoviedb.org/movie/{film.id}/watch?locale={country}"
    }
    for kind in ("flatrate", "rent", "buy"):
        if offers := getattr(providers, kind):
            body[kind] = _offers(offers)
    return body


def _watch_providers(film: Film, language: str) -> dict[str, Any]:
    results = {cc: _country(film, cc, p) for cc, p in film.providers.items()}
    return {"id": film.id, "results": results}


def _release_dates(film: Film, language: str) -> dict[str, Any]:
    releases = {"US": (3, film.release_date), **film.releases}
    return {
        "id": film.id,
        "results": [
            {
                "iso_3166_1": country,
                "release_dates": [
                    {
                        "certification": "PG",
                        "descriptors": [],
                        "iso_639_1": "",
                        "note": "",
                        "release_date": f"{day}T00:00:00.000Z",
                        "type": kind,
                    }
                ],
            }
            for country, (kind, day) in releases.items()
        ],
    }


_REGION = {"en": "US", "es": "ES", "ru": "RU", "pt": "BR", "de": "DE", "fr": "FR"}
_NAMES = {"en": "English", "es": "Spanish", "ru": "Russian"}


def _translations(film: Film, language: str) -> dict[str, Any]:
    languages = {"en": (film.title, film.overview), **film.translations}
    return {
        "id": film.id,
        "translations": [
            {
                "iso_3166_1": _REGION.get(code, "US"),
                "iso_639_1": code,
                "name": _NAMES.get(code, code),
                "english_name": _NAMES.get(code, code),
                "data": {
                    "homepage": "",
                    "overview": overview,
                    "runtime": film.runtime or 0,
                    "tagline": "",
                    "title": title if code != "en" else "",
                },
            }
            for code, (title, overview) in languages.items()
        ],
    }


_APPENDED = {
    "external_ids": _external_ids,
    "images": _images,
    "watch/providers": _watch_providers,
    "release_dates": _release_dates,
    "translations": _translations,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8082)
    port = parser.parse_args().port

    async def serve() -> None:
        async with FakeTMDB(port=port) as tmdb:
            print(f"FakeTMDB on {tmdb.api_url} (images {tmdb.image_url})", flush=True)
            print(f"MOVIEBOT_TMDB_TOKEN={tmdb.token}", flush=True)
            await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
