"""python-telegram-bot's HTTP transport on aiohttp instead of httpx.

Measured on this machine (bench/README.md, "HTTP transport"): a sendMessage call costs the
bot 1.6 ms of CPU through PTB's HTTPXRequest and 0.6 ms through this class (the HTTP part
alone: 1.2 ms against 0.2 ms). Every update the bot answers makes one or two such calls, and
the bot's event loop has one core: the change took its capacity from ~175 to ~260 updates/s.

PTB keeps everything Telegram-specific (status codes, RetryAfter, ChatMigrated, JSON parsing)
in BaseRequest; this class only moves bytes, as HTTPXRequest does.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_DefaultValue = type(BaseRequest.DEFAULT_NONE)


class ConnectTimedOut(TimedOut):
    """No connection to the Bot API within the timeout: the request never left, so sending it
    again cannot make a duplicate (unlike a TimedOut waiting for the answer)."""


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool, with HTTPXRequest's timeouts.

    pool_timeout bounds the wait for a free connection; aiohttp counts that wait as part of
    its connect timeout, so the two are added there.
    """

    __slots__ = ("_pool_size", "_timeouts", "_session", "_proxies")

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._timeouts = {
            "read": read_timeout,
            "write": write_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
            "media_write": media_write_timeout,
        }
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector)
            self._proxies.clear()

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _proxy_for(self, url: str) -> str | None:
        """HTTPS_PROXY/HTTP_PROXY/NO_PROXY, as httpx honoured them, read once per host.

        aiohttp's trust_env would read the environment and ~/.netrc again on every request,
        which doubled the CPU per call (1,164 against 590 us, bench/bench_http.py).
        """
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and urllib.request.proxy_bypass(key[1]):
                proxy = None
            self._proxies[key] = proxy
        return self._proxies[key]

    def _timeout(self, name: str, given: object) -> float | None:
        if isinstance(given, _DefaultValue):
            return self._timeouts[name]
        return given  # type: ignore[return-value]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = self._timeout("read", read_timeout)
        write = self._timeout("media_write" if files else "write", write_timeout)
        connect = self._timeout("connect", connect_timeout)
        pool = self._timeout("pool", pool_timeout)
        # aiohttp has no separate write timeout: the whole request (a connection, the upload,
        # the answer) gets the sum of the four, what HTTPXRequest allows its phases together.
        phases = (read, write, connect, pool)
        total = None if None in phases else sum(phases)  # type: ignore[arg-type]
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        body = _body(request_data, files)
        try:
            async with self._session.request(
                method,
                url,
                data=body,
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
                proxy=self._proxy_for(url),
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise ConnectTimedOut from error
        except TimeoutError as error:  # aiohttp.ServerTimeoutError is one too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error


def _body(
    request_data: RequestData | None, files: dict[str, tuple] | None
) -> dict[str, str] | aiohttp.FormData | None:
    """Form fields as HTTPXRequest sends them: url-encoded, or multipart when there are files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not files:
        return fields
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form
