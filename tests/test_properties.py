"""Arbitrary input at the command layer: every message and tap is answered, nothing raises,
and the database stays valid."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from bot.commands.conversation import Chat, Conversation, Sender
from bot.ui.replies import MAX_TEXT, Outcome
from tests.helpers import examples

COMMANDS = [
    "start", "help", "rate", "recommend", "similar", "myratings", "forget", "cancel", "join",
    "leave", "grouprec", "taste", "map", "undo", "hidden", "nosuch",
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
        st.sampled_from(list("rashplgmfxzdnk")),
        st.integers(-(2**70), 2**70),
        st.integers(-20, 20),
    ),
    st.builds(
        lambda verb, a: f"{verb}:{a}",
        st.sampled_from(list("rashplgmfxzdnk")),
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
                if button.url is not None:  # a link button
                    assert button.url.startswith("https://")
                else:
                    assert 0 < len(button.data.encode()) <= 64
                assert button.label


def _check_database(db: Database) -> None:
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    bad = db.execute("SELECT count(*) FROM ratings WHERE rating NOT BETWEEN 1 AND 10")
    assert bad.fetchone()[0] == 0


@settings(
    max_examples=examples(150),
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
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sender=senders, chat=chats, data=callback_data)
def test_every_tap_gets_an_answer_and_nothing_raises(service, sender, chat, data) -> None:
    outcome = Conversation(service).on_button(sender, chat, data)
    _check_answer(outcome)
    assert outcome.toast or outcome.edit or outcome.replies, f"no answer to tap {data!r}"
    _check_database(service.db)


# Names as Telegram allows them: only spaces of any kind, invisible and control characters,
# combining marks, TeX for matplotlib, very long.
ODD_CHARACTERS = " \u00a0\t\n\u200b\u200c\u200d\u2060\ufeff\u202e\u2028\u0301\x00\x1b\x7f$^\\_{}"
display_names = st.one_of(
    st.none(),
    st.text(alphabet=ODD_CHARACTERS, max_size=40),
    st.text(alphabet=st.sampled_from(ODD_CHARACTERS + "Ann$x^"), max_size=40),
    st.text(max_size=300),
)


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=display_names)
@example(name=" ")
@example(name="\u00a0")
@example(name="\t")
@example(name="\u200b")
@example(name="$x^$")
def test_any_display_name_greets_joins_and_leaves(service, name) -> None:
    conversation = Conversation(service, bot_username="moviebot_test_bot")
    sender = Sender(7, name, "en")
    answers = [
        conversation.on_text(sender, Chat(7, True), "/start"),
        conversation.on_text(sender, Chat(-100, False), "/join"),
        conversation.on_text(sender, Chat(-100, False), "/grouprec 3"),
        conversation.on_text(sender, Chat(-100, False), "/leave"),
    ]
    for outcome in answers:
        _check_answer(outcome)
        assert outcome.replies
        for reply in outcome.replies:
            # Only line breaks of the bot's own; nothing invisible or controlling from a name.
            shown = reply.text.replace("\n", "")
            assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in shown)
    stored = service.db.execute("SELECT display_name FROM users WHERE id = 7").fetchone()[0]
    assert stored is None or (stored == stored.strip() and 0 < len(stored) <= 64)
    _check_database(service.db)
