"""Fault rules for the fake Bot API server: flood control, bad gateways, slow and dropped calls.

A rule matches the next ``times`` calls of one method (or of any method) and answers them with
the fault instead of the normal result. Each rule remembers when it fired and when the first
later call of the same method arrived, so a test can check that a client waited ``retry_after``
seconds before retrying::

    fault = server.inject_fault("flood", method="sendMessage", retry_after=1)
    ...
    assert fault.retry_delay() >= 1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["flood", "bad_gateway", "delay", "drop"]
FAULT_KINDS: tuple[str, ...] = ("flood", "bad_gateway", "delay", "drop")


@dataclass
class Fault:
    """One fault rule and what happened to it.

    kinds:
      - ``flood``: HTTP 429 ``Too Many Requests: retry after X`` with ``parameters.retry_after``;
        the call has no effect.
      - ``bad_gateway``: HTTP 502 with nginx's HTML page; the call has no effect.
      - ``delay``: the call takes effect (the message IS sent), then the answer is held for
        ``delay`` seconds, like a Telegram answer lost to a client timeout.
      - ``drop``: the connection is closed without an answer; the call has no effect.
    """

    kind: FaultKind
    method: str | None = None
    times: int = 1
    retry_after: int = 1
    delay: float = 5.0
    hits: list[float] = field(default_factory=list)
    next_call_at: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, got {self.kind!r}")
        if self.times < 1:
            raise ValueError(f"times must be at least 1, got {self.times}")

    @property
    def exhausted(self) -> bool:
        """True once the rule has fired ``times`` times."""
        return len(self.hits) >= self.times

    def matches(self, method: str) -> bool:
        """True if this rule still applies to a call of ``method``."""
        return not self.exhausted and self.method in (None, method)

    def retry_delay(self) -> float | None:
        """Seconds between the last faulted call and the next call of the same method."""
        if not self.hits or self.next_call_at is None:
            return None
        return self.next_call_at - self.hits[-1]
