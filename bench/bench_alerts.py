"""Broadcast a digest to many opted-in people under the bot's real rate limiter while one person
writes to the bot, beside the same person writing with no broadcast (issue 28's target: ~30
alerts/s, and the writer answered within 2 s, p99).

The real bot (devtools.app.run_bot: PTB, the journal, AIORateLimiter as AlertLimiter) runs in this
process against the loopback Bot API (in a thread); the outbox is filled with one digest per
person (the same card for all: making the digests is timed on its own, `fill ms/digest`), then
drained by the alerts job while the writer sends `/rate Ted 8` twice a second and times each
answer (from the update being available to the bot's reply).

    .venv/bin/python bench/bench_alerts.py                 # 2,000 people
    .venv/bin/python bench/bench_alerts.py --users 10000   # the issue's figure (~6 min)

With --kill the bot is the real `moviebot run` process instead, started with the outbox
filled, killed with SIGKILL once --kill-at of the digests have arrived and started again (its
first alerts round comes seconds after a start): the table adds the digests received twice
(must be 0), not received (each must be `uncertain` in the outbox: on its way at the kill) and
the time the broadcast took, restart included. The writer pauses from the kill until the
restarted bot polls again (its answers then would time the restart, not the broadcast).

    .venv/bin/python bench/bench_alerts.py --users 10000 --kill
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram.ext import Application  # noqa: E402

from bot.commands.features.alerts import weekly_digest  # noqa: E402
from bot.service import MovieService  # noqa: E402
from bot.telegram.app import BotSettings  # noqa: E402
from bot.ui.replies import outcome_to_json  # noqa: E402
from devtools.app import run_bot  # noqa: E402
from devtools.bot_process import start_bot  # noqa: E402
from devtools.fake_telegram.server import FakeTelegram  # noqa: E402
from devtools.ptb import TEST_TOKEN  # noqa: E402
from moviebot.paths import bundled_dataset  # noqa: E402
from moviebot.training import train  # noqa: E402
from recommender import Model  # noqa: E402
from storage import alerts, ratings, users  # noqa: E402
from storage.db import connect, connect_read_only, utc_now  # noqa: E402
from storage.movielens import import_movielens  # noqa: E402

FIRST_USER = 50_000_000
WRITER = 49_999_999
WRITES_PER_SECOND = 2.0


def prepare(workdir: Path, n_users: int) -> tuple[Path, Path, float, str]:
    """The catalog, a model, `n_users` opted-in people; returns the paths, the milliseconds
    one digest takes to make and a digest (as the outbox holds it)."""
    db_path, model_path = workdir / "bench.db", workdir / "bench.model.npz"
    db = connect(db_path)
    import_movielens(db, bundled_dataset())
    counts = ratings.rating_counts(db)
    new = sorted(counts, key=lambda m: -counts[m])[20:40]
    with db.atomic():
        db.execute(
            f"UPDATE movies SET added_at = ? WHERE id IN ({','.join('?' * len(new))})",
            [utc_now(), *new],
        )
    db.close()
    train(db_path, model_path)
    db = connect(db_path)
    service = MovieService(db, Model.load(model_path))
    for i in range(n_users):
        users.save_user(db, FIRST_USER + i, f"p{i}", "en")
        alerts.subscribe(db, FIRST_USER + i, alerts.DIGEST, True, "UTC")
    with db.atomic():
        # Not due before the outbox is filled (journal_digests): Sunday 23:00 UTC.
        db.execute("UPDATE alert_subscriptions SET weekday = 6, hour = 23")
    sample = min(n_users, 200)
    started = time.perf_counter()
    outcome = None
    for i in range(sample):
        sub = alerts.get_subscription(db, FIRST_USER + i)
        outcome = weekly_digest(service, replace(sub, digest_since=None))
    fill_ms = (time.perf_counter() - started) / sample * 1000
    db.close()
    return db_path, model_path, fill_ms, outcome_to_json(outcome)


def journal_digests(db_path: Path, n_users: int, text: str) -> None:
    """This week's digest (`text`) for each person, in the outbox to be sent."""
    db = connect(db_path)
    with db.atomic():
        # Due every week from Monday 00:00, so this week's row is the one the job would write.
        db.execute("UPDATE alert_subscriptions SET weekday = 0, hour = 0")
        week = alerts.week_of(alerts.get_subscription(db, FIRST_USER), datetime.now(UTC))
        for i in range(n_users):
            alerts.journal_alert(db, FIRST_USER + i, alerts.DIGEST, week, text, utc_now())
    db.close()


async def writer(server: FakeTelegram, stop: asyncio.Event, latencies: list[float]) -> None:
    """Send `/rate Ted 8` twice a second until `stop`; time each answer."""
    while not stop.is_set():
        before = len(server.sent_messages(WRITER))
        server.send_text(WRITER, "/rate Ted 8", first_name="Writer")
        sent = time.monotonic()
        while len(server.sent_messages(WRITER)) <= before:
            await asyncio.sleep(0.005)
        latencies.append(time.monotonic() - sent)
        await asyncio.sleep(max(0.0, 1 / WRITES_PER_SECOND - (time.monotonic() - sent)))


@asynccontextmanager
async def writing(server: FakeTelegram, latencies: list[float]) -> AsyncIterator[None]:
    """The writer (`writer`) at work for the block's duration, its answers' times in
    `latencies`."""
    stop = asyncio.Event()
    task = asyncio.create_task(writer(server, stop, latencies))
    try:
        yield
    finally:
        stop.set()
        await task


def run(args: argparse.Namespace, db_path: Path, model_path: Path) -> list[dict]:
    """The in-process run: the writer alone, then the broadcast as the job runs it (run here,
    when the bench says: the scheduled round is removed) with the writer meanwhile."""
    server = FakeTelegram().run_in_thread()
    for i in range(args.users):
        server.add_chat(FIRST_USER + i, first_name=f"p{i}")
    settings = BotSettings(
        token=TEST_TOKEN,
        db_path=db_path,
        model_path=model_path,
        api_url=server.url,
        refit_minutes=0,
    )
    db = connect(db_path)
    service = MovieService(db, Model.load(model_path))
    rows = []

    async def scenario(application: Application) -> None:
        for job in application.job_queue.get_jobs_by_name("alerts_job"):
            job.schedule_removal()
        quiet: list[float] = []
        async with writing(server, quiet):
            await asyncio.sleep(args.quiet_seconds)
        rows.append(
            {"run": "no broadcast", "sent": 0, "seconds": args.quiet_seconds, "latencies": quiet}
        )
        busy: list[float] = []
        async with writing(server, busy):
            started = time.monotonic()
            sent = await application.bot_data.alerts.run(application)  # as the job runs
            seconds = time.monotonic() - started
        rows.append(
            {
                "run": f"broadcast to {args.users:,}",
                "sent": sent,
                "seconds": seconds,
                "latencies": busy,
            }
        )

    run_bot(server, service, settings, scenario)
    per_chat = [len(server.sent_messages(FIRST_USER + i)) for i in range(args.users)]
    rows[-1]["missing"] = sum(1 for n in per_chat if n == 0)
    rows[-1]["repeated"] = sum(1 for n in per_chat if n > 1)
    server.stop_thread()
    db.close()
    return rows


def _start(server: FakeTelegram, db_path: Path, model_path: Path) -> subprocess.Popen:
    return start_bot(
        server.url,
        db_path,
        model_path,
        refit_minutes=0,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _polling(server: FakeTelegram, before: int) -> None:
    """Wait until the bot has asked for updates more than `before` times (it is up)."""
    while len(server.calls_of("getUpdates")) <= before:
        await asyncio.sleep(0.05)


def _digests_sent(server: FakeTelegram) -> int:
    """Messages the bot sent so far, the writer's answers left out."""
    sent = len(server.calls_of("sendPhoto")) + len(server.calls_of("sendMessage"))
    return sent - len(server.sent_messages(WRITER))


async def run_killed(
    args: argparse.Namespace, db_path: Path, model_path: Path, text: str
) -> list[dict]:
    """The --kill runs: `moviebot run` without a broadcast, then broadcasting, killed with
    SIGKILL once `args.kill_at` of the digests went, and started again."""
    server = FakeTelegram().run_in_thread()
    for i in range(args.users):
        server.add_chat(FIRST_USER + i, first_name=f"p{i}")
    rows = []
    bot = _start(server, db_path, model_path)
    try:
        await _polling(server, 0)
        quiet: list[float] = []
        async with writing(server, quiet):
            await asyncio.sleep(args.quiet_seconds)
        rows.append({"run": "no broadcast", "sent": 0, "seconds": args.quiet_seconds})
        rows[-1]["latencies"] = quiet
        bot.send_signal(signal.SIGINT)
        bot.wait()

        journal_digests(db_path, args.users, text)
        busy: list[float] = []
        bot = _start(server, db_path, model_path)
        await _polling(server, len(server.calls_of("getUpdates")))
        started = time.monotonic()
        async with writing(server, busy):
            while _digests_sent(server) < args.kill_at * args.users:
                await asyncio.sleep(0.05)
        bot.send_signal(signal.SIGKILL)
        bot.wait()
        at_kill = _digests_sent(server)
        killed = time.monotonic()
        bot = _start(server, db_path, model_path)
        await _polling(server, len(server.calls_of("getUpdates")))
        restart = time.monotonic() - killed
        db = connect_read_only(db_path)
        unsent = "SELECT count(*) FROM alert_outbox WHERE state IN ('pending', 'sending')"
        async with writing(server, busy):
            while db.execute(unsent).fetchone()[0]:
                await asyncio.sleep(0.2)
            seconds = time.monotonic() - started
        bot.send_signal(signal.SIGINT)
        bot.wait()
        states = dict(db.execute("SELECT user_id, state FROM alert_outbox").fetchall())
        db.close()
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    per_chat = {
        FIRST_USER + i: len(server.sent_messages(FIRST_USER + i)) for i in range(args.users)
    }
    server.stop_thread()
    rows.append(
        {
            "run": f"broadcast to {args.users:,}, kill -9 at {at_kill:,}, restart {restart:.1f} s",
            "sent": sum(per_chat.values()),
            "seconds": seconds,
            "latencies": busy,
            "missing": sum(1 for n in per_chat.values() if n == 0),
            "repeated": sum(1 for n in per_chat.values() if n > 1),
            "uncertain": sum(1 for s in states.values() if s == "uncertain"),
            "lost": sum(1 for c, n in per_chat.items() if n == 0 and states[c] != "uncertain"),
        }
    )
    return rows


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--quiet-seconds", type=float, default=20.0)
    parser.add_argument("--kill", action="store_true", help="the real process, killed midway")
    parser.add_argument("--kill-at", type=float, default=0.5, help="share sent at the kill")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db_path, model_path, fill_ms, text = prepare(Path(tmp), args.users)
        if args.kill:
            rows = asyncio.run(run_killed(args, db_path, model_path, text))
        else:
            journal_digests(db_path, args.users, text)
            rows = run(args, db_path, model_path)
    print(f"bench_alerts {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; fill: {fill_ms:.1f} ms/digest")
    print(
        "| run | alerts sent | seconds | alerts/s | writer replies | p50 s | p99 s | max s |"
        " missing | repeated | uncertain | lost |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        lat = r["latencies"]
        rate = r["sent"] / r["seconds"] if r["sent"] else 0.0
        print(
            f"| {r['run']} | {r['sent']:,} | {r['seconds']:.1f} | {rate:.1f} | {len(lat)} | "
            f"{statistics.median(lat) if lat else float('nan'):.3f} | {_p(lat, 0.99):.3f} | "
            f"{max(lat) if lat else float('nan'):.3f} | {r.get('missing', '-')} | "
            f"{r.get('repeated', '-')} | {r.get('uncertain', '-')} | {r.get('lost', '-')} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
