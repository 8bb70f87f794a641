"""Arbitrary input at the command layer: every message and tap is answered, nothing raises,
and the database stays valid."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from bot.conversation import Chat, Conversation, Sender
from bot.replies import MAX_TEXT, Outcome

COMMANDS = [
    "start", "help", "rate", "recommend", "similar", "myratings", "forget", "cancel", "join",
    "leave", "grouprec", "taste", "map", "nosuch",
]  # fmt: skip
TITLES = ["Ted", "frozen", "toy story", "harold kumar", "cinderella 2015", "zzqx", "🎬", ""]

messages = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda cmd, at, args: f"/{cmd}{at} {args}",
        st.sampled_from(COMMANDS),
        st.sampled_from(["", "@moviebot_test_bot", "@other_bot", "@"]),
        st.one_of(
            st.text(max_size=60),
            st.builds(
                lambda t, s: f"{t} {s}",
                st.sampled_from(TITLES),
                st.sampled_from(["8", "0", "11", "7.5", "-1", "abc", "10/10", "1e3", ""]),
            ),
        ),
    ),
    st.text(alphabet=st.characters(), min_size=4000, max_size=4200),
)
callback_data = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda verb, a, b: f"{verb}:{a}:{b}",
        st.sampled_from(list("rashplgmfxz")),
        st.integers(-(2**70), 2**70),
        st.integers(-20, 20),
    ),
    st.builds(
        lambda verb, a: f"{verb}:{a}",
        st.sampled_from(list("rashplgmfxz")),
        st.sampled_from([1, 95441, 106696, 0, -1, 999_999_999]),
    ),
)
senders = st.builds(
    Sender,
    st.sampled_from([1, 2, 3, 2**40]),
    st.one_of(st.none(), st.text(max_size=300)),
    st.one_of(st.none(), st.text(max_size=20)),
)
chats = st.sampled_from([Chat(1, True), Chat(-100, False)])


def _check_answer(outcome: Outcome) -> None:
    for reply in [*outcome.replies, *([outcome.edit] if outcome.edit else [])]:
        assert 0 < len(reply.text) <= MAX_TEXT
        for row in reply.buttons:
            for button in row:
                assert 0 < len(button.data.encode()) <= 64
                assert button.label


def _check_database(db: Database) -> None:
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    bad = db.execute("SELECT count(*) FROM ratings WHERE rating NOT BETWEEN 1 AND 10")
    assert bad.fetchone()[0] == 0


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sender=senders, chat=chats, text=messages)
@example(sender=Sender(1), chat=Chat(1, True), text="/ñ")
@example(sender=Sender(1), chat=Chat(1, True), text="/")
@example(sender=Sender(1), chat=Chat(1, True), text="/rate@")
@example(sender=Sender(1), chat=Chat(1, True), text="/rate\nTed 8")
def test_every_message_gets_an_answer_and_nothing_raises(service, sender, chat, text) -> None:
    conversation = Conversation(service, bot_username="moviebot_test_bot")
    outcome = conversation.on_text(sender, chat, text)
    _check_answer(outcome)
    head = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    addressee = head.partition("@")[2] if head.startswith("/") else ""
    if chat.is_private and addressee.casefold() in ("", "moviebot_test_bot"):
        assert outcome.replies, f"no answer to {text!r}"
    _check_database(service.db)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sender=senders, chat=chats, data=callback_data)
def test_every_tap_gets_an_answer_and_nothing_raises(service, sender, chat, data) -> None:
    outcome = Conversation(service).on_button(sender, chat, data)
    _check_answer(outcome)
    assert outcome.toast or outcome.edit or outcome.replies, f"no answer to tap {data!r}"
    _check_database(service.db)
