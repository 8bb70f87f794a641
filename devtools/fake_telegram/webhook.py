"""Deliver updates to a bot's webhook the way Telegram does.

Telegram POSTs each Update as a JSON body (``Content-Type: application/json``) to the URL given
to setWebhook, with the ``secret_token`` of that call in the ``X-Telegram-Bot-Api-Secret-Token``
header, and treats any non-2xx answer as a failed delivery::

    update_id = server.send_text(501, "/rate Ted 8")     # a FakeTelegram user speaks
    update = take_update(server.pending_updates(), update_id)
    status, body = post_update("https://...", update, secret="s3cret")

Plain ``urllib`` and blocking, for sync tests; a refusal is returned, not raised.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def post_update(
    url: str,
    update: dict[str, Any] | bytes,
    secret: str | None = None,
    *,
    method: str = "POST",
    timeout: float = 10.0,
    content_type: str = "application/json",
) -> tuple[int, str]:
    """Send one update to `url` (with the secret header unless `secret` is None).

    Returns the HTTP status and the response body; `update` may be raw bytes for bad bodies.
    """
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(
        url, data=body if method == "POST" else None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(errors="replace")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def take_update(pending: list[dict[str, Any]], update_id: int) -> dict[str, Any]:
    """The update `update_id` from FakeTelegram.pending_updates(), as Telegram would send it."""
    for update in pending:
        if update["update_id"] == update_id:
            return update
    raise KeyError(f"no pending update {update_id}")
