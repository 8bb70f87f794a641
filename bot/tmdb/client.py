"""TMDB's API (v3) with the operator's own key: one film per request, politely.

    config = TmdbConfig.from_env(os.environ)     # None without MOVIEBOT_TMDB_TOKEN
    async with TmdbClient(config) as tmdb:
        film = await tmdb.movie(862)             # details + everything the bot shows, appended
        tmdb_id = await tmdb.find_imdb("tt0114709")
        changed = await tmdb.changed_ids(date(2026, 12, 1), date(2026, 12, 5))

The key is a v4 read-access token (a JWT, sent as ``Authorization: Bearer``) or a v3 key (sent
as ``api_key``); it never reaches a log. TMDB allows about 40 requests a second per IP and
answers 429 with Retry-After above it: the client keeps under `rate` requests per second with
at most `concurrency` in flight, and waits out a 429 as told (up to `max_wait` seconds, then
gives up on that call). Every failure is a TmdbError; callers fall back to what they had.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

API_URL = "https://api.themoviedb.org/3"
IMAGE_URL = "https://image.tmdb.org/t/p"
# Everything a card needs, in the film's one request (TMDB's append_to_response).
APPENDED = "external_ids,images,watch/providers,release_dates,translations"
CHANGES_MAX_DAYS = 14  # TMDB's longest window for /movie/changes


class TmdbError(Exception):
    """TMDB could not answer (network, timeout, throttled too long, an unexpected reply)."""


class NotFound(TmdbError):
    """TMDB has no such film (404, status_code 34)."""


@dataclass(frozen=True)
class TmdbConfig:
    """The operator's key and where TMDB's API and images are (overridable for a proxy or a
    test server)."""

    token: str
    api_url: str = API_URL
    image_url: str = IMAGE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TmdbConfig | None:
        """MOVIEBOT_TMDB_TOKEN (+ MOVIEBOT_TMDB_API_URL, MOVIEBOT_TMDB_IMAGE_URL); None without
        a token, when the bot runs without TMDB."""
        token = env.get("MOVIEBOT_TMDB_TOKEN", "").strip()
        if not token:
            return None
        return cls(
            token,
            env.get("MOVIEBOT_TMDB_API_URL", "").strip().rstrip("/") or API_URL,
            env.get("MOVIEBOT_TMDB_IMAGE_URL", "").strip().rstrip("/") or IMAGE_URL,
        )

    @property
    def is_bearer(self) -> bool:
        """A v4 read-access token is a JWT (three dot-separated parts); a v3 key is 32 hex."""
        return self.token.count(".") == 2

    def image(self, path: str, size: str = "w500") -> str:
        """The URL of an image TMDB gave as a path ("/abc.jpg")."""
        return f"{self.image_url}/{size}{path}"

    def __repr__(self) -> str:  # the token stays out of logs and tracebacks
        return f"TmdbConfig(api_url={self.api_url!r}, image_url={self.image_url!r})"


class _RateCap:
    """At most `rate` requests in any `per` seconds as the server counts them.

    A request counts from its start until `per` seconds after its answer came: the server saw
    it arrive somewhere in between, so no window of the server's holds more than `rate` (a cap
    on start times alone is broken by a slow connection bunching arrivals together).
    """

    def __init__(self, rate: int, per: float) -> None:
        self.rate, self.per = rate, per
        self._open = 0
        self._done: deque[float] = deque()
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._changed:
            while True:
                now = time.monotonic()
                while self._done and now - self._done[0] >= self.per:
                    self._done.popleft()
                if self._open + len(self._done) < self.rate:
                    self._open += 1
                    break
                wait = self.per - (now - self._done[0]) if self._done else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
        try:
            yield
        finally:
            async with self._changed:
                self._open -= 1
                self._done.append(time.monotonic())
                self._changed.notify_all()


class TmdbClient:
    """The calls the bot makes to TMDB, over one aiohttp session (made on first use)."""

    def __init__(
        self,
        config: TmdbConfig,
        *,
        concurrency: int = 8,
        rate: int = 40,
        per: float = 1.0,
        timeout: float = 10.0,
        retries: int = 3,
        max_wait: float = 30.0,
    ) -> None:
        self.config = config
        self.calls = 0  # requests sent (for logs and benchmarks)
        self._slots = asyncio.Semaphore(concurrency)
        self._cap = _RateCap(rate, per)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._max_wait = max_wait
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> TmdbClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def movie(self, tmdb_id: int) -> dict[str, Any]:
        """The film with external ids, posters, watch providers (every country), release dates
        and translations (every language's overview) appended: one request per film."""
        return await self.get(f"/movie/{int(tmdb_id)}", append_to_response=APPENDED)

    async def find_imdb(self, imdb_id: str) -> int | None:
        """The TMDB id of the film with this IMDb id, None if TMDB has none."""
        found = await self.get(f"/find/{imdb_id}", external_source="imdb_id")
        movies = found.get("movie_results") or []
        return int(movies[0]["id"]) if movies else None

    async def changed_ids(self, start: date, end: date) -> set[int]:
        """The films changed from `start` to `end` (inclusive), every page, in windows of at
        most 14 days (TMDB's limit)."""
        changed: set[int] = set()
        while start <= end:
            stop = min(end, start + timedelta(days=CHANGES_MAX_DAYS - 1))
            page, pages = 1, 1
            while page <= pages:
                body = await self.get(
                    "/movie/changes",
                    start_date=start.isoformat(),
                    end_date=stop.isoformat(),
                    page=str(page),
                )
                changed.update(int(item["id"]) for item in body.get("results", []))
                pages = min(int(body.get("total_pages", 1)), 500)
                page += 1
            start = stop + timedelta(days=1)
        return changed

    async def get(self, path: str, **params: str) -> dict[str, Any]:
        """GET an API path; its JSON object. NotFound on 404, TmdbError on anything else that
        is not a 200 after waiting out up to `retries` 429s."""
        headers = {"Accept": "application/json"}
        if self.config.is_bearer:
            headers["Authorization"] = f"Bearer {self.config.token}"
        else:
            params["api_key"] = self.config.token
        url = self.config.api_url + path
        for attempt in range(self._retries + 1):
            async with self._slots, self._cap.slot():
                status, wait, body = await self._request(url, params, headers)
            if status == 200 and isinstance(body, dict):
                return body
            if status == 404:
                raise NotFound(f"TMDB has no {path}")
            if status == 429 and attempt < self._retries and wait <= self._max_wait:
                log.info("TMDB throttled %s; retrying in %.0f s", path, wait)
                await asyncio.sleep(wait)
                continue
            message = body.get("status_message") if isinstance(body, dict) else None
            raise TmdbError(f"TMDB answered {status} to {path}: {message or 'no JSON'}")
        raise TmdbError(f"TMDB kept throttling {path}")  # pragma: no cover (loop returns)

    async def _request(
        self, url: str, params: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, float, Any]:
        """(status, Retry-After seconds, JSON body or None); TmdbError when no answer came."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        self.calls += 1
        try:
            async with self._session.get(url, params=params, headers=headers) as response:
                wait = _retry_after(response.headers.get("Retry-After"))
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                return response.status, wait, body
        except (aiohttp.ClientError, TimeoutError) as error:
            # The URL carries an api_key for v3 keys: name only the error's kind.
            raise TmdbError(f"TMDB unreachable: {type(error).__name__}") from None


def _retry_after(value: str | None) -> float:
    """Retry-After's seconds (TMDB sends whole seconds); 1 when missing or unreadable."""
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
