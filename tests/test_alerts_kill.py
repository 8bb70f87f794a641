"""A kill -9 in the middle of a digest broadcast (issue 28): the real `moviebot run` process,
its alerts job on its own schedule, Telegram's limits on (the rate limiter), against the
loopback Bot API, killed with SIGKILL while the digests go out and started again.

Across both runs each person gets their digest at most once, and one not received is in the
outbox as `uncertain` (it was on its way at the kill): nothing is lost silently, nothing is
repeated, and at most the alerts in flight at the kill are uncertain.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from bot.telegram.alerts import MAX_IN_FLIGHT
from devtools import PATIENCE
from devtools.bot_process import start_bot
from devtools.fake_telegram.server import FakeTelegram
from storage import alerts, ratings, users
from storage.db import connect, utc_now
from tests.alert_helpers import digests

FIRST = 3_863_000
PEOPLE = range(FIRST, FIRST + 150)


def _received(server: FakeTelegram) -> dict[int, int]:
    """Digests each person's chat holds."""
    return {p: len(digests(server, p)) for p in PEOPLE}


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def _start(server: FakeTelegram, db_path: Path, model_path: Path) -> subprocess.Popen:
    return start_bot(
        server.url,
        db_path,
        model_path,
        refit_minutes=0,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_kill_minus_9_mid_broadcast_neither_loses_nor_repeats_a_digest(
    fake_telegram: FakeTelegram, catalog_db_path: Path, catalog_model_path: Path
) -> None:
    db = connect(catalog_db_path)
    counts = ratings.rating_counts(db)
    new = sorted(counts, key=lambda m: -counts[m])[20:32]
    for person in PEOPLE:
        fake_telegram.add_chat(person, first_name=f"P{person}")
        users.save_user(db, person, f"P{person}", "en")
        alerts.subscribe(db, person, alerts.DIGEST, True, "UTC")
    with db.atomic():
        # Due this week from Monday 00:00 UTC; the films arrive after they opted in.
        db.execute("UPDATE alert_subscriptions SET weekday = 0, hour = 0")
        db.execute(
            f"UPDATE movies SET added_at = ? WHERE id IN ({','.join('?' * len(new))})",
            [utc_now(), *new],
        )
    bot = _start(fake_telegram, catalog_db_path, catalog_model_path)
    try:
        # The job's first round journals every digest, then sends them ~30 a second.
        _wait_for(lambda: sum(_received(fake_telegram).values()) >= 40, "40 digests")
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=PATIENCE)
        before = _received(fake_telegram)
        assert 40 <= sum(before.values()) < len(PEOPLE), "the kill came after the broadcast"

        bot = _start(fake_telegram, catalog_db_path, catalog_model_path)

        def finished() -> bool:
            left = db.execute(
                "SELECT count(*) FROM alert_outbox WHERE state IN ('pending', 'sending')"
            ).fetchone()[0]
            written = db.execute("SELECT count(*) FROM alert_outbox").fetchone()[0]
            return written == len(PEOPLE) and left == 0

        _wait_for(finished, "the outbox drained after the restart")
    finally:
        bot.send_signal(signal.SIGINT)
        _, stderr = bot.communicate(timeout=PATIENCE)
    assert bot.returncode == 0, stderr.decode()[-2000:]

    received = _received(fake_telegram)
    states = dict(db.execute("SELECT user_id, state FROM alert_outbox").fetchall())
    assert max(received.values()) == 1  # nobody got one twice
    assert sum(received.values()) > sum(before.values())  # the restart went on with the rest
    lost = [p for p in PEOPLE if received[p] == 0 and states[p] != "uncertain"]
    assert lost == []  # every digest not received is accounted for
    assert all(states[p] == "sent" for p in PEOPLE if states[p] != "uncertain")
    uncertain = [p for p in PEOPLE if states[p] == "uncertain"]
    assert len(uncertain) <= MAX_IN_FLIGHT  # only those on their way at the kill
    assert all(before[p] == received[p] for p in uncertain)  # not sent again after it
