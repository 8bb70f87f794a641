"""What several test modules share (test modules do not import each other): people and chats
talking to the command layer, database snapshots, PNG sizes, waiting for a condition, and the
number of examples a property test runs."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import string
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from babel.messages.pofile import read_po
from hypothesis import settings
from sqlite_utils import Database

from bot.commands.conversation import Chat, Conversation, Sender
from bot.ui import i18n
from bot.ui.html import to_plain
from bot.ui.replies import Outcome
from devtools import PATIENCE
from recommender import ModelConfig, Ratings
from recommender.content import MovieContent

if TYPE_CHECKING:
    from devtools.fake_telegram.server import FakeTelegram

ANN = Sender(1001, "Ann Smith", "en")
BOB = Sender(1002, "Bob", "en")
PRIVATE = Chat(1001, is_private=True)
GROUP = Chat(-100500, is_private=False)


def examples(full: int) -> int:
    """How many examples a property test runs: `full` in the gate (hypothesis profile "ci",
    ./scripts/test), the profile's few in the fast run ("dev", tests/conftest.py)."""
    return min(full, settings.default.max_examples)


def wait_until(
    condition: Callable[[], object], timeout: float = PATIENCE, what: str = "condition"
) -> object:
    """Poll `condition()` until it returns something true, and return that; fail after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} never held in {timeout:.0f} s"
        time.sleep(0.02)
    return result


async def until(condition: Callable[[], bool], timeout: float = PATIENCE) -> None:
    """Wait until `condition()` holds (an edit arrives a moment after the tap's answer)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.02)


async def answered(server: FakeTelegram, update_id: int, timeout: float = PATIENCE) -> dict:
    """The bot's answer to the tap `update_id`, once it has come."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = server.callback_answer(update_id)
        if answer is not None:
            return answer
        await asyncio.sleep(0.02)
    raise AssertionError(f"tap {update_id} was never answered")


@functools.cache
def english_phrases(language: str) -> frozenset[str]:
    """Runs of four or more English words from the bot's messages that `language`'s
    translations do not contain: finding one in a reply means a string went out untranslated."""
    with i18n.catalogue_path(language).open("rb") as po:
        entries = [m for m in read_po(po, locale=language) if m.id]
    phrases = set()
    for entry in entries:
        ids = (entry.id,) if isinstance(entry.id, str) else entry.id
        translated = " ".join((entry.string,) if isinstance(entry.string, str) else entry.string)
        for msgid in ids:
            for literal, *_ in string.Formatter().parse(msgid):
                for part in literal.split("\n"):
                    part = part.strip(" .,:;()")
                    if len(part.split()) >= 4 and part not in translated:
                        phrases.add(part)
    return frozenset(phrases)


class Talk:
    """One person in one chat, talking to the command layer."""

    def __init__(self, conversation: Conversation, sender: Sender, chat: Chat) -> None:
        self.conversation, self.sender, self.chat = conversation, sender, chat

    def say(self, text: str) -> Outcome:
        return self._checked(self.conversation.on_text(self.sender, self.chat, text))

    def tap(self, data: str) -> Outcome:
        return self._checked(self.conversation.on_button(self.sender, self.chat, data))

    def _checked(self, outcome: Outcome) -> Outcome:
        """The outcome, once no English is found in it when the person speaks another
        language."""
        language = i18n.choose(self.sender.language)
        if language != i18n.DEFAULT:
            replies = ([outcome.edit] if outcome.edit else []) + outcome.replies
            texts = [outcome.toast or ""] + [reply.text for reply in replies]
            texts += [b.label for reply in replies for row in reply.buttons for b in row]
            for text in texts:
                english = [p for p in english_phrases(language) if p in text]
                assert not english, f"untranslated in {language}: {english} in {text!r}"
        return outcome

    def text(self, text: str) -> str:
        """Everything the bot answered to `text`, as one string (what a person reads)."""
        return "\n".join(to_plain(reply.text) for reply in self.say(text).replies)


def button_data(outcome: Outcome) -> list[str]:
    replies = ([outcome.edit] if outcome.edit else []) + outcome.replies
    return [b.data for reply in replies for row in reply.buttons for b in row if b.data]


def snapshot(db: Database) -> list[tuple[str, int, str]]:
    """Every rating, group membership and hidden movie, as (table, rows, digest of the rows in
    key order): equal snapshots, equal rows. The catalog holds ~100,000 ratings; SQLite writes
    them out as one JSON text (~0.07 s), where Python tuples cost ~0.15 s a snapshot."""
    tables = []
    for table in ("ratings", "chat_members", "hidden_movies"):
        columns = [column.name for column in db[table].columns]
        row = ", ".join(f"[{column}]" for column in columns)
        (rows, text) = db.execute(
            f"SELECT count(*), json_group_array(json_array({row})) FROM "
            f"(SELECT * FROM [{table}] ORDER BY [{columns[0]}], [{columns[1]}])"
        ).fetchone()
        tables.append((table, rows, hashlib.sha256(text.encode()).hexdigest()))
    return tables


def rows_mentioning(db: Database, *needles: str) -> dict[str, int]:
    """Per table, the rows in which any column's text contains any of `needles`."""
    found: dict[str, int] = {}
    for table in db.table_names():
        columns = [c.name for c in db[table].columns]
        where = " OR ".join(f"instr(CAST([{c}] AS TEXT), ?) > 0" for c in columns for _ in needles)
        params = [n for _ in columns for n in needles]
        (count,) = db.execute(f"SELECT count(*) FROM [{table}] WHERE {where}", params).fetchone()
        if count:
            found[table] = count
    return found


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the PNG signature."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


# ------------------------------------------------------------ films nobody rated yet

# Two tastes: comedy fans rate comedies high and a few horror films low, horror fans the other
# way round. Films 1-40 are comedies, 101-140 horror films; 1000 (a comedy) and 1001 (a horror
# film) are from 2025 and nobody has rated them.
COMEDIES, HORRORS = list(range(1, 41)), list(range(101, 141))
NEW_COMEDY, NEW_HORROR = 1000, 1001
SMALL = ModelConfig(rank=5, implicit_rank=5)


def two_tastes(n_users: int = 60, seed: int = 0) -> Ratings:
    rng = np.random.default_rng(seed)
    users, movies, values = [], [], []
    for u in range(n_users):
        liked, other = (COMEDIES, HORRORS) if u % 2 == 0 else (HORRORS, COMEDIES)
        for m in rng.choice(liked, size=30, replace=False):
            users.append(u), movies.append(int(m)), values.append(float(rng.integers(7, 11)))
        for m in rng.choice(other, size=3, replace=False):
            users.append(u), movies.append(int(m)), values.append(float(rng.integers(2, 5)))
    return Ratings(np.array(users), np.array(movies), np.array(values))


def two_tastes_content() -> MovieContent:
    films = COMEDIES + HORRORS + [NEW_COMEDY, NEW_HORROR]
    genres = [("Comedy",)] * 40 + [("Horror",)] * 40 + [("Comedy",), ("Horror",)]
    years = [1990 + k % 20 for k in range(80)] + [2025, 2025]
    return MovieContent.build(
        films,
        genres,
        years,
        prior_rating=[None] * 80 + [7.5, 7.5],
        prior_votes=[None] * 80 + [5000, 5000],
    )
