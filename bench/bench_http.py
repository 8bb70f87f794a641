"""CPU per Bot API call: python-telegram-bot's httpx transport against ours on aiohttp.

Starts FakeTelegram (`python -m devtools.fake_telegram.server`) in its own process, so only
the bot side's CPU is counted here, then makes the same `bot.send_message` calls (text plus a
1-10 keyboard, 8 in flight, as the bot does under load) through a real PTB `Bot` on each
transport, alternating, and prints CPU microseconds per call, calls per second and the ratio to
httpx.

    .venv/bin/python bench/bench_http.py [--calls 3000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.request import BaseRequest, HTTPXRequest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.telegram.http_request import AiohttpRequest  # noqa: E402

TOKEN = "123456:BENCH-token"
CHAT = 42
IN_FLIGHT = 8
TRANSPORTS = {
    "httpx (PTB default)": lambda: HTTPXRequest(connection_pool_size=64),
    "aiohttp (bot/telegram/http_request.py)": lambda: AiohttpRequest(connection_pool_size=64),
}


def start_server() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.fake_telegram.server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().split()[-1]
    # A message from the user opens the private chat the calls are sent to.
    control = urllib.request.Request(
        base_url.removesuffix("/bot") + "/_harness/send_text",
        json.dumps({"user_id": CHAT, "text": "/start"}).encode(),
        {"Content-Type": "application/json"},
    )
    urllib.request.urlopen(control, timeout=10).close()
    return process, base_url


async def measure(base_url: str, request: BaseRequest, calls: int) -> tuple[float, float]:
    """CPU seconds and wall seconds for ``calls`` sendMessage calls."""
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(s), callback_data=f"rate:2571:{s}") for s in range(1, 11)]]
    )
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(bot: Bot, n: int) -> None:
        async with gate:
            text = f"The Matrix (1999) — rate it 1-10 ({n})"
            await bot.send_message(CHAT, text, reply_markup=keyboard)

    async with Bot(TOKEN, base_url=base_url, request=request) as bot:
        await asyncio.gather(*(one(bot, n) for n in range(100)))  # warm the pool and caches
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(bot, n) for n in range(calls)))
        return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    process, base_url = start_server()
    try:
        rows: dict[str, list[tuple[float, float]]] = {name: [] for name in TRANSPORTS}
        for _ in range(args.rounds):
            for name, make in TRANSPORTS.items():
                rows[name].append(asyncio.run(measure(base_url, make(), args.calls)))
    finally:
        process.terminate()
        process.wait(timeout=10)

    print(f"{args.calls} sendMessage calls x {args.rounds} rounds, {IN_FLIGHT} in flight")
    print(f"{'transport':>30} {'CPU us/call':>12} {'calls/s':>9} {'CPU vs httpx':>13}")
    baseline = min(cpu for cpu, _ in rows["httpx (PTB default)"])
    for name, runs in rows.items():
        cpu = min(c for c, _ in runs)
        wall = min(w for _, w in runs)
        print(
            f"{name:>30} {cpu / args.calls * 1e6:>12.0f} {args.calls / wall:>9.0f}"
            f" {cpu / baseline:>13.2f}"
        )


if __name__ == "__main__":
    main()
