"""The real `moviebot run` under bad luck: a flooding user, a 502, a full disk (issue 15).

Each scenario runs the bot as deployed (a `moviebot run` subprocess long-polling FakeTelegram,
a fresh database from `moviebot init` + `moviebot train`, Telegram's ~30 messages/s limiter on)
and prints one table:

- flood: one user sends FLOOD messages (/recommend 5, the heaviest common command) at once;
  meanwhile another user sends a /rate every second: that user's reply latency (p50 and max),
  how long the flood took to be answered, and how often the flooder was told to slow down.
- 502: one sendMessage answers 502 Bad Gateway; a user sends /rate then /help: the time to the
  /rate's reply (delivered by the retry) and whether the two replies came in order. Repeated.
- disk full: the bot's file-size limit drops to 4 KiB (devtools/disk.disk_full: every write
  fails, as on a full disk) for DISK_SECONDS while 20 users send a message each second; then
  the limit is lifted: getUpdates calls per second during the fault, the time from the fault
  clearing to a fresh user's reply and to the last backlog reply, and how many messages sent
  during the fault were never answered.

Run from the repository root (about 3 minutes):

    .venv/bin/python bench/faults_bot.py
    .venv/bin/python bench/faults_bot.py --flood 1000 --disk-seconds 30
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load_bot import BotProcess, popular_labels, prepare_database, wait_until_polling  # noqa: E402
from bot.telegram.ptb_classes import SLOW_DOWN  # noqa: E402
from devtools.disk import disk_full  # noqa: E402
from devtools.fake_telegram.server import FakeTelegram  # noqa: E402

FLOODER, PROBE, C502, FRESH = 900_001, 900_002, 900_003, 900_004
DISK_USERS = list(range(910_001, 910_021))


def _reply_latency(server: FakeTelegram, user: int, text: str, timeout: float = 120) -> float:
    """Seconds from `user` sending `text` to the bot's next message in their chat."""
    sent = time.monotonic()
    update_id = server.send_text(user, text, first_name=f"U{user}")
    server.wait_for_reply_sync(user, after=update_id, timeout=timeout)
    return time.monotonic() - sent


def _wait_count(server: FakeTelegram, user: int, count: int, timeout: float) -> float:
    """Wait until the bot sent `count` messages to `user`; return when (monotonic)."""
    deadline = time.monotonic() + timeout
    while len(server.sent_messages(user)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{user}: {len(server.sent_messages(user))} of {count} replies")
        time.sleep(0.02)
    return time.monotonic()


def flood(server: FakeTelegram, labels: list[str], count: int) -> list[tuple[str, str]]:
    start = time.monotonic()
    for _ in range(count):
        server.send_text(FLOODER, "/recommend 5", first_name="Flood")
    probes = []
    while len(server.sent_messages(FLOODER)) < count and time.monotonic() - start < 300:
        label = labels[len(probes) % len(labels)]
        probes.append(_reply_latency(server, PROBE, f"/rate {label} 8"))
        time.sleep(1)
    done = _wait_count(server, FLOODER, count, 300)
    told = sum(m["text"] == SLOW_DOWN for m in server.sent_messages(FLOODER))
    return [
        (f"flood: {count} messages from one user", ""),
        (
            "  another user's reply, p50 / max",
            f"{statistics.median(probes):.2f} / {max(probes):.2f} s ({len(probes)} probes)",
        ),
        ("  the flood answered in", f"{done - start:.1f} s"),
        ("  'slow down' replies to the flooder", str(told)),
    ]


def bad_gateway(server: FakeTelegram, labels: list[str], repeats: int) -> list[tuple[str, str]]:
    latencies, in_order = [], 0
    for i in range(repeats):
        before = len(server.sent_messages(C502))
        server.inject_fault("bad_gateway", "sendMessage", times=1)
        sent = time.monotonic()
        server.send_text(C502, f"/rate {labels[i]} 7", first_name="C")
        server.send_text(C502, "/help", first_name="C")
        arrived = _wait_count(server, C502, before + 1, 120)
        latencies.append(arrived - sent)
        _wait_count(server, C502, before + 2, 120)
        texts = [m["text"] for m in server.sent_messages(C502)[before:]]
        in_order += "7/10" in texts[0] and texts[1].startswith("I learn")
        time.sleep(0.5)
    server.violations.clear()  # the 502s were ours
    return [
        ("one 502 on sendMessage", ""),
        (
            "  the answer delivered after, p50 / max",
            f"{statistics.median(latencies):.2f} / {max(latencies):.2f} s ({repeats} runs)",
        ),
        ("  the next answer after it (in order)", f"{in_order} of {repeats}"),
    ]


def full_disk(server: FakeTelegram, bot: BotProcess, seconds: float) -> list[tuple[str, str]]:
    counts = {u: len(server.sent_messages(u)) for u in DISK_USERS}
    polls_before = len(server.calls_of("getUpdates"))
    sent = 0
    with disk_full(bot.pid):
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            for user in DISK_USERS:
                server.send_text(user, "/help", first_name=f"U{user}")
                sent += 1
            time.sleep(1)
        during = time.monotonic() - start
        polls = len(server.calls_of("getUpdates")) - polls_before
    cleared = time.monotonic()
    fresh = _reply_latency(server, FRESH, "/help")
    per_user = sent // len(DISK_USERS)
    last = max(_wait_count(server, u, counts[u] + per_user, 300) for u in DISK_USERS)
    unanswered = sum(
        max(0, counts[u] + per_user - len(server.sent_messages(u))) for u in DISK_USERS
    )
    errors = [line.text for line in bot.log if "cannot store updates" in line.text]
    recovered = [line.text for line in bot.log if "storing updates works again" in line.text]
    return [
        (f"disk full for {seconds:.0f} s, {len(DISK_USERS)} users sending", ""),
        ("  getUpdates per second during", f"{polls / during:.2f} ({polls} calls)"),
        ("  a fresh user's reply after it cleared", f"{fresh:.2f} s"),
        ("  the last backlog reply after it cleared", f"{last - cleared:.2f} s"),
        ("  messages sent during it never answered", f"{unanswered} of {sent}"),
        ("  log lines: failing / recovered", f"{len(errors)} / {len(recovered)}"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=1000, help="messages (default 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="502 runs (default 5)")
    parser.add_argument("--disk-seconds", type=float, default=30.0, help="(default 30)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="moviebot-faults-") as tmp:
        db_path, model_path = prepare_database(Path(tmp))
        labels = popular_labels(db_path, 50)
        server = FakeTelegram().run_in_thread()
        bot = BotProcess(server.url, db_path, model_path, refit_minutes=0, rate_limit=True)
        try:
            wait_until_polling(server, bot)
            _reply_latency(server, PROBE, "/help")  # warm up
            rows = flood(server, labels, args.flood)
            rows += bad_gateway(server, labels, args.repeats)
            rows += full_disk(server, bot, args.disk_seconds)
        finally:
            exit_code = bot.stop()
            server.stop_thread()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if server.violations:
        print(f"Bot API violations: {server.violations[:3]}")
    print(f"bot exit code on SIGINT: {exit_code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
