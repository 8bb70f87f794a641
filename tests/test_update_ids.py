"""Update ids and the journal's contents: a redelivery is answered once, a new update that
reuses an old id is answered as new, and whatever an update holds, the journal keeps it
exactly or keeps none of it (quarantined)."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database
from telegram import Update
from telegram.ext import Application

from bot.commands.conversation import Conversation
from bot.telegram.delivery import UNREADABLE_KEY, BotRuntime
from devtools.app import messages, run_bot
from devtools.catalog import FROZEN, TED
from devtools.fake_telegram.server import FakeTelegram
from storage import journal, ratings
from storage.errors import InvalidArgument
from tests.helpers import examples

ANN = 1101
MAX_ID = 2**62


def test_a_new_update_that_reuses_a_done_id_is_answered(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    """Telegram numbers updates from a new random start after a week without getUpdates: an
    id the journal has as done can come again with another update; it used to be dropped."""
    first: list[int] = []

    async def before(app: Application) -> None:
        first.append(fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann"))
        await messages(fake_telegram, ANN, 1)
        await fake_telegram.wait_for_confirmation(first[0])

    run_bot(fake_telegram, service, settings, before)
    assert journal.get_entry(catalog_db, first[0]).done

    async def a_week_later(app: Application) -> None:
        fake_telegram.restart_update_ids(first[0])
        reused = fake_telegram.send_text(ANN, "/rate Frozen 9", first_name="Ann")
        assert reused == first[0]
        sent = await messages(fake_telegram, ANN, 2)
        assert sent[1]["text"] == "Frozen (2013): 9/10 ✓"

    run_bot(fake_telegram, service, settings, a_week_later)
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 8, FROZEN: 9}


payloads = st.dictionaries(
    st.text(max_size=8), st.one_of(st.text(max_size=40), st.integers()), max_size=4
).map(lambda d: json.dumps(d, ensure_ascii=False))
operations = st.lists(
    st.tuples(
        st.sampled_from(["record", "done"]),
        st.integers(1, 6),  # few ids, so they collide
        payloads,
    ),
    max_size=25,
)
FUZZ = settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(ops=operations)
def test_the_journal_keeps_each_update_once_and_nothing_of_a_done_one(db: Database, ops) -> None:
    """Against a model: recording an update already there changes nothing (a redelivery),
    except a done one with another payload (a reused id), which starts over as new; a done
    update keeps no payload and no answer; unfinished_updates lists exactly the rest."""
    db.execute("DELETE FROM updates")
    model: dict[int, tuple[str, bool, str | None]] = {}  # id -> (payload, done, done payload)
    for op, update_id, payload in ops:
        if op == "record":
            new = journal.record_updates(db, [(update_id, payload)])
            old = model.get(update_id)
            if old is None or (old[1] and old[2] is not None and old[2] != payload):
                assert new == 1
                model[update_id] = (payload, False, None)
            else:
                assert new == 0
        elif update_id in model and not model[update_id][1]:
            journal.save_outcome(db, update_id, '{"replies": []}')
            journal.mark_done(db, update_id)
            stored = model[update_id][0]
            model[update_id] = ("{}", True, stored if stored != "{}" else None)
    for update_id, (payload, done, _) in model.items():
        entry = journal.get_entry(db, update_id)
        assert entry is not None and entry.done == done
        assert entry.payload == payload
        if done:
            assert entry.outcome is None
    unfinished = [e.update_id for e in journal.unfinished_updates(db, journal.MAX_ATTEMPTS)]
    assert unfinished == sorted(i for i, (_, done, _) in model.items() if not done)


@FUZZ
@given(update_id=st.one_of(st.integers(), st.integers(MAX_ID - 3, MAX_ID + 3)))
def test_an_update_id_is_stored_exactly_or_refused_before_any_write(
    db: Database, update_id: int
) -> None:
    db.execute("DELETE FROM updates")
    if -MAX_ID < update_id < MAX_ID:
        assert journal.record_updates(db, [(update_id, "{}")]) == 1
        assert journal.get_entry(db, update_id).update_id == update_id
    else:
        with pytest.raises(InvalidArgument):
            journal.record_updates(db, [(1, "{}"), (update_id, "{}")])
        assert db.execute("SELECT count(*) FROM updates").fetchone()[0] == 0


texts = st.text(alphabet=st.characters(codec=None), max_size=60)  # lone surrogates too


@FUZZ
@given(text=texts, update_id=st.integers(1, 2**31))
def test_whatever_a_message_holds_the_journal_keeps_it_exactly_or_none_of_it(
    service, settings, text: str, update_id: int
) -> None:
    service.db.execute("DELETE FROM updates")
    runtime = BotRuntime(service, Conversation(service))
    update = Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": ANN, "type": "private", "first_name": "Ann"},
                "from": {"id": ANN, "is_bot": False, "first_name": "Ann"},
                "text": text,
            },
        },
        None,
    )
    try:
        asyncio.run(runtime.record([update]))
    finally:
        runtime.db_thread.shutdown()
    entry = journal.get_entry(service.db, update_id)
    assert entry is not None and not entry.done
    stored = json.loads(entry.payload)
    if UNREADABLE_KEY in stored:
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        assert set(stored) == {"update_id", UNREADABLE_KEY}
        assert stored[UNREADABLE_KEY]["chat"] == {"id": ANN}
        assert runtime.unreadable == {update_id: ANN}
    else:
        assert stored["message"]["text"] == text
        assert stored == update.to_dict()
