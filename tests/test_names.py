"""Display names that are blank, invisible, controlling, TeX or huge: stored, shown and drawn
safely (bot/ui/names.py, bot/files/drawing.py)."""

from __future__ import annotations

import pytest

from bot.commands.conversation import Chat, Conversation, Sender
from bot.files.charts import GroupData, group_data
from bot.files.drawing import group_chart
from bot.ui.names import MAX_NAME, clean_name, first_name
from storage import chats, ratings, users
from tests.helpers import png_size

BLANK = [" ", "\u00a0", "\t", "\u200b", " \u00a0\t\u200b ", "\u202e", "\x00\x1b", "\u0301\u0301"]
GROUP = Chat(-100_777, is_private=False)


@pytest.mark.parametrize("name", [None, "", *BLANK])
def test_a_name_with_nothing_readable_is_none_and_someone(name) -> None:
    assert clean_name(name) is None
    assert first_name(name) == "Someone"
    assert first_name(name, fallback="there") == "there"


@pytest.mark.parametrize(
    ("raw", "clean", "first"),
    [
        ("Ann Smith", "Ann Smith", "Ann"),
        ("  Ann\u00a0\tSmith \n", "Ann Smith", "Ann"),
        ("\u200bAnn\u202e", "Ann", "Ann"),
        ("A\x1b[31mnn", "A[31mnn", "A[31mnn"),
        ("\u200b \u200d Bob", "Bob", "Bob"),
        ("$x^$", "$x^$", "$x^$"),
        ("Z\u0301\u0302\u0303\u0304alg", "Z\u0301\u0302alg", "Z\u0301\u0302alg"),
        ("😀 Ann", "😀 Ann", "😀"),
    ],
)
def test_names_are_cleaned_to_what_can_be_read(raw, clean, first) -> None:
    assert clean_name(raw) == clean
    assert first_name(raw) == first


def test_long_names_are_capped() -> None:
    assert len(clean_name("x" * 1000)) == MAX_NAME
    assert len(first_name("y" * 1000)) == 40


@pytest.mark.parametrize("name", BLANK)
def test_blank_names_can_start_join_and_leave(service, name) -> None:
    conversation = Conversation(service, bot_username="moviebot_test_bot")
    sender = Sender(77, name)
    assert conversation.on_text(sender, Chat(77), "/start").replies[0].text.startswith("Hi there!")
    joined = conversation.on_text(sender, GROUP, "/join").replies[0].text
    assert joined.startswith("Someone joined this chat's movie pool")
    left = conversation.on_text(sender, GROUP, "/leave").replies[0].text
    assert left == "Someone left this chat's movie pool."
    assert users.get_user(service.db, 77).display_name is None


def test_a_tex_name_does_not_break_the_group_picture(service) -> None:
    """matplotlib parsed "$x^$" as mathtext and raised: /grouprec failed for the group."""
    for user_id, name in [(81, "$x^$"), (82, "$\\frac{a}{$"), (83, "a$b$c\\")]:
        users.save_user(service.db, user_id, name)
        ratings.set_rating(service.db, user_id, 1, 8)
        chats.join_pool(service.db, GROUP.chat_id, user_id)
    data = group_data(service, GROUP.chat_id, n=3)
    assert data.members == ("$x^$", "$\\frac{a}{$", "a$b$c\\")
    assert png_size(group_chart(data))[0] == 1080
    odd = GroupData(members=("$x^$",), picks=(("$\\alpha^$ (2001)", 7.0, (7.0,)),))
    assert png_size(group_chart(odd))[0] == 1080
