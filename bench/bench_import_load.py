"""A 25,000-row import while 20 other users chat (issue 24's target): their reply latency,
the time to the import's preview, and the bot's peak RSS increase.

The real python-telegram-bot stack of `moviebot run` (bot.telegram.app, in this process)
against FakeTelegram on loopback, on a fresh copy of the bundled catalog with a model fitted
on it. Two phases, side by side in one run:
- "chat only": 20 users each send /help, /recommend, /top in a loop (the next once the last
  is answered, 0.2 s apart) for CHAT_SECONDS;
- "chat + import": the same while a 21st user sends a Letterboxd export .zip of 25,000 rows
  (ratings.csv and watched.csv naming every catalog title once, watchlist.csv the rest:
  titles the catalog lacks, which go through the title search), until its preview arrives.
A reply's latency is from the message sent to the bot's answer seen by FakeTelegram. RSS is
sampled every 20 ms (VmRSS of this process, which runs the bot); the increase is over the
phase's start. The import is planned in the import worker process (bot/telegram/import_desk.py,
at a lower CPU priority): its CPU seconds and peak RSS are printed after the run. The CPU
seconds of each phase (this process) are shown too, as the machine may be shared.

Targets: p99 <= 2 s while importing, preview <= 20 s, peak RSS increase <= 150 MB.

    .venv/bin/python bench/bench_import_load.py              # 25,000 rows, 20 users
    .venv/bin/python bench/bench_import_load.py --rows 5000 --users 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram.ext import Application  # noqa: E402

from devtools.app import run_bot  # noqa: E402
from devtools.bench_bot import bench_bot  # noqa: E402
from devtools.fake_telegram.server import FakeTelegram  # noqa: E402
from devtools.history_files import letterboxd_row, letterboxd_zip  # noqa: E402

CHAT_SECONDS = 15.0
MESSAGES = ("/help", "/recommend", "/top")


def export(db, rows: int) -> bytes:
    """A Letterboxd zip of `rows` rows: every catalog title rated and watched, the rest of
    the rows a watchlist of titles the catalog does not have."""
    films = db.execute("SELECT title, year FROM movies WHERE year IS NOT NULL").fetchall()
    films = films[: rows // 2]
    rated = [letterboxd_row(t, y, 1 + (i % 10) / 2) for i, (t, y) in enumerate(films)]
    watched = [letterboxd_row(t, y) for t, y in films]
    missing = rows - 2 * len(films)
    watchlist = [letterboxd_row(f"Unmade Picture Number {i}", 2001) for i in range(missing)]
    return letterboxd_zip(rated, watched, watchlist)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssPeak:
    """The peak VmRSS while the block runs, sampled every 20 ms."""

    def __enter__(self) -> RssPeak:
        self.start = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def sent_count(server: FakeTelegram, chat_id: int) -> int:
    """How many messages the bot has in the chat (sent_messages copies them all through JSON
    under the server's lock: polled by 20 users that cost more than the bot's own work)."""
    with server._lock:
        return len(server.world.bot_messages(chat_id))


async def chatter(server: FakeTelegram, user: int, until, latencies: list[float]) -> None:
    """One user chatting: a message, wait for its answer, 0.2 s, the next."""
    i = 0
    while not until():
        before = sent_count(server, user)
        start = time.perf_counter()
        server.send_text(user, MESSAGES[i % len(MESSAGES)], first_name=f"User{user}")
        while sent_count(server, user) <= before:
            await asyncio.sleep(0.01)
        latencies.append(time.perf_counter() - start)
        i += 1
        await asyncio.sleep(0.2)


async def phase(server, users: int, data: bytes | None) -> dict:
    """Chat with `users` users for CHAT_SECONDS, or until the import's preview arrives."""
    latencies: list[float] = []
    importer = 99_001
    started = time.perf_counter()
    cpu = time.process_time()
    preview: list[float] = []
    if data is not None:
        server.send_document(importer, data, "letterboxd-export.zip", first_name="Importer")

    def until() -> bool:
        if data is None:
            return time.perf_counter() - started > CHAT_SECONDS
        if not preview and sent_count(server, importer):
            preview.append(time.perf_counter() - started)
        return bool(preview) or time.perf_counter() - started > 600

    with RssPeak() as rss:
        await asyncio.gather(*(chatter(server, 1000 + u, until, latencies) for u in range(users)))
    latencies.sort()
    return {
        "replies": len(latencies),
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max": latencies[-1],
        "preview": preview[0] if preview else None,
        "rss": rss.peak - rss.start,
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=25_000)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args(argv)
    results = {}
    with bench_bot() as bench:
        server = bench.server
        data = export(bench.db, args.rows)

        async def phases(application: Application) -> None:
            results["chat only"] = await phase(server, args.users, None)
            results["chat + import"] = await phase(server, args.users, data)

        run_bot(server, bench.service, bench.settings, phases)
        violations = list(server.violations)
    load = os.getloadavg()[0]
    print(f"{args.rows:,}-row import, {args.users} users chatting; load average {load:.1f}")
    print(
        f"{'phase':<14} {'replies':>7} {'p50 s':>6} {'p99 s':>6} {'max s':>6} "
        f"{'preview s':>9} {'+RSS MB':>8} {'CPU s':>6} {'wall s':>6}"
    )
    for name, r in results.items():
        shown = f"{r['preview']:.1f}" if r["preview"] is not None else "-"
        print(
            f"{name:<14} {r['replies']:>7} {r['p50']:>6.2f} {r['p99']:>6.2f} {r['max']:>6.2f} "
            f"{shown:>9} {r['rss']:>8.0f} {r['cpu']:>6.1f} {r['wall']:>6.1f}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"bot process peak RSS {peak:.0f} MB; import worker process: "
        f"{worker.ru_utime + worker.ru_stime:.1f} CPU s, peak RSS {worker.ru_maxrss / 1024:.0f} MB"
    )
    if violations:
        print("Bot API violations:", *violations, sep="\n  ")
    r = results["chat + import"]
    ok = r["p99"] <= 2 and r["preview"] is not None and r["preview"] <= 20 and r["rss"] <= 150
    return 0 if ok and not violations else 1


if __name__ == "__main__":
    raise SystemExit(main())
