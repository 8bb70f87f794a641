"""Broadcast a digest to many opted-in people under the bot's real rate limiter while one person
writes to the bot, beside the same person writing with no broadcast (issue 28's target: ~30
alerts/s, and the writer answered within 2 s, p99).

The real bot (build_application: PTB, the journal, AIORateLimiter as AlertLimiter) runs in this
process against the loopback Bot API (in a thread); the outbox is filled with one digest per
person (the same card for all: making the digests is timed on its own, `fill ms/digest`), then
drained by the alerts job while the writer sends `/rate Ted 8` twice a second and times each
answer (from the update being available to the bot's reply).

    .venv/bin/python bench/bench_alerts.py                 # 2,000 people
    .venv/bin/python bench/bench_alerts.py --users 10000   # the issue's figure (~6 min)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.commands.features.alerts import weekly_digest  # noqa: E402
from bot.service import MovieService  # noqa: E402
from bot.telegram.app import ALLOWED_UPDATES, BotSettings, build_application  # noqa: E402
from bot.ui.replies import outcome_to_json  # noqa: E402
from devtools.fake_telegram.server import FakeTelegram  # noqa: E402
from devtools.ptb import TEST_TOKEN  # noqa: E402
from moviebot.paths import bundled_dataset  # noqa: E402
from moviebot.training import train  # noqa: E402
from recommender import Model  # noqa: E402
from storage import alerts, ratings, users  # noqa: E402
from storage.db import connect, utc_now  # noqa: E402
from storage.movielens import import_movielens  # noqa: E402

FIRST_USER = 50_000_000
WRITER = 49_999_999
WRITES_PER_SECOND = 2.0


def prepare(workdir: Path, n_users: int) -> tuple[Path, Path, float]:
    """The catalog, a model, `n_users` opted-in people with a digest each in the outbox;
    returns the paths and the milliseconds one digest takes to make."""
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
    sample = min(n_users, 200)
    started = time.perf_counter()
    outcome = None
    for i in range(sample):
        sub = alerts.get_subscription(db, FIRST_USER + i)
        outcome = weekly_digest(service, replace(sub, digest_since=None))
    fill_ms = (time.perf_counter() - started) / sample * 1000
    text = outcome_to_json(outcome)
    with db.atomic():
        # Due every week from Monday 00:00, so this week's row is the one the job would write.
        db.execute("UPDATE alert_subscriptions SET weekday = 0, hour = 0")
        week = alerts.week_of(alerts.get_subscription(db, FIRST_USER), datetime.now(UTC))
        for i in range(n_users):
            alerts.journal_alert(db, FIRST_USER + i, alerts.DIGEST, week, text, utc_now())
    db.close()
    return db_path, model_path, fill_ms


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


async def run(args: argparse.Namespace, db_path: Path, model_path: Path) -> list[dict]:
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
    application = build_application(settings, service)
    rows = []
    async with application:
        await application.post_init(application)
        await application.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        await application.start()
        try:
            # The writer alone.
            quiet: list[float] = []
            stop = asyncio.Event()
            task = asyncio.create_task(writer(server, stop, quiet))
            await asyncio.sleep(args.quiet_seconds)
            stop.set()
            await task
            rows.append(
                {
                    "run": "no broadcast",
                    "sent": 0,
                    "seconds": args.quiet_seconds,
                    "latencies": quiet,
                }
            )
            # The broadcast, the writer meanwhile.
            busy: list[float] = []
            stop = asyncio.Event()
            task = asyncio.create_task(writer(server, stop, busy))
            started = time.monotonic()
            sent = await application.bot_data.alerts.run(application)  # as the job runs
            seconds = time.monotonic() - started
            stop.set()
            await task
            rows.append(
                {
                    "run": f"broadcast to {args.users:,}",
                    "sent": sent,
                    "seconds": seconds,
                    "latencies": busy,
                }
            )
        finally:
            await application.updater.stop()
            await application.stop()
    await application.post_shutdown(application)
    per_chat = [len(server.sent_messages(FIRST_USER + i)) for i in range(args.users)]
    rows[-1]["missing"] = sum(1 for n in per_chat if n == 0)
    rows[-1]["repeated"] = sum(1 for n in per_chat if n > 1)
    server.stop_thread()
    db.close()
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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db_path, model_path, fill_ms = prepare(Path(tmp), args.users)
        rows = asyncio.run(run(args, db_path, model_path))
    print(f"bench_alerts {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; fill: {fill_ms:.1f} ms/digest")
    print(
        "| run | alerts sent | seconds | alerts/s | writer replies | p50 s | p99 s | max s |"
        " missing | repeated |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        lat = r["latencies"]
        rate = r["sent"] / r["seconds"] if r["sent"] else 0.0
        print(
            f"| {r['run']} | {r['sent']:,} | {r['seconds']:.1f} | {rate:.1f} | {len(lat)} | "
            f"{statistics.median(lat) if lat else float('nan'):.3f} | {_p(lat, 0.99):.3f} | "
            f"{max(lat) if lat else float('nan'):.3f} | {r.get('missing', '-')} | "
            f"{r.get('repeated', '-')} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
