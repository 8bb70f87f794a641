"""Nothing acknowledged is lost: the update journal, redelivery, failed sends and kill -9."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database
from telegram import Update
from telegram.ext import Application

from bot.telegram.app import CONCURRENT_CHATS, build_application
from bot.telegram.ptb_classes import JournalingQueue
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from devtools import PATIENCE
from devtools.app import buttons, messages, run_bot
from devtools.bot_process import start_bot
from devtools.catalog import FROZEN, TED, popular_titles
from devtools.fake_telegram.server import FakeTelegram
from devtools.fake_telegram.webhook import free_port, post_update, take_update
from devtools.fixtures import fail_on_violations
from storage import journal, ratings
from storage.db import connect

ANN = 601


async def _done(db: Database, update_id: int, timeout: float = 10) -> journal.JournalEntry:
    """The update's journal entry once it is marked done (just after its reply went out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = journal.get_entry(db, update_id)
        if entry is not None and entry.done:
            return entry
        await asyncio.sleep(0.02)
    raise AssertionError(f"update {update_id} was never marked done")


def test_an_update_delivered_twice_is_answered_once(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        update_id = fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        original = next(u for u in fake_telegram.world.updates if u["update_id"] == update_id)
        await messages(fake_telegram, ANN, 1)
        await fake_telegram.wait_for_confirmation(update_id)
        entry = await _done(catalog_db, update_id)
        assert entry.outcome is None  # a done update keeps no content (storage/journal.py)
        # Telegram (or a restart) hands the very same update over again.
        again = Update.de_json(copy.deepcopy(original), app.bot)
        await app.update_queue.put(again)
        fake_telegram.send_text(ANN, "/help", first_name="Ann")
        sent = await messages(fake_telegram, ANN, 2)
        await asyncio.sleep(0.2)
        assert [m["text"][:10] for m in fake_telegram.sent_messages(ANN)] == [
            "Ted (2012)",
            sent[1]["text"][:10],
        ]

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 8}


def test_a_failed_send_is_retried_soon_with_the_same_answer_and_in_order(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.inject_fault("bad_gateway", "sendMessage", times=1)
        update_id = fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        later = fake_telegram.send_text(ANN, "/rate Ted 5", first_name="Ann")
        for _ in range(200):
            entry = journal.get_entry(catalog_db, update_id)
            if entry is not None and entry.attempts > 0:
                break
            await asyncio.sleep(0.02)
        assert entry.attempts == 1 and not entry.done
        assert fake_telegram.sent_messages(ANN) == []
        # The rating was stored with the answer, before the send failed.
        assert ratings.user_ratings(catalog_db, ANN) == {TED: 8}
        # Retried about a second later, before the chat's next update: the stored answer,
        # not a recomputed "unchanged".
        sent = await messages(fake_telegram, ANN, 2, timeout=5)
        assert [m["text"] for m in sent] == [
            "Ted (2012): 8/10 ✓",
            "Ted (2012): 5/10 ✓ (replaces your earlier 8/10)",
        ]
        await _done(catalog_db, update_id)
        await _done(catalog_db, later)
        await asyncio.sleep(0.2)
        assert len(fake_telegram.sent_messages(ANN)) == 2

    run_bot(fake_telegram, service, settings, scenario)
    fake_telegram.violations.clear()  # the 502s were ours, on purpose


def test_flood_control_is_respected_and_the_reply_arrives(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    async def scenario(app: Application) -> None:
        fault = fake_telegram.inject_fault("flood", "sendMessage", times=1, retry_after=1)
        fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        sent = await messages(fake_telegram, ANN, 1, timeout=PATIENCE)
        assert sent[0]["text"] == "Ted (2012): 8/10 ✓"
        assert fault.retry_delay() >= 1.0  # never before retry_after

    run_bot(fake_telegram, service, settings, scenario)


def test_updates_received_before_a_crash_are_answered_first_on_start(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    # As if the last run had fetched (and so confirmed) this update, then died.
    chat = {"id": ANN, "type": "private", "first_name": "Ann"}
    payload = {
        "update_id": 999_001,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": ANN, "is_bot": False, "first_name": "Ann"},
            "text": "/rate Ted 9",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    journal.record_updates(catalog_db, [(999_001, json.dumps(payload))])
    fake_telegram.add_chat(ANN, first_name="Ann")

    async def scenario(app: Application) -> None:
        assert (await messages(fake_telegram, ANN, 1))[0]["text"] == "Ted (2012): 9/10 ✓"
        await _done(catalog_db, 999_001)

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 9}


def _start_bot(
    server: FakeTelegram, db_path: Path, model_path: Path, webhook_port: int | None = None
) -> subprocess.Popen:
    return start_bot(
        server.url,
        db_path,
        model_path,
        refit_minutes=0,
        rate_limit=False,
        webhook_port=webhook_port,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture(params=["polling", "webhook"])
def telegram_and_port(request: pytest.FixtureRequest) -> Iterator[tuple[FakeTelegram, int | None]]:
    """A FakeTelegram for a bot that long-polls, or one that pushes updates to its webhook
    (then also the port the bot listens on)."""
    webhook = request.param == "webhook"
    server = FakeTelegram(push_webhook=webhook).run_in_thread()
    try:
        yield server, free_port() if webhook else None
    finally:
        server.stop_thread()
    fail_on_violations(server)


def test_kill_minus_9_mid_load_loses_nothing_and_answers_everything(
    telegram_and_port: tuple[FakeTelegram, int | None],
    catalog_db_path: Path,
    catalog_model_path: Path,
) -> None:
    fake_telegram, port = telegram_and_port
    db = connect(catalog_db_path)
    labels = popular_titles(db, 40)
    popular = list(labels)
    users = list(range(700_001, 700_041))
    sent: dict[int, list[tuple[int, int]]] = {u: [] for u in users}  # user -> (movie, score)
    bot = _start_bot(fake_telegram, catalog_db_path, catalog_model_path, port)
    try:
        fake_telegram.wait_for_calls_sync(
            "setWebhook" if port else "getUpdates", 1, timeout=PATIENCE
        )
        for i in range(200):
            user = users[i % len(users)]
            movie = popular[(i // len(users)) % len(popular)]
            score = 1 + (i * 7) % 10
            sent[user].append((movie, score))
            text = f"/rate {labels[movie]} {score}"
            fake_telegram.send_text(user, text, first_name=f"U{user}")
        # Kill -9 once about a third has been answered.
        deadline = time.monotonic() + PATIENCE
        while sum(len(fake_telegram.sent_messages(u)) for u in users) < 70:
            assert time.monotonic() < deadline, "the bot answered too little"
            time.sleep(0.005)
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=PATIENCE)
        answered_before_kill = {u: len(fake_telegram.sent_messages(u)) for u in users}
        assert 70 <= sum(answered_before_kill.values()) < 200

        bot = _start_bot(fake_telegram, catalog_db_path, catalog_model_path, port)
        deadline = time.monotonic() + PATIENCE
        while sum(len(fake_telegram.sent_messages(u)) for u in users) < 200:
            assert time.monotonic() < deadline, "not every message was answered after restart"
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        bot.send_signal(signal.SIGINT)
        _, stderr = bot.communicate(timeout=PATIENCE)
    assert bot.returncode == 0, stderr.decode()[-2000:]

    total = sum(len(fake_telegram.sent_messages(u)) for u in users)
    # At most one answer per concurrently handled chat is in flight at the kill: only those
    # can have been sent and then killed before being marked done (and are sent again).
    assert 200 <= total <= 200 + CONCURRENT_CHATS
    db = connect(catalog_db_path)
    for user in users:
        stored = ratings.user_ratings(db, user)
        expected = {}
        for movie, score in sent[user]:
            expected[movie] = score  # a later rating of the same movie replaces it
        assert stored == expected
    assert journal.unfinished_updates(db, 100) == []


def _wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def test_questions_asked_before_a_kill_minus_9_are_answered_after_the_restart(
    fake_telegram: FakeTelegram, catalog_db_path: Path, catalog_model_path: Path
) -> None:
    """Conversation state survives a crash: an onboarding card and a rating question sent
    before the kill still work when tapped after the restart."""
    db = connect(catalog_db_path)
    bot = _start_bot(fake_telegram, catalog_db_path, catalog_model_path)
    try:
        fake_telegram.wait_for_calls_sync("getUpdates", 1, timeout=PATIENCE)
        start = fake_telegram.send_text(ANN, "/start", first_name="Ann")
        ask = fake_telegram.send_text(ANN, "/rate Frozen", first_name="Ann")
        _wait_for(lambda: len(fake_telegram.sent_messages(ANN)) == 3, "three messages")
        done = (start, ask)
        _wait_for(lambda: all(_entry_done(db, u) for u in done), "both updates done")
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=PATIENCE)

        bot = _start_bot(fake_telegram, catalog_db_path, catalog_model_path)
        intro, card, question = fake_telegram.sent_messages(ANN)
        assert card["text"].startswith("1/10: ")
        assert question["text"].startswith("How would you rate Frozen (2013)")
        fake_telegram.tap(ANN, card, buttons(card)[7])  # an 8
        _wait_for(lambda: len(fake_telegram.sent_messages(ANN)) == 4, "the next card")
        fake_telegram.tap(ANN, question, callbacks.encode(Verb.RATE, FROZEN, 9))
        _wait_for(
            lambda: fake_telegram.sent_messages(ANN)[2]["text"] == "Frozen (2013): 9/10 ✓",
            "the question edited to the rating",
        )
    finally:
        bot.send_signal(signal.SIGINT)
        _, stderr = bot.communicate(timeout=PATIENCE)
    assert bot.returncode == 0, stderr.decode()[-2000:]

    sent = fake_telegram.sent_messages(ANN)
    assert sent[1]["text"].endswith(": 8/10 ✓")
    assert sent[3]["text"].startswith("2/10: ")
    stored = ratings.user_ratings(connect(catalog_db_path), ANN)
    assert len(stored) == 2 and stored[FROZEN] == 9 and 8 in stored.values()


def _entry_done(db: Database, update_id: int | None) -> bool:
    entry = journal.get_entry(db, update_id) if update_id is not None else None
    return entry is not None and entry.done


def test_a_failing_answer_in_a_group_commit_is_rolled_back_alone(
    service, settings, catalog_db: Database
) -> None:
    from bot.commands.conversation import Chat, Sender
    from bot.telegram.app import build_application

    runtime = build_application(settings, service).bot_data.runtime
    conversation = runtime.conversation

    def rate(user: int, text: str):
        return lambda: conversation.on_text(Sender(user, "U"), Chat(user), text)

    def rate_then_fail():
        conversation.on_text(Sender(3, "C"), Chat(3), "/rate frozen 9")
        raise RuntimeError("boom after a write")

    results = runtime._compute_batch(
        [(11, rate(1, "/rate Ted 8")), (12, rate_then_fail), (13, rate(2, "/rate Ted 4"))]
    )
    assert results[0][0].replies[0].text == "Ted (2012): 8/10 ✓"
    assert isinstance(results[1], RuntimeError)
    assert results[2][0].replies[0].text == "Ted (2012): 4/10 ✓"
    assert ratings.user_ratings(catalog_db, 1) == {TED: 8}
    assert ratings.user_ratings(catalog_db, 2) == {TED: 4}
    assert ratings.user_ratings(catalog_db, 3) == {}  # its write went with its savepoint
    assert journal.get_entry(catalog_db, 11).outcome is not None
    assert journal.get_entry(catalog_db, 12) is None
    runtime.db_thread.shutdown()


def test_a_webhook_update_is_journaled_before_its_post_is_answered(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    """Telegram counts a webhook update as delivered once its POST gets a 200: the update must
    be in SQLite by then. The database thread is held busy, so the journal write (and with it
    the 200) has to wait for it."""
    secret = "webhook-secret_1"
    port = free_port()
    hook = dataclasses.replace(settings, webhook=True)

    async def main() -> None:
        application = build_application(hook, service)
        rt = application.bot_data.runtime
        async with application:
            await application.post_init(application)
            await application.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="telegram",
                webhook_url="https://bot.example.org/telegram",
                secret_token=secret,
            )
            await application.start()
            try:
                update_id = fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
                update = take_update(fake_telegram.pending_updates(), update_id)
                release = threading.Event()
                rt.db_thread.submit(release.wait, 30)  # the database is busy for a while
                url = f"http://127.0.0.1:{port}/telegram"
                post = asyncio.create_task(asyncio.to_thread(post_update, url, update, secret))
                try:
                    await asyncio.sleep(0.5)
                    assert not post.done(), "acknowledged before it was written to SQLite"
                    assert journal.get_entry(catalog_db, update_id) is None
                finally:
                    release.set()
                assert (await post)[0] == 200
                assert journal.get_entry(catalog_db, update_id) is not None
                await messages(fake_telegram, ANN, 1)
                await _done(catalog_db, update_id)
            finally:
                await application.updater.stop()
                await application.stop()
        await application.post_shutdown(application)

    asyncio.run(main())
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 8}


def test_webhook_updates_that_arrive_during_a_write_share_the_next_one() -> None:
    """Group commit in JournalingQueue: while one journal write runs, the updates Telegram
    POSTs meanwhile wait and are stored together; none enters the queue before it is stored,
    and a failed write fails every POST that waited for it (Telegram sends them again)."""

    async def main() -> None:
        writes: list[list[int]] = []
        gate = asyncio.Event()
        fail = False

        async def record(updates: list[Update]) -> None:
            writes.append([u.update_id for u in updates])
            await gate.wait()
            if fail:
                raise OSError("disk full")

        queue = JournalingQueue()
        queue.journal_with(record)
        puts = [asyncio.create_task(queue.put(Update(update_id=1)))]
        await asyncio.sleep(0.05)  # the first write is running
        puts += [asyncio.create_task(queue.put(Update(update_id=i))) for i in range(2, 6)]
        await asyncio.sleep(0.05)
        assert writes == [[1]] and queue.qsize() == 0
        gate.set()
        await asyncio.gather(*puts)
        assert writes == [[1], [2, 3, 4, 5]]
        assert [queue.get_nowait().update_id for _ in range(5)] == [1, 2, 3, 4, 5]

        fail, writes[:] = True, []
        results = await asyncio.gather(
            *(queue.put(Update(update_id=i)) for i in (6, 7)), return_exceptions=True
        )
        assert [type(r) for r in results] == [OSError, OSError]
        assert writes == [[6, 7]] and queue.qsize() == 0

    asyncio.run(main())
