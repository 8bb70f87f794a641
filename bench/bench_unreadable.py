"""One update python-telegram-bot cannot parse among 100 (issue 24's target): how many are
answered, whether the odd one is quarantined, how many getUpdates results held it
("fetched"), the most getUpdates calls in one second while it was pending (after it was
fetched, up to the call that confirmed it), and whether
anything of it reaches the log beyond its id; then the same after a restart (the odd update
waiting before the bot starts).

The bot's real application (bot.telegram_app, in this process) polls FakeTelegram on
loopback; the odd update is a chat_member whose restricted member lacks `can_edit_tag` (PTB
22.8 requires it). Before the fix: 1,562 getUpdates and 11 MB of CRITICAL log in 30 s, no
answers.

Run from the repository root:

    .venv/bin/python bench/bench_unreadable.py
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.telegram.app import ALLOWED_UPDATES, build_application  # noqa: E402
from devtools.app import messages  # noqa: E402
from devtools.bench_bot import bench_bot  # noqa: E402
from devtools.fake_telegram.objects import chat_member, chat_member_updated  # noqa: E402
from devtools.fake_telegram.server import FakeTelegram  # noqa: E402
from storage import journal  # noqa: E402

NAME = "Zebulonia"
RIGHTS = [
    "can_change_info", "can_invite_users", "can_pin_messages", "can_send_messages",
    "can_send_polls", "can_send_other_messages", "can_add_web_page_previews",
    "can_manage_topics", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_react_to_messages",
]  # fmt: skip


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def odd_update(server: FakeTelegram) -> int:
    server.world.set_allowed_updates(list(ALLOWED_UPDATES))
    user = {"id": 9_999, "is_bot": False, "first_name": NAME}
    chat = server.add_chat(9_999, -1004242, "supergroup", NAME, title="Club")
    new = {"status": "restricted", "user": user, "is_member": True, "until_date": 0}
    new.update(dict.fromkeys(RIGHTS, True))
    change = chat_member_updated(chat, user, chat_member(user, "member"), new, int(time.time()))
    return server.push_update("chat_member", change, -1004242)


async def one_run(server, settings, service, db, first_user: int, before_start: bool) -> tuple:
    users = range(first_user, first_user + 99)
    odd = odd_update(server) if before_start else None
    application = build_application(settings, service)
    async with application:
        await application.post_init(application)
        polls_before = len(server.calls_of("getUpdates"))
        started = time.monotonic()
        await application.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        await application.start()
        try:
            for user in users:
                server.send_text(user, "/help", first_name=f"U{user}")
                if odd is None and user == first_user + 49:
                    odd = odd_update(server)
            for user in users:
                await messages(server, user, 1, timeout=120)
            await server.wait_for_confirmation(odd, timeout=30)
            confirmed = time.monotonic()
        finally:
            await application.updater.stop()
            await application.stop()
    await application.post_shutdown(application)
    calls = server.calls_of("getUpdates")[polls_before:]
    fetched = [c.time for c in calls if any(u["update_id"] == odd for u in c.result or [])]
    # While it is pending: the calls after its first fetch, up to the one that confirmed it.
    pending = [c.time for c in calls if fetched[0] < c.time <= confirmed]
    per_second = max(sum(1 for u in pending if t <= u < t + 1) for t in pending)
    answered = sum(1 for user in users if len(server.sent_messages(user)) == 1)
    entry = journal.get_entry(db, odd)
    quarantined = entry is not None and entry.done and entry.payload == "{}"
    return answered, quarantined, len(fetched), per_second, confirmed - started


def main() -> int:
    handler = Lines()
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    with bench_bot() as bench:
        server, settings, service, db = bench.server, bench.settings, bench.service, bench.db
        rows = [
            ("running", asyncio.run(one_run(server, settings, service, db, 9100, False))),
            ("restart", asyncio.run(one_run(server, settings, service, db, 9300, True))),
        ]
    leaked = sum(NAME in line for line in handler.lines)
    print(f"{'odd update':<10} {'answered':>8} {'quarantined':>11} {'fetched':>7} "
          f"{'polls/s':>7} {'seconds':>8}")  # fmt: skip
    for label, (answered, quarantined, polls, per_second, seconds) in rows:
        print(
            f"{label:<10} {answered:>5}/99 {quarantined!s:>11} {polls:>7} {per_second:>7} "
            f"{seconds:>8.1f}"
        )
    print(f"log lines naming the odd update's member: {leaked} (of {len(handler.lines)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
