"""What `moviebot run --metrics HOST:PORT` serves at /metrics: Prometheus text, via the
prometheus-client library. Every name starts with ``moviebot_``; the library adds its own
``process_*`` and ``python_*`` series.

Counted as it happens (one-line calls from bot/telegram/ptb_classes.py, bot/telegram/delivery.py and
bot/telegram/app.py; each costs a lock and an addition):

    moviebot_updates_total{kind}                  updates received, by kind (message, ...)
    moviebot_update_handling_seconds              histogram: taken from the queue to done
    moviebot_deliveries_failed_total              sends that failed (Telegram down or refusing)
    moviebot_deliveries_retried_total             failed deliveries tried again (after a back-off)
    moviebot_deliveries_dropped_total             owed answers given up (too old, or too many owed)
    moviebot_updates_unreadable_total             updates python-telegram-bot could not parse
                                                  (quarantined: confirmed, kept as their id only)
    moviebot_refit_duration_seconds               histogram: refits that produced a model
    moviebot_seconds_since_last_fetch             since getUpdates returned or a webhook POST came
    moviebot_model_age_seconds                    since the serving model was fitted

Read from SQLite at scrape time (`DatabaseCollector`, its own read-only connection, so a
scrape never waits for the bot's database thread nor the bot for a scrape):

    moviebot_journal_backlog                      updates received and not done yet
    moviebot_journal_oldest_open_seconds          age of the oldest of those (0: none)
    moviebot_deliveries_abandoned                 updates given up after too many failed sends
    moviebot_ratings                              ratings in the database
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from telegram import Update

from storage import journal
from storage.db import connect_read_only, seconds_since
from storage.ratings import count_ratings

UPDATES = Counter("moviebot_updates", "Updates received, by kind.", ["kind"])
HANDLING = Histogram(
    "moviebot_update_handling_seconds",
    "Time from an update leaving the queue to its handlers finishing (the wait for its "
    "chat's earlier updates included).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DELIVERIES_FAILED = Counter(
    "moviebot_deliveries_failed", "Sends that failed (Telegram down or refusing)."
)
DELIVERIES_RETRIED = Counter(
    "moviebot_deliveries_retried", "Failed deliveries tried again after a back-off."
)
DELIVERIES_DROPPED = Counter(
    "moviebot_deliveries_dropped",
    "Owed answers given up: still failing a day after the update came, or too many owed.",
)
UNREADABLE = Counter(
    "moviebot_updates_unreadable",
    "Updates python-telegram-bot could not parse; quarantined (kept as their id) and skipped.",
)
REFIT = Histogram(
    "moviebot_refit_duration_seconds",
    "Duration of the background refits that produced a new model.",
    buckets=(1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800),
)
SINCE_FETCH = Gauge(
    "moviebot_seconds_since_last_fetch",
    "Seconds since getUpdates last returned (long polling) or a webhook POST arrived.",
)
MODEL_AGE = Gauge("moviebot_model_age_seconds", "Seconds since the serving model was fitted.")

# Update fields, one of which each update carries (Telegram's update types).
_KINDS = tuple(str(kind.value) for kind in Update.ALL_TYPES)
# The labelled children made once: `labels()` validates and locks on every call.
_BY_KIND = {kind: UPDATES.labels(kind=kind) for kind in (*_KINDS, "other")}
_times = {"fetch": None, "model": None}  # time.time() of the last fetch / the model's fit


def _since(key: str) -> float:
    then = _times[key]
    return float("nan") if then is None else max(0.0, time.time() - then)


SINCE_FETCH.set_function(lambda: _since("fetch"))
MODEL_AGE.set_function(lambda: _since("model"))


def fetched() -> None:
    """getUpdates returned (with or without updates)."""
    _times["fetch"] = time.time()


def update_received(update: Update) -> None:
    """An update arrived (long polling or webhook): count it by kind."""
    _times["fetch"] = time.time()
    _BY_KIND[_kind(update)].inc()


def _kind(update: Update) -> str:
    for kind in _KINDS:
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


def clock() -> float:
    """A start time for `update_handled`."""
    return time.perf_counter()


def update_handled(started: float) -> None:
    """An update's handlers finished (answered, closed or failed)."""
    HANDLING.observe(time.perf_counter() - started)


def delivery_failed() -> None:
    DELIVERIES_FAILED.inc()


def delivery_retried() -> None:
    DELIVERIES_RETRIED.inc()


def deliveries_dropped(count: int = 1) -> None:
    DELIVERIES_DROPPED.inc(count)


def update_unreadable() -> None:
    UNREADABLE.inc()


def refit_finished(seconds: float) -> None:
    """A refit produced a new model (now serving): its duration, and the model is new."""
    REFIT.observe(seconds)
    model_fitted(time.time())


def model_fitted(at: float) -> None:
    """The serving model was fitted at `at` (a time.time(); the model file's mtime at start)."""
    _times["model"] = at


class DatabaseCollector(Collector):
    """The journal's backlog, abandoned deliveries and the ratings count, read at scrape time
    on a read-only connection of its own."""

    def __init__(self, db_path: Path) -> None:
        self._db_path = db_path

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            db = connect_read_only(self._db_path)
        except sqlite3.Error:  # no database (yet): no figures rather than a failed scrape
            return
        try:
            backlog = journal.backlog(db, journal.MAX_ATTEMPTS)
            n_ratings = count_ratings(db)
        finally:
            db.close()
        yield _gauge("moviebot_journal_backlog", "Updates received and not done yet.", backlog.open)
        yield _gauge(
            "moviebot_journal_oldest_open_seconds",
            "Age of the oldest update not done yet (0: none).",
            seconds_since(backlog.oldest_received_at),
        )
        yield _gauge(
            "moviebot_deliveries_abandoned",
            "Updates whose delivery was given up after too many failed sends (kept, not done).",
            backlog.abandoned,
        )
        yield _gauge("moviebot_ratings", "Ratings in the database.", n_ratings)

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # collected only at scrape time (no query at registration)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def serve(host: str, port: int, db_path: Path, model_path: Path) -> None:
    """Serve /metrics at http://host:port in a daemon thread (prometheus-client's own HTTP
    server), with the database's figures; the model's age starts at its file's mtime (none
    yet on a fresh database: its first fit runs beside the bot)."""
    if model_path.exists():
        model_fitted(model_path.stat().st_mtime)
    REGISTRY.register(DatabaseCollector(db_path))
    start_http_server(port, addr=host)
